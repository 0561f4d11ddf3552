//! Masks long runs of digits: phone numbers and id, passport or card numbers, however their
//! digits are grouped, and words mixing letters and digits that read as ids ("AB1234567").
//!
//! Why: fewer than [`MIN_ID_DIGITS`] digits is a count, an age, a year or a price; seven or
//! more, grouped by any separators, can be dialled or looked up. Separators are whatever is
//! neither a letter nor a digit, and a lone `x`, since a client trying to slip a number past
//! the scrubber can pick any of them ("081 . 234 . 5678", "0812 x 345 x 678", "081:234:5678").
//! A run made only of times ("10:30-11:45") or of years ("2019, 2020") stays; a time next to
//! other digits counts like any digits, or "08 12 34:56 78" would get through.

use std::ops::Range;

use super::scanner::Scanner;
use super::{NUMBER, PHONE};

/// Fewer digits than this in one run is a count, an age, a year or a price, not an id.
const MIN_ID_DIGITS: usize = 7;
/// E.164 numbers, country code included, have at most this many digits.
const MAX_PHONE_DIGITS: usize = 15;
/// At most this many separator characters between two digits of a run, spaces not counted.
const MAX_SEPARATORS: usize = 4;

/// Words of ASCII letters and digits that read as ids.
pub(super) fn id_words(text: &str) -> Vec<(Range<usize>, &'static str)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let len = bytes[pos..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if len == 0 {
            pos += 1;
            continue;
        }
        let word = &text[pos..pos + len];
        if is_id_like(word) {
            found.push((pos..pos + len, NUMBER));
        }
        pos += len;
    }
    found
}

/// A letter-and-digit word is an id ("AB1234567", "12AB34567") when it holds seven digits,
/// or six with five in a row; "room 12B", "COVID19" and "v2" stay.
fn is_id_like(word: &str) -> bool {
    let has_letter = word.bytes().any(|b| b.is_ascii_alphabetic());
    let groups = digit_groups(word);
    let total: usize = groups.iter().sum();
    let longest = groups.iter().copied().max().unwrap_or(0);
    has_letter && (total >= MIN_ID_DIGITS || (total >= 6 && longest >= 5))
}

/// The lengths of the groups of digits in `text`.
fn digit_groups(text: &str) -> Vec<usize> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|group| !group.is_empty())
        .map(str::len)
        .collect()
}

/// Runs of seven digits or more, as `[phone]` or `[number]`.
pub(super) fn long_runs(text: &str) -> Vec<(Range<usize>, &'static str)> {
    let mut found = Vec::new();
    let mut pos = 0;
    while let Some(offset) = text[pos..].find(|c: char| c.is_ascii_digit()) {
        let start = pos + offset;
        let mut end = run_end(text, start);
        let prefix = prefix_start(text, start);
        if let Some(token) = classify(&text[prefix..end]) {
            end = end_of_sentence(text, start..end);
            found.push((prefix..end, token));
        }
        pos = end;
    }
    found
}

/// The end of the run of digits and separators starting at `start`.
fn run_end(text: &str, start: usize) -> usize {
    let mut s = Scanner::new(text, start);
    loop {
        s.number();
        let end = s.pos;
        let mut separators = 0;
        loop {
            s.spaces();
            if separators == MAX_SEPARATORS || s.eat_if(is_separator).is_none() {
                break;
            }
            separators += 1;
        }
        if !s.peek().is_some_and(|c| c.is_ascii_digit()) {
            return end;
        }
    }
}

/// A character that may stand between two digits of a run: anything but a letter or a
/// digit, or a lone `x` ("0812 x 345 x 678").
fn is_separator(c: char) -> bool {
    !c.is_alphanumeric() && !c.is_whitespace() || matches!(c, 'x' | 'X')
}

/// Where a masked run ends: at the end of a sentence inside it ("call 0712345678. 2 kits")
/// when the digits before it are enough to mask, so the count after it stays.
fn end_of_sentence(text: &str, run: Range<usize>) -> usize {
    let bytes = text.as_bytes();
    let mut digits = 0;
    for i in run.clone() {
        if bytes[i].is_ascii_digit() {
            digits += 1;
        } else if digits >= MIN_ID_DIGITS
            && matches!(bytes[i], b'.' | b';' | b'!' | b'?')
            && bytes[i - 1].is_ascii_digit()
            && bytes.get(i + 1).is_some_and(u8::is_ascii_whitespace)
        {
            return i;
        }
    }
    run.end
}

/// Where a run's mask starts: a `+` before it, and an opening bracket around its first
/// group (`(02) 1234 5678`), are part of the number.
fn prefix_start(text: &str, start: usize) -> usize {
    let behind = text[..start].trim_end_matches(' ');
    let mut prefix = start;
    let mut rest = behind;
    if let Some(before) = rest.strip_suffix('+') {
        prefix = before.len();
        rest = before.trim_end_matches(' ');
    }
    if let Some(before) = rest.strip_suffix('(') {
        let first_group = text[start..].trim_start_matches(|c: char| c.is_ascii_digit());
        if first_group.trim_start_matches(' ').starts_with(')') {
            prefix = before.len();
        }
    }
    prefix
}

/// `[phone]`, `[number]`, or `None` for a run (with its `+` or bracket) that identifies no
/// one.
fn classify(run: &str) -> Option<&'static str> {
    let groups: Vec<&str> = run
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let digits: usize = groups.iter().map(|g| g.len()).sum();
    if digits < MIN_ID_DIGITS {
        return None;
    }
    // Lists of years ("2019, 2020 and 2021") and of times ("10:30-11:45") stay.
    let parts = || {
        run.split(|c: char| !c.is_ascii_digit() && c != ':')
            .filter(|p| !p.is_empty())
    };
    let is_year = |p: &str| p.len() == 4 && p.parse().is_ok_and(|y: u32| (1900..2100).contains(&y));
    if parts().all(is_year) || parts().all(is_time) {
        return None;
    }
    let dialled = run.starts_with(['+', '(', '0']);
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let north_american = matches!(lengths[..], [3, 4] | [3, 3, 4] | [1, 3, 3, 4]);
    Some(if digits <= MAX_PHONE_DIGITS && (dialled || north_american) {
        PHONE
    } else {
        NUMBER
    })
}

/// `9:30`, `10:30:00`: hours to 24, minutes and seconds in two digits to 59.
fn is_time(part: &str) -> bool {
    let mut numbers = part.split(':');
    let hours = numbers.next().unwrap_or_default();
    let rest: Vec<&str> = numbers.collect();
    (1..=2).contains(&hours.len())
        && hours.parse().is_ok_and(|h: u32| h <= 24)
        && (1..=2).contains(&rest.len())
        && rest
            .iter()
            .all(|m| m.len() == 2 && m.parse().is_ok_and(|m: u32| m <= 59))
}
