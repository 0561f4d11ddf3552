//! Record keys: a random number in 0..256 given to each response (and each day's row of a
//! site's tallies) when the server first stores it, carried over when a sync rewrites it,
//! never shown, dropped with the record. A cell's key is the sum of its records' keys modulo
//! 256.
//!
//! Kept with storage, which draws them and reads them back; the perturbation table
//! (`crate::disclosure`) is indexed by their sums.

use super::{Error, Result};

/// Record keys, and so the cell keys summed from them, are in `0..KEY_RANGE`.
pub const KEY_RANGE: u32 = 256;

/// A fresh key from the operating system's randomness.
pub fn random() -> Result<i64> {
    let mut byte = [0u8; 1];
    getrandom::fill(&mut byte).map_err(|e| Error::Unavailable(format!("no randomness: {e}")))?;
    Ok(i64::from(byte[0]) % i64::from(KEY_RANGE))
}

/// A stored key as the column stores hold it (anything out of range, from a hand-edited
/// database, wraps).
pub fn from_stored(key: Option<i64>) -> u8 {
    (key.unwrap_or(0).rem_euclid(i64::from(KEY_RANGE))) as u8
}
