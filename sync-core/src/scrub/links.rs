//! Masks URLs, e-mail addresses (plain and spelled out) and social handles.
//!
//! Why: an address or a profile reaches the person as surely as a phone number does. The
//! spelled-out forms ("jane at proton dot me", "jane(@)gmail.com", "jane [@] gmail [.] com",
//! "maria arroba gmail punto com") are how an address gets past a filter that looks for
//! `@`, so they are masked too: a bracketed "at" or "@" always, a plain " at " only with a
//! known ending ("dot com") or a known mail provider after it, so "met at the market, dot on
//! the map" stays.

use std::sync::LazyLock;

use regex_lite::Regex;

use super::view::View;
use super::{EMAIL, URL};

/// Named pieces substituted into the patterns below, in this order, so a piece may use the
/// pieces after it and the word lists below it. The text is folded, so full-width and small forms of `@` and `.` are
/// already plain ones, and non-breaking spaces are spaces.
const FRAGMENTS: &[(&str, &str)] = &[
    (
        "{LOCAL}",
        r"{LOCALCH}+(?:(?:{SP}+{DOTW}{SP}+|{BR_DOT}){LOCALCH}+)*",
    ),
    ("{DOMAIN}", r"{LABEL}(?:{W_DOT}{LABEL})*"),
    ("{W_AT}", r"(?:{SP}+{ATW}{SP}+|{SP}*@{SP}*)"),
    ("{W_DOT}", r"(?:{SP}+{DOTW}{SP}+|{BR_DOT}|\.)"),
    ("{BR_AT}", r"{SP}*[\[({<]{SP}*(?:{ATW}|@){SP}*[\])}>]{SP}*"),
    ("{BR_DOT}", r"{SP}*[\[({<]{SP}*(?:{DOTW}|\.){SP}*[\])}>]{SP}*"),
    ("{LOCALCH}", r"[A-Za-z0-9._%+\-{LETTER}]"),
    ("{LABEL}", r"[A-Za-z0-9_\-{LETTER}]+"),
    // A character of a URL, and one a URL may end with (not trailing punctuation).
    ("{URLCH}", r#"[^\s<>"]"#),
    ("{URLEND}", r#"[^\s<>".,;:!?'()\[\]{}]"#),
    // Latin, Greek and Cyrillic letters beyond ASCII ("søren.ødegård@post.no"). Scripts
    // written without spaces (Thai, Chinese...) are left out, so an address is cut from the
    // words around it rather than taking them along.
    (
        "{LETTER}",
        r"\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{24F}\x{370}-\x{3FF}\x{400}-\x{4FF}",
    ),
    ("{SP}", r"[ \t]"),
];

/// Endings that make "x at y dot z" an address; common English words ("in", "it", "is",
/// "at") are left out.
const ENDINGS: &[&str] = &[
    "com", "net", "org", "edu", "gov", "mil", "info", "biz", "io", "co", "me", "app", "xyz", "online", "uk",
    "ca", "au", "nz", "de", "fr", "es", "pt", "ru", "ua", "pl", "cn", "jp", "kr", "th", "vn", "kh", "mm",
    "sg", "ph", "pk", "bd", "np", "lk", "ng", "gh", "ke", "za", "eg", "br", "mx", "ar", "cl", "pe", "tr",
    "ae", "sa",
];
/// Mail providers that make "x at gmail" an address even without an ending.
const PROVIDERS: &[&str] = &[
    "gmail",
    "googlemail",
    "yahoo",
    "ymail",
    "hotmail",
    "outlook",
    "icloud",
    "proton",
    "protonmail",
    "yandex",
    "gmx",
    "aol",
    "zoho",
    "tutanota",
    "qq",
];
const AT_WORDS: &[&str] = &["at", "arroba", "arobase", "arrobase"];
const DOT_WORDS: &[&str] = &["dot", "punto", "point", "ponto"];

/// Compiles a constant pattern after substituting [`FRAGMENTS`] and the word lists above.
fn pattern(template: &str) -> Regex {
    let mut pattern = template.to_owned();
    for (name, fragment) in FRAGMENTS {
        pattern = pattern.replace(name, fragment);
    }
    let lists = [
        ("{ATW}", AT_WORDS),
        ("{DOTW}", DOT_WORDS),
        ("{TLD}", ENDINGS),
        ("{PROVIDER}", PROVIDERS),
    ];
    for (name, words) in lists {
        pattern = pattern.replace(name, &format!("(?:{})", words.join("|")));
    }
    Regex::new(&pattern).expect("scrubber patterns are valid")
}

/// `https://...`, `whatsapp://...`, `www.example.org...`.
static SCHEME_URL: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)(?:[a-z][a-z0-9+.\-]{1,15}://|www[0-9]{0,3}\.){URLCH}*{URLEND}"));
/// `jane@example.org`, also with bracketed dots (`jane@gmail[.]com`).
static EMAIL_ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"{LOCALCH}+@{LABEL}(?:(?:{BR_DOT}|\.){LABEL})*"));
/// `example.com/profile`, `wa.me/66812345678`: a bare domain counts only with a path.
static BARE_URL: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)(?:[a-z0-9][a-z0-9\-]*\.)+[a-z]{2,24}/(?:{URLCH}*{URLEND})?"));
/// A bracketed "[at]", "(@)" or "{at}" is a clear sign of an address, whatever follows.
static BRACKETED_EMAIL: LazyLock<Regex> = LazyLock::new(|| pattern(r"(?i){LOCAL}{BR_AT}{DOMAIN}"));
/// A plain " at " (or "arroba", or a spaced "@") needs a domain with a known ending...
static WORDY_EMAIL: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i){LOCAL}{W_AT}{LABEL}(?:{W_DOT}{LABEL})*{W_DOT}{TLD}\b"));
/// ...or a known mail provider after it.
static PROVIDER_EMAIL: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i){LOCAL}{W_AT}{PROVIDER}\b(?:{W_DOT}{LABEL})*"));
/// `@someone` not preceded by a word character (those were e-mail addresses).
static HANDLE: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"\B@[A-Za-z_{LETTER}](?:[A-Za-z0-9_{LETTER}]|\.[A-Za-z0-9_{LETTER}])+"));

