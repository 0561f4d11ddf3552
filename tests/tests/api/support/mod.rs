//! Shared set-up: databases for both backends, servers in-process or as child processes, and
//! devices that sync through the real sync-core engine.

pub mod db;
pub mod device;
pub mod http;
pub mod process;
pub mod server;

pub use db::{Backend, TestDb};
pub use device::Device;
pub use http::{Api, Reply};
pub use server::TestServer;

/// A small form used across the suite.
pub const FORM_JSON: &str = r#"{
  "id": "outreach", "version": 1, "title": "Outreach contact log",
  "areas": ["north", "south"],
  "questions": [
    { "id": "gender", "type": "single", "label": "Gender", "options": ["f", "m", "x"] },
    { "id": "s1", "type": "likert", "label": "Feels safe at work", "scale": 5 },
    { "id": "help", "type": "multi", "label": "Services named", "options": ["ngo", "police", "clinic"] },
    { "id": "contacts", "type": "integer", "label": "People met", "min": 0, "max": 50 },
    { "id": "visit", "type": "date", "label": "Day of last visit" },
    { "id": "notes", "type": "text", "label": "Notes", "max_len": 100 }
  ]
}"#;

/// Runs each listed test (an `async fn(Backend)` in the enclosing module) against SQLite and
/// against PostgreSQL, as `sqlite::name` and `postgres::name`. The PostgreSQL variants are
/// `#[ignore]`d, so a plain `cargo test` reports them as ignored rather than as passes that ran
/// nothing; `scripts/test` runs them with `--run-ignored only` beside a throwaway cluster.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL: run through scripts/with-postgres with --run-ignored"]
                async fn $name() {
                    super::$name($crate::support::Backend::postgres()).await;
                }
            )*
        }
    };
}

/// A deterministic pseudo-random sequence, seeded from `SURVEY_TEST_SEED` when set so that a
/// failing random run replays exactly; the seed in use is printed.
pub struct Rng(u64);

impl Rng {
    pub fn from_env() -> Rng {
        let seed = std::env::var("SURVEY_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                u64::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..8].try_into().expect("8 bytes"))
            });
        eprintln!("random test seed: SURVEY_TEST_SEED={seed}");
        Rng(seed | 1)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}
