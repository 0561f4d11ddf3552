//! Masks what could identify a respondent or a worker in free text: phone numbers, e-mail
//! addresses, URLs, social handles and long digit runs such as ID or passport numbers.
//!
//! Free text is where identifying details slip in ("call her on 0712 345 678"). The device
//! scrubs before it stores an answer and the server checks the result again with
//! [`is_scrubbed`], so a client that skips scrubbing is refused rather than trusted.
//!
//! Each kind is replaced by a bracketed word (`[phone]`, `[email]`, `[url]`, `[handle]`,
//! `[number]`) so a reader still sees that something was there and what kind. The words hold
//! no digits, `@` or dots, so scrubbing is idempotent. Passes run from the most specific
//! (URLs, which may hold digits and `@`) to the most general (digit runs). Where a text is
//! ambiguous (a list like "12 15 20 30" looks like a phone number) the scrubber masks: a lost
//! count costs far less than a leaked phone number.

use std::sync::LazyLock;

use regex_lite::{Captures, Regex};

/// Fewer digits than this in one run is a count, an age, a year or a price, not an id.
const MIN_ID_DIGITS: usize = 7;

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("scrubber patterns are valid")
}

static URL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>]+|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|org|net|info|biz|io|me|ly|co|app|xyz|gov|edu|[a-z]{2})/[^\s<>]*",
    )
});
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| regex(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"));
/// "name at example dot com", "name [at] example [dot] org": only with a known ending, so
/// "met at the market" stays.
static SPELLED_EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b[a-z0-9._%+-]+\s*(?:\(at\)|\[at\]|\{at\}|\sat\s)\s*[a-z0-9-]+\s*(?:\(dot\)|\[dot\]|\{dot\}|\sdot\s|\.)\s*(?:com|org|net|info|biz|io|co|gov|edu)\b",
    )
});
static HANDLE: LazyLock<Regex> = LazyLock::new(|| regex(r"(?:^|[^A-Za-z0-9_.])(@[A-Za-z0-9_.]{2,})"));
/// A run of digits with the separators phone numbers use. Decided in code: dates stay.
static DIGIT_RUN: LazyLock<Regex> = LazyLock::new(|| regex(r"\+?\(?\d[\d \t().\-/]*\d\)?"));
static ISO_DATES: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^\d{4}-\d{2}-\d{2}(?:[ \t]*[-/][ \t]*\d{4}-\d{2}-\d{2}|[ \t]+\d{4}-\d{2}-\d{2})*$")
});
static ID_CODE: LazyLock<Regex> = LazyLock::new(|| regex(r"\b[A-Za-z]{1,3}\d{6,12}\b"));

/// Masks phone numbers, e-mail addresses, URLs, social handles and long digit runs.
pub fn scrub_free_text(text: &str) -> String {
    let text = URL.replace_all(text, "[url]");
    let text = EMAIL.replace_all(&text, "[email]");
    let text = SPELLED_EMAIL.replace_all(&text, "[email]");
    let text = HANDLE.replace_all(&text, |caps: &Captures| {
        let whole = &caps[0];
        format!("{}[handle]", &whole[..whole.len() - caps[1].len()])
    });
    let text = ID_CODE.replace_all(&text, "[number]");
    let text = DIGIT_RUN.replace_all(&text, |caps: &Captures| mask_digit_run(&caps[0]));
    text.into_owned()
}

/// True when [`scrub_free_text`] would leave `text` unchanged: the server's re-check.
pub fn is_scrubbed(text: &str) -> bool {
    scrub_free_text(text) == text
}