/// One pattern, a cheap test of whether it can match at all, and the token for what it
/// finds. The patterns are slow next to a plain search (tens of microseconds for a long
/// answer), and the server checks every string it receives, so each pass runs only when
/// the text holds what its pattern cannot do without: most answers hold none of it.
struct Pass {
    regex: &'static LazyLock<Regex>,
    may_match: fn(&str) -> bool,
    token: &'static str,
}

/// The passes of this module, most specific first.
const PASSES: [Pass; 7] = [
    Pass {
        regex: &SCHEME_URL,
        may_match: |t| t.contains("://") || has_word_part(t, "www"),
        token: URL,
    },
    Pass {
        regex: &EMAIL_ADDRESS,
        may_match: |t| t.contains('@'),
        token: EMAIL,
    },
    Pass {
        regex: &BARE_URL,
        may_match: has_domain_with_path,
        token: URL,
    },
    Pass {
        regex: &BRACKETED_EMAIL,
        may_match: has_bracketed_at,
        token: EMAIL,
    },
    Pass {
        regex: &WORDY_EMAIL,
        may_match: |t| has_at(t) && has_ending(t),
        token: EMAIL,
    },
    Pass {
        regex: &PROVIDER_EMAIL,
        may_match: |t| has_at(t) && PROVIDERS.iter().any(|p| has_word_part(t, p)),
        token: EMAIL,
    },
    Pass {
        regex: &HANDLE,
        may_match: |t| t.contains('@'),
        token: URL,
    },
];

