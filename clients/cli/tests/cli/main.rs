//! The `survey` binary driven as a user would, against the real server started in this
//! process on 127.0.0.1:0 with a throwaway SQLite database. One test binary for the crate.

mod busy_site;
mod end_to_end;
mod failures;
mod loadtest;
mod support;
mod withdrawn;
