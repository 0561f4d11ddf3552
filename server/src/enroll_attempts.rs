//! A budget of wrong enrollment codes, per process. `POST /v1/enroll` needs no token, so anyone
//! can try codes there; codes are long enough that guessing is hopeless, but each try still
//! costs a lookup, and a flood of them must not get in the way of phones syncing.
//!
//! A token bucket: every attempt takes a token up front (none left: 429 with `Retry-After`),
//! and a right code gives it back, so a training day enrolling forty phones at once, or a
//! load test enrolling thousands, never meets the limit; only wrong codes spend it. The
//! bucket is per process and not per address: the server keeps no client addresses, and
//! behind a proxy they would all be the proxy's. A flood of wrong codes therefore holds up
//! enrollment for everyone (never syncing) until it stops.
//!
//! Not a tower layer in front of the route: only the handler knows whether the code was right.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::{ApiError, Result};

pub const DEFAULT_PER_MINUTE: u32 = 60;

pub struct EnrollAttempts {
    bucket: Mutex<Bucket>,
    capacity: f64,
    per_second: f64,
}

struct Bucket {
    tokens: f64,
    filled_at: Instant,
}

/// One attempt under way. Dropped without [`Attempt::spend`], it gives its token back.
#[must_use]
pub struct Attempt<'a> {
    budget: &'a EnrollAttempts,
    spent: bool,
}

impl EnrollAttempts {
    /// Up to `per_minute` wrong codes at once, and `per_minute` a minute after that.
    pub fn per_minute(per_minute: u32) -> EnrollAttempts {
        let capacity = f64::from(per_minute.max(1));
        EnrollAttempts {
            bucket: Mutex::new(Bucket {
                tokens: capacity,
                filled_at: Instant::now(),
            }),
            capacity,
            per_second: capacity / 60.0,
        }
    }

    /// Takes a token, or says how long until one is there (429 `too_many_attempts`).
    pub fn begin(&self) -> Result<Attempt<'_>> {
        let mut bucket = self.lock();
        let now = Instant::now();
        let refilled = now.duration_since(bucket.filled_at).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refilled).min(self.capacity);
        bucket.filled_at = now;
        if bucket.tokens < 1.0 {
            let wait = (1.0 - bucket.tokens) / self.per_second;
            return Err(ApiError::TooManyAttempts {
                retry_after: Duration::from_secs_f64(wait.ceil().max(1.0)),
            });
        }
        bucket.tokens -= 1.0;
        Ok(Attempt {
            budget: self,
            spent: false,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.bucket.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for EnrollAttempts {
    fn default() -> Self {
        EnrollAttempts::per_minute(DEFAULT_PER_MINUTE)
    }
}

impl Attempt<'_> {
    /// The code was wrong: the token stays taken.
    pub fn spend(mut self) {
        self.spent = true;
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.spent {
            let mut bucket = self.budget.lock();
            bucket.tokens = (bucket.tokens + 1.0).min(self.budget.capacity);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_codes_spend_the_budget_and_right_ones_do_not() {
        let budget = EnrollAttempts::per_minute(3);
        for _ in 0..10 {
            drop(budget.begin().expect("a right code gives its token back"));
        }
        for _ in 0..3 {
            budget.begin().expect("within the budget").spend();
        }
        match budget.begin() {
            Err(ApiError::TooManyAttempts { retry_after }) => {
                assert!(retry_after >= Duration::from_secs(1));
                assert!(retry_after <= Duration::from_secs(20));
            }
            Err(other) => panic!("expected too_many_attempts, got {other:?}"),
            Ok(_) => panic!("expected too_many_attempts, got a token"),
        }
    }
}
