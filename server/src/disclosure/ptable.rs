//! The perturbation table: for a cell key (0..[`KEY_RANGE`]) and a true count, the amount added
//! to the count, and for the same key the amount added to a sum of answers.
//!
//! Cell keys are uniform over 0..256 (a sum of uniform record keys modulo 256 is uniform), so a
//! row's adjustments come out with the frequencies written below, each a whole number of
//! 256ths, which makes every row exactly unbiased:
//!
//! | true count | -2 | -1 | 0 | +1 | +2 | variance |
//! |---|---|---|---|---|---|---|
//! | 0 | | | 256 | | | 0 |
//! | 1 | | 96 | 96 | 32 | 32 | 1 |
//! | 2 and more | 16 | 64 | 96 | 64 | 16 | 1 |
//!
//! Zero is never moved (an empty cell stays empty and is suppressed like any small one); a
//! count of 1 cannot go below 0, so its row leans up by +2 as often as it leans down. Every
//! adjustment band is a multiple of 16 keys wide, so the key modulo 16, which picks the
//! magnitude adjustment, is independent of the count adjustment.

use crate::storage::record_key::KEY_RANGE;

pub const MAX_ADJUSTMENT: u64 = 2;

/// `(adjustment, how many of the 256 keys give it)`, in key order.
const COUNT_ONE: [(i64, u32); 4] = [(-1, 96), (0, 96), (1, 32), (2, 32)];
const COUNT_MANY: [(i64, u32); 5] = [(-2, 16), (-1, 64), (0, 96), (1, 64), (2, 16)];

/// Sums move by this many times the largest value one respondent can contribute, picked by the
/// key modulo 16: mean 0, standard deviation about 0.61 of that value, so a sum never tells
/// whether one more respondent answered low or high.
const MAGNITUDE: [f64; 16] = [
    -1.0, -1.0, -0.5, -0.5, -0.5, -0.5, 0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0,
];

pub fn count_adjustment(key_sum: u32, count: u64) -> i64 {
    let row: &[(i64, u32)] = match count {
        0 => return 0,
        1 => &COUNT_ONE,
        _ => &COUNT_MANY,
    };
    let mut key = key_sum % KEY_RANGE;
    for &(adjustment, width) in row {
        if key < width {
            return adjustment;
        }
        key -= width;
    }
    0
}

pub fn magnitude_adjustment(key_sum: u32) -> f64 {
    MAGNITUDE[(key_sum % 16) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn over_all_keys(count: u64) -> (f64, f64) {
        let adjustments: Vec<f64> = (0..KEY_RANGE)
            .map(|key| count_adjustment(key, count) as f64)
            .collect();
        let mean = adjustments.iter().sum::<f64>() / f64::from(KEY_RANGE);
        let variance = adjustments.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / f64::from(KEY_RANGE);
        (mean, variance)
    }

    #[test]
    fn every_row_is_unbiased_with_variance_one_and_never_goes_below_zero() {
        assert_eq!(over_all_keys(0), (0.0, 0.0));
        for count in 1..40 {
            assert_eq!(over_all_keys(count), (0.0, 1.0), "count {count}");
            for key in 0..KEY_RANGE {
                let adjustment = count_adjustment(key, count);
                assert!(adjustment.unsigned_abs() <= MAX_ADJUSTMENT);
                assert!(count as i64 + adjustment >= 0);
            }
        }
        for width in COUNT_ONE.iter().chain(&COUNT_MANY).map(|(_, w)| w) {
            assert_eq!(width % 16, 0, "bands whole multiples of 16 keys");
        }
        assert_eq!(COUNT_ONE.iter().map(|(_, w)| w).sum::<u32>(), KEY_RANGE);
        assert_eq!(COUNT_MANY.iter().map(|(_, w)| w).sum::<u32>(), KEY_RANGE);
    }

    #[test]
    fn the_magnitude_column_is_unbiased_and_independent_of_the_count_column() {
        assert_eq!(MAGNITUDE.iter().sum::<f64>(), 0.0);
        for adjustment in -2..=2 {
            let keys: Vec<u32> = (0..KEY_RANGE)
                .filter(|&key| count_adjustment(key, 50) == adjustment)
                .collect();
            let sum: f64 = keys.iter().map(|&key| magnitude_adjustment(key)).sum();
            assert_eq!(sum, 0.0, "given a count adjustment of {adjustment}");
        }
    }
}
