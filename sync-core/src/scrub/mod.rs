//! Masks contact details and id numbers in free-text answers: phone numbers, e-mail
//! addresses, URLs and social handles, full dates, and long digit runs such as ID or
//! passport numbers.
//!
//! Why: respondents may be trafficking survivors, and an answer that names a phone number, an
//! address, a birth date or a passport number can lead back to them or to the worker who met
//! them. The device masks free text before an answer is stored or synced, and the server runs
//! the same code again through [`is_scrubbed`] and refuses text that would still change, so a
//! client that skips or botches scrubbing is refused rather than trusted.
//!
//! Design:
//! - The passes read a folded copy of the text ([`fold`]): compatibility forms decomposed
//!   (full-width, circled, superscript), every Unicode decimal digit as an ASCII one,
//!   invisible characters and diacritics dropped, look-alike letters as Latin ones. Number
//!   words ("zero eight one", "cero ocho uno") read as digits too ([`number_words`]). What is
//!   stored is the original text with only the masked spans replaced ([`view`]), so nothing
//!   a worker wrote is rewritten unless it is masked.
//! - Passes run from the most specific to the most general, because a later pass would
//!   otherwise eat part of an earlier kind: URLs and e-mail addresses, plain and spelled out,
//!   and handles ([`links`]); full dates ([`dates`]); letter-and-digit ids (`AB1234567`);
//!   and last runs of seven digits or more, whatever separates them ([`digit_runs`]).
//! - Each kind is replaced by a fixed bracketed word (`[phone]`, `[email]`, `[url]`,
//!   `[date]`, `[number]`; a handle is a profile address, so `[url]`): an analyst still sees
//!   that something was there and of what kind. The words hold no digit, `@` or dot, so they
//!   are never masked themselves; as a mask can still, rarely, complete a pattern with the
//!   text around it, the passes run again until nothing changes (one extra round in
//!   practice). The output is thus a fixed point and the server's re-check of it passes.
//! - Where a text is ambiguous ("12 15 20 30" could be a phone number, "1,200,000" an id)
//!   the scrubber masks: a lost count costs far less than a leaked phone number.
//! - Patterns run on `regex_lite`, whose searches are linear in the input, and are compiled
//!   once; the passes that check values (dates, digit runs) are written by hand.

mod dates;
mod digit_runs;
pub(crate) mod fold;
mod lexicon;
mod links;
mod number_words;
mod scanner;
mod view;
pub(crate) mod word_list;

use view::View;

const PHONE: &str = "[phone]";
const EMAIL: &str = "[email]";
const URL: &str = "[url]";
const DATE: &str = "[date]";
const NUMBER: &str = "[number]";
/// Rounds of passes before giving up on reaching a fixed point (one or two are enough).
const MAX_ROUNDS: usize = 4;

/// Masks phone numbers, e-mail addresses, URLs, social handles, full dates and long digit
/// runs such as ID or passport numbers, replacing each with `[phone]`, `[email]`, `[url]`,
/// `[date]` or `[number]`.
///
/// The result is a fixed point: scrubbing it again changes nothing, so [`is_scrubbed`] holds.
pub fn scrub_free_text(text: &str) -> String {
    let mut current = text.to_owned();
    for _ in 0..MAX_ROUNDS {
        match scrub_once(&current) {
            Some(next) => current = next,
            None => break,
        }
    }
    current
}

/// True when [`scrub_free_text`] would leave `text` unchanged: the server's re-check.
///
/// One round is enough to tell: a round that masks something changes the text, as every
/// masked span holds a digit, an `@` or a word the masks lack.
pub fn is_scrubbed(text: &str) -> bool {
    scrub_once(text).is_none()
}

/// One round of every pass, most specific first; `None` when nothing was masked.
fn scrub_once(text: &str) -> Option<String> {
    let mut view = View::new(text);
    links::mask_links(&mut view);
    number_words::read_as_digits(&mut view);
    if view.text().bytes().any(|b| b.is_ascii_digit()) {
        let dates: Vec<_> = dates::full_dates(view.text())
            .into_iter()
            .map(|r| (r, DATE))
            .collect();
        view.mask(dates);
        let ids = digit_runs::id_words(view.text());
        view.mask(ids);
        let runs = digit_runs::long_runs(view.text());
        view.mask(runs);
    }
    view.render()
}

#[cfg(test)]
mod tests;
