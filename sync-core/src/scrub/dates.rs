//! Finds full dates: a day, a month and a year, in digits ("1998-03-12", "12.03.1998",
//! "12/03/98") or with the month named ("12 March 1998", "March 12, 1998", "12 de marzo de
//! 1998", "1er mars 1998").
//!
//! Why: a date of birth, with an area and a gender, can pick out one person; in free text
//! it cannot be told from other dates, so every full date is masked. A year alone ("since
//! 2019") or a day and month without a year ("on 12 March") says too little to identify
//! anyone and stays.

use std::ops::Range;

use super::lexicon::LEXICON;
use super::scanner::Scanner;

/// Years a four-digit year may be; other four-digit numbers are not read as years.
const YEARS: Range<u32> = 1900..2100;

/// The full dates in folded text.
pub(super) fn full_dates(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let at = Scanner::new(text, pos);
        let prev = at.before();
        let next = at.peek();
        let starts_number =
            next.is_some_and(|c| c.is_ascii_digit()) && !prev.is_some_and(|c| c.is_ascii_digit());
        let starts_word = next.is_some_and(char::is_alphabetic) && !prev.is_some_and(char::is_alphabetic);
        let end = if starts_number {
            numeric_date(at).or_else(|| day_month_year(at))
        } else if starts_word {
            month_day_year(at)
        } else {
            None
        };
        match end {
            Some(end) => {
                found.push(pos..end);
                pos = end;
            }
            None => pos += next.map_or(1, char::len_utf8),
        }
    }
    found
}

/// `1998-03-12`, `12/03/1998`, `03.12.1998`, `12/03/98`: the same separator twice.
fn numeric_date(mut s: Scanner) -> Option<usize> {
    if preceded_by_number(s) {
        return None;
    }
    let (a, a_len) = s.number()?;
    let sep = s.eat_if(|c| matches!(c, '-' | '.' | '/'))?;
    let (b, _) = s.number().filter(|&(_, len)| len <= 2)?;
    if !s.eat(sep) {
        return None;
    }
    let (c, c_len) = s.number()?;
    if followed_by_number(s) {
        return None;
    }
    let valid = match (a_len, c_len) {
        (4, 1..=2) => YEARS.contains(&a) && is_day_month(c, b),
        (1..=2, 4) => YEARS.contains(&c) && (is_day_month(a, b) || is_day_month(b, a)),
        // Two-digit years only with slashes or dashes: dotted triples are more often
        // version numbers.
        (1..=2, 2) => sep != '.' && (is_day_month(a, b) || is_day_month(b, a)),
        _ => false,
    };
    valid.then_some(s.pos)
}

/// `12 March 1998`, `12th of March, 1998`, `12-Mar-1998`, `12 de marzo de 1998`.
fn day_month_year(mut s: Scanner) -> Option<usize> {
    let (day, day_len) = s.number()?;
    if day_len > 2 || !(1..=31).contains(&day) {
        return None;
    }
    ordinal(&mut s);
    gap(&mut s);
    month(&mut s)?;
    gap(&mut s);
    year(s)
}

/// `March 12, 1998`, `Mar. 12th 1998`.
fn month_day_year(mut s: Scanner) -> Option<usize> {
    month(&mut s)?;
    s.eat('.');
    s.spaces();
    let (day, day_len) = s.number()?;
    if day_len > 2 || !(1..=31).contains(&day) {
        return None;
    }
    ordinal(&mut s);
    s.eat(',');
    if s.spaces() == 0 && s.before() != Some(',') {
        return None;
    }
    year(s)
}

fn month(s: &mut Scanner) -> Option<()> {
    let word = s.word()?;
    LEXICON.is_month(word).then_some(())
}

/// A four-digit year in range, the end of a date.
fn year(mut s: Scanner) -> Option<usize> {
    let (year, len) = s.number()?;
    (len == 4 && YEARS.contains(&year)).then_some(s.pos)
}

/// An ending after a day ("th", "er"), if there is one.
fn ordinal(s: &mut Scanner) {
    let mut after = *s;
    if after.word().is_some_and(|w| LEXICON.is_ordinal(w)) {
        *s = after;
    }
    s.eat('.');
}

/// What may stand between a day, a month and a year: spaces, one of `,-/.`, and small
/// words such as "of" or "de".
fn gap(s: &mut Scanner) {
    for _ in 0..3 {
        s.spaces();
        if s.eat_if(|c| matches!(c, ',' | '-' | '/' | '.')).is_some() {
            continue;
        }
        let mut after = *s;
        if after.word().is_some_and(|w| LEXICON.is_date_word(w))
            && after.peek().is_some_and(char::is_whitespace)
        {
            *s = after;
            continue;
        }
        break;
    }
    s.spaces();
}

fn is_day_month(day: u32, month: u32) -> bool {
    (1..=31).contains(&day) && (1..=12).contains(&month)
}

/// Whether the cursor follows `1.` or `1-`: the date would be the end of a longer number.
fn preceded_by_number(s: Scanner) -> bool {
    let mut behind = s.behind().chars().rev();
    matches!(behind.next(), Some('-' | '.' | '/')) && behind.next().is_some_and(|c| c.is_ascii_digit())
}

/// Whether `.1` or `-1` follows: the date would be the start of a longer number.
fn followed_by_number(mut s: Scanner) -> bool {
    s.eat_if(|c| matches!(c, '-' | '.' | '/')).is_some() && s.peek().is_some_and(|c| c.is_ascii_digit())
}
