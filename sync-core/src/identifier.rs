use crate::{Error, Result};

const MAX_LEN: usize = 64;

/// Checks a form, question, option, area, score or metric id. Ids end up as SQL values, CSV
/// headers and URL query parameters, so they are kept to a small, unambiguous alphabet.
pub fn check_identifier(what: &'static str, value: &str) -> Result<()> {
    let mut chars = value.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if first_ok && rest_ok && value.len() <= MAX_LEN {
        Ok(())
    } else {
        Err(Error::BadIdentifier {
            what,
            value: crate::quoted(value),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_ids_and_refuses_others() {
        for ok in ["s1", "community-stigma", "north_2", "9a"] {
            assert!(check_identifier("id", ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(65);
        for bad in ["", "S1", "-a", "a b", "a;drop", "é", long.as_str()] {
            assert!(check_identifier("id", bad).is_err(), "{bad}");
        }
    }
}