fn mask_digit_run(run: &str) -> String {
    let digits = run.chars().filter(char::is_ascii_digit).count();
    let trimmed = run.trim_matches(|c: char| c == '(' || c == ')');
    if digits < MIN_ID_DIGITS || ISO_DATES.is_match(trimmed) {
        return run.to_owned();
    }
    let phone_like = run.starts_with('+') || run.starts_with('(') || run.starts_with('0');
    let kept_open = if run.starts_with('(') && !run.contains(')') {
        "("
    } else {
        ""
    };
    format!("{kept_open}{}", if phone_like { "[phone]" } else { "[number]" })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASES: &[(&str, &str)] = &[
        // Phone numbers, local and international.
        ("call 0712 345 678 tomorrow", "call [phone] tomorrow"),
        ("+44 7700 900123", "[phone]"),
        ("(555) 123-4567", "[phone]"),
        ("her number is 555-123-4567.", "her number is [number]."),
        ("+66-81-234-5678", "[phone]"),
        ("07700900123", "[phone]"),
        ("+234 803 123 4567 (whatsapp)", "[phone] (whatsapp)"),
        ("00 44 20 7946 0958", "[phone]"),
        ("tel:+12025550143", "tel:[phone]"),
        ("ring 081.234.5678 after 6", "ring [phone] after 6"),
        // E-mail addresses.
        ("write to someone@example.org", "write to [email]"),
        ("a.b+tag@mail.example.co.uk please", "[email] please"),
        ("Contact: JOHN_DOE@Example.COM.", "Contact: [email]."),
        ("name at example dot com", "[email]"),
        ("name [at] example [dot] org", "[email]"),
        ("jane(at)mail(dot)net", "[email]"),
        // URLs and handles.
        ("see https://example.com/profile?id=123", "see [url]"),
        ("www.facebook.com/some.person", "[url]"),
        ("example.com/profile", "[url]"),
        ("http://10.0.0.1:8080/x", "[url]"),
        ("on telegram @someone_92", "on telegram [handle]"),
        ("(@helper)", "([handle])"),
        // Long digit runs: ID and passport numbers.
        ("ID 1234567890", "ID [number]"),
        ("passport AB1234567", "passport [number]"),
        ("card 1234 5678 9012 3456", "card [number]"),
        ("ref 12-3456-789", "ref [number]"),
        // What must stay.
        ("2 kits", "2 kits"),
        ("age 25", "age 25"),
        ("5", "5"),
        ("2026-11-20", "2026-11-20"),
        ("from 2026-11-20 to 2026-11-25", "from 2026-11-20 to 2026-11-25"),
        ("2026-11-20 - 2026-11-25", "2026-11-20 - 2026-11-25"),
        ("3 of 10 people", "3 of 10 people"),
        ("25-30 years", "25-30 years"),
        ("1/2 of the group", "1/2 of the group"),
        ("at 10:30", "at 10:30"),
        ("100% agreed", "100% agreed"),
        ("1,200 leaflets", "1,200 leaflets"),
        ("1,200,000 kip", "1,200,000 kip"),
        ("room 12B", "room 12B"),
        ("app v2.0", "app v2.0"),
        ("Gave 3 condoms and 2 leaflets", "Gave 3 condoms and 2 leaflets"),
        ("aged between 18 and 24", "aged between 18 and 24"),
        ("since 2019", "since 2019"),
        ("500 baht", "500 baht"),
        (
            "met at the market, dot on the map",
            "met at the market, dot on the map",
        ),
        ("we met at home dot", "we met at home dot"),
        ("e.g. the bus station", "e.g. the bus station"),
        ("", ""),
    ];

    #[test]
    fn masks_identifiers_and_keeps_ordinary_text() {
        for (input, expected) in CASES {
            assert_eq!(scrub_free_text(input), *expected, "input {input:?}");
        }
        assert!(CASES.len() >= 40);
    }

    #[test]
    fn scrubbing_is_idempotent_and_checkable() {
        for (input, _) in CASES {
            let once = scrub_free_text(input);
            assert_eq!(scrub_free_text(&once), once, "input {input:?}");
            assert!(is_scrubbed(&once));
        }
        assert!(!is_scrubbed("call 0712 345 678"));
        assert!(is_scrubbed("gave 2 kits"));
    }

    #[test]
    fn long_inputs_finish_and_are_masked() {
        let text = "call 0712 345 678 or write a@b.org; 3 kits. ".repeat(2_500);
        let scrubbed = scrub_free_text(&text);
        assert!(!scrubbed.contains("0712") && !scrubbed.contains('@'));
        let digits = "9".repeat(100_000);
        assert_eq!(scrub_free_text(&digits), "[number]");
    }
}
