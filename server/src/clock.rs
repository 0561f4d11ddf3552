//! The server's clock, read in one place. Retention measures ages in days the server itself
//! dated (`docs/privacy.md`, "Retention"), and tests must be able to say which day it is without
//! waiting for one to pass: a [`Clock`] is the system's UTC day, or one set by hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sync_core::Day;

/// Cloned with the state it lives in; clones of a set clock share its day.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    set: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock's UTC day.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that stays on `day` until [`Clock::set`] moves it.
    pub fn on(day: Day) -> Clock {
        Clock {
            set: Some(Arc::new(AtomicI64::new(day.to_days()))),
        }
    }

    /// Moves a clock made by [`Clock::on`] to `day` (a system clock keeps the system's day).
    pub fn set(&self, day: Day) {
        if let Some(set) = &self.set {
            set.store(day.to_days(), Ordering::Relaxed);
        }
    }

    pub fn today(&self) -> Day {
        match &self.set {
            Some(set) => Day::from_days(set.load(Ordering::Relaxed)),
            None => today(),
        }
    }
}

/// Today in UTC by the system clock: records subject to retention are dated by the day, never
/// a finer time.
pub fn today() -> Day {
    Day::from_days(unix_now().div_euclid(86_400))
}

/// Unix seconds now (0 on a clock set before 1970).
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