/// Masks URLs, e-mail addresses and handles.
pub(super) fn mask_links(view: &mut View) {
    for pass in &PASSES {
        if (pass.may_match)(view.text()) {
            let spans: Vec<_> = pass
                .regex
                .find_iter(view.text())
                .map(|m| (m.range(), pass.token))
                .collect();
            view.mask(spans);
        }
    }
}

fn has_at(text: &str) -> bool {
    text.contains('@') || AT_WORDS.iter().any(|w| has_word(text, w))
}

/// Whether a known ending follows a dot, a dot word or a bracketed dot ("x.com", "x dot
/// com", "x [.] com").
fn has_ending(text: &str) -> bool {
    words(text).any(|(start, word)| {
        let before = text[..start].trim_end_matches([' ', '\t']);
        ENDINGS.iter().any(|e| word.eq_ignore_ascii_case(e))
            && (text[..start].ends_with('.')
                || before.ends_with([']', ')', '}', '>'])
                || DOT_WORDS.iter().any(|d| ends_with_word(before, d)))
    })
}

/// Whether an opening bracket holds only an at word or `@` ("(at)", "[@]", "{ at }").
fn has_bracketed_at(text: &str) -> bool {
    text.match_indices(['(', '[', '{', '<']).any(|(i, _)| {
        let inside = text[i + 1..].trim_start_matches([' ', '\t']);
        let rest = if let Some(rest) = inside.strip_prefix('@') {
            rest
        } else {
            let letters = inside.bytes().take_while(u8::is_ascii_alphabetic).count();
            if !AT_WORDS.iter().any(|w| inside[..letters].eq_ignore_ascii_case(w)) {
                return false;
            }
            &inside[letters..]
        };
        rest.trim_start_matches([' ', '\t'])
            .starts_with([')', ']', '}', '>'])
    })
}

/// Whether a `/` follows something like a domain ("wa.me/", "example.com/").
fn has_domain_with_path(text: &str) -> bool {
    text.match_indices('/').any(|(i, _)| {
        let before = &text[..i];
        let letters = before.bytes().rev().take_while(u8::is_ascii_alphabetic).count();
        letters >= 2 && before[..before.len() - letters].ends_with('.')
    })
}

/// The runs of ASCII letters in `text`, with where they start.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .map(move |w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
}

/// Whether `text` ends with `word` as a whole word, ignoring ASCII case.
fn ends_with_word(text: &str, word: &str) -> bool {
    let Some(start) = text.len().checked_sub(word.len()) else {
        return false;
    };
    text.is_char_boundary(start)
        && text[start..].eq_ignore_ascii_case(word)
        && !text[..start].ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// Whether `part` occurs in `text`, ignoring ASCII case.
fn has_word_part(text: &str, part: &str) -> bool {
    text.as_bytes()
        .windows(part.len())
        .any(|w| w.eq_ignore_ascii_case(part.as_bytes()))
}

/// Whether `word` occurs in `text` between non-alphanumeric characters, ignoring ASCII case.
fn has_word(text: &str, word: &str) -> bool {
    let bytes = text.as_bytes();
    let is_edge = |i: Option<usize>| {
        i.and_then(|i| bytes.get(i))
            .is_none_or(|b| !b.is_ascii_alphanumeric())
    };
    (0..bytes.len().saturating_sub(word.len() - 1)).any(|i| {
        bytes[i..i + word.len()].eq_ignore_ascii_case(word.as_bytes())
            && is_edge(i.checked_sub(1))
            && is_edge(Some(i + word.len()))
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// A pass skipped by its cheap test would have found nothing.
        #[test]
        fn cheap_tests_skip_only_passes_that_would_not_match(
            text in "(jane|at|AT|arroba| |  |dot|punto|\\.|com|me|es|gmail|proton|@|\\(|\\)|\\[|\\]|\\{|\\}|<|>|/|wa|www|://|x|1|é){0,16}"
        ) {
            for (i, pass) in PASSES.iter().enumerate() {
                if pass.regex.is_match(&text) {
                    prop_assert!((pass.may_match)(&text), "pass {i} skipped on {text:?}");
                }
            }
        }
    }
}
