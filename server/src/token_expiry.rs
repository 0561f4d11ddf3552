//! How long tokens live. A token that never expires outlives the phone it was on: a phone lost
//! or seized with its token keeps syncing, and reading back its own responses, until someone
//! notices. Devices get long tokens (a field worker may be offline for weeks and must not find
//! the app locked when back in coverage); people get short ones, and ask again.
//!
//! Expiry falls at midnight UTC, at least the given number of whole days ahead: the stored
//! expiry then says which day a token was made and nothing finer, like every other date the
//! server keeps about a phone.

use sync_core::Day;

use crate::storage::Role;
use crate::{ApiError, Result};

pub const DEVICE_DAYS: u32 = 180;
pub const PERSON_DAYS: u32 = 30;
/// Ten years: longer is "never", which is what this module is here to end.
pub const MAX_DAYS: u32 = 3650;

/// The default lifetime of a token of `role`, in days.
pub fn default_days(role: Role) -> u32 {
    match role {
        Role::Device => DEVICE_DAYS,
        Role::Admin | Role::Analyst | Role::Trainer => PERSON_DAYS,
    }
}

/// A lifetime asked for (`expires_in_days`, `--expires-in`), checked.
pub fn check_days(days: u32) -> Result<u32> {
    if (1..=MAX_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(ApiError::bad_request(
            "invalid",
            format!("a token lives between 1 and {MAX_DAYS} days"),
        ))
    }
}

/// Unix seconds of the midnight (UTC) that ends day `today + days`: the token works through
/// that whole day.
pub fn expires_at(today: Day, days: u32) -> i64 {
    (today.to_days() + i64::from(days) + 1) * 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_a_midnight_at_least_the_days_ahead() {
        let today = Day::parse("2026-12-06").expect("day");
        let at = expires_at(today, 30);
        assert_eq!(at % 86_400, 0);
        assert_eq!(Day::from_days(at / 86_400).to_string(), "2027-01-06");
        assert!(at - today.to_days() * 86_400 > 30 * 86_400);
    }

    #[test]
    fn lifetimes_are_bounded() {
        assert!(check_days(0).is_err());
        assert!(check_days(MAX_DAYS + 1).is_err());
        assert_eq!(check_days(1).ok(), Some(1));
        assert_eq!(default_days(Role::Device), 180);
        assert_eq!(default_days(Role::Analyst), 30);
    }
}
