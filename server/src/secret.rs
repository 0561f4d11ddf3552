//! Bearer tokens and enrollment codes. They are shown once, at creation, and stored only as
//! SHA-256 hashes: a leaked database does not let anyone sync or administer. `Debug` never
//! prints them, so they cannot end up in a log by accident.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::ApiError;

/// Unambiguous upper-case letters and digits (no 0/O, 1/I/L): codes are read aloud and typed
/// on phones.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_GROUPS: usize = 4;
const CODE_GROUP_LEN: usize = 4;
const TOKEN_PREFIX: &str = "svt_";

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// The stored form of a secret.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SecretHash(pub [u8; 32]);

impl Secret {
    /// A new bearer token: 256 random bits, hex encoded, with a prefix that makes a leaked
    /// token easy to recognise in a secret scanner.
    pub fn new_token() -> Result<Secret, ApiError> {
        let bytes = random_bytes::<32>()?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Secret(format!("{TOKEN_PREFIX}{hex}")))
    }

    /// A new enrollment code such as `K7PQ-4MZX-…` (16 symbols of 31, about 79 bits): short
    /// enough to type, long enough that guessing one before it expires is hopeless.
    pub fn new_code() -> Result<Secret, ApiError> {
        let bytes = random_bytes::<{ CODE_GROUPS * CODE_GROUP_LEN }>()?;
        let symbols: Vec<char> = bytes
            .iter()
            .map(|b| char::from(CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()]))
            .collect();
        let groups: Vec<String> = symbols
            .chunks(CODE_GROUP_LEN)
            .map(|g| g.iter().collect())
            .collect();
        Ok(Secret(groups.join("-")))
    }

    /// A token as received in an `Authorization` header.
    pub fn token(text: &str) -> Secret {
        Secret(text.trim().to_owned())
    }

    /// A code as typed by a person: case, spaces and dashes do not matter.
    pub fn code(text: &str) -> Secret {
        Secret(
            text.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .map(|c| c.to_ascii_uppercase())
                .collect(),
        )
    }

    pub fn hash(&self) -> SecretHash {
        // Codes hash without their dashes, so the typed and the printed form match.
        let normalized: String = if self.0.starts_with(TOKEN_PREFIX) {
            self.0.clone()
        } else {
            self.0.chars().filter(|c| *c != '-').collect()
        };
        SecretHash(Sha256::digest(normalized.as_bytes()).into())
    }

    /// The secret itself, to show its owner once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(<redacted>)")
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_however_they_are_typed() {
        let code = Secret::new_code().expect("code");
        assert_eq!(code.expose().len(), 19);
        let typed = code.expose().to_lowercase().replace('-', " ");
        assert!(Secret::code(&typed).hash() == code.hash());
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let token = Secret::new_token().expect("token");
        assert!(!format!("{token:?}").contains(token.expose()));
        assert!(!format!("{:?}", token.hash()).contains("0x"));
    }
}
