pub mod survey;
pub mod test_server;

pub use survey::Device;
pub use test_server::TestServer;
