//! What analysts may learn from counts of respondents (docs/privacy.md, "Aggregates").
//!
//! Every count an analyst sees goes through [`Disclosure::protect`]: it is moved by a small,
//! unbiased amount read from the perturbation table ([`ptable`]) at the cell's key, the sum of
//! its records' keys ([`record_key`]), and shown only when the moved count still reaches k.
//! The same records always make the same key, so a cell reached by two queries, or asked twice,
//! or on another replica, shows the same number: averaging repeats cannot remove the noise, and
//! subtracting visible cells from a total gives a hidden cell plus the noise of every cell used.

pub mod ptable;
pub mod query_log;

/// How counts are protected. Only [`Disclosure::CellKey`] is ever reachable from the command
/// line or the API; [`Disclosure::SuppressOnly`] exists so that tests can show an attack
/// succeeding against plain suppression before showing it fail, and can check exact counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Disclosure {
    #[default]
    CellKey,
    SuppressOnly,
}

impl Disclosure {
    /// The count to show for a cell of `count` records whose keys sum to `key_sum`, or `None`
    /// when it must be suppressed. Zero stays zero, so an empty cell is suppressed exactly like
    /// a small one.
    pub fn protect(self, count: u64, key_sum: u32, k: u64) -> Option<u64> {
        let shown = match self {
            Disclosure::CellKey => count.saturating_add_signed(ptable::count_adjustment(key_sum, count)),
            Disclosure::SuppressOnly => count,
        };
        (shown >= k).then_some(shown)
    }

    /// `sum` (of values at most `largest` each) moved by the magnitude column of the table at
    /// the same key, so that a mean times its count is not a sum of answers.
    pub fn protect_sum(self, sum: f64, key_sum: u32, largest: f64) -> f64 {
        match self {
            Disclosure::CellKey => sum + ptable::magnitude_adjustment(key_sum) * largest,
            Disclosure::SuppressOnly => sum,
        }
    }

    /// The largest amount a shown count can differ from the true one.
    pub fn max_adjustment(self) -> u64 {
        match self {
            Disclosure::CellKey => ptable::MAX_ADJUSTMENT,
            Disclosure::SuppressOnly => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_small_cells_are_suppressed_alike_and_large_ones_move_a_little() {
        for key in 0..crate::storage::record_key::KEY_RANGE {
            assert_eq!(Disclosure::CellKey.protect(0, key, 11), None);
            for small in 1..=8 {
                assert_eq!(
                    Disclosure::CellKey.protect(small, key, 11),
                    None,
                    "{small} at {key}"
                );
            }
            let shown = Disclosure::CellKey
                .protect(100, key, 11)
                .expect("a large cell shows");
            assert!(shown.abs_diff(100) <= ptable::MAX_ADJUSTMENT);
        }
        assert_eq!(Disclosure::SuppressOnly.protect(11, 7, 11), Some(11));
        assert_eq!(Disclosure::SuppressOnly.protect(10, 7, 11), None);
    }
}
