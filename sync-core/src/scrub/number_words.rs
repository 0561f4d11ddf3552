//! Reads number words as the digits they stand for, so "zero eight one two..." or "cero
//! ocho uno dos..." is a digit run like "0812..." for the passes after this one.
//!
//! Why: a number dictated in words is as easy to dial as one in digits, and it is how a
//! client that wants to slip a phone number past the digit patterns would write it.

use std::ops::Range;

use super::lexicon::LEXICON;
use super::view::{Kind, View};

/// What a word of the text reads as.
enum Reading<'l> {
    Digits(&'l str),
    Joiner,
}

/// Rewrites number words as digits, and a joiner between two number words as a space. The
/// rendered text keeps the words: only what the passes read changes.
pub(super) fn read_as_digits(view: &mut View) {
    let lexicon = &*LEXICON;
    let mut words: Vec<(Range<usize>, Reading)> = Vec::new();
    for (range, word) in words_of(view.text()) {
        if let Some(digits) = lexicon.digits(word) {
            words.push((range, Reading::Digits(digits)));
        } else if lexicon.is_joiner(word) {
            words.push((range, Reading::Joiner));
        }
    }
    if words
        .iter()
        .all(|(_, reading)| matches!(reading, Reading::Joiner))
    {
        return;
    }
    let text = view.text();
    let is_number = |i: usize| matches!(words.get(i), Some((_, Reading::Digits(_))));
    // Only the gap between two words: no other word sits between them.
    let adjacent =
        |a: &Range<usize>, b: &Range<usize>| !text[a.end..b.start].chars().any(char::is_alphanumeric);
    let spans: Vec<(Range<usize>, &str, Kind)> = words
        .iter()
        .enumerate()
        .filter_map(|(i, (range, reading))| match reading {
            Reading::Digits(digits) => Some((range.clone(), *digits, Kind::Folded)),
            Reading::Joiner => {
                let joins = i > 0
                    && is_number(i - 1)
                    && is_number(i + 1)
                    && adjacent(&words[i - 1].0, range)
                    && adjacent(range, &words[i + 1].0);
                joins.then(|| (range.clone(), " ", Kind::Folded))
            }
        })
        .collect();
    view.replace(spans);
}

/// The words of `text`: runs of letters, with where they are.
fn words_of(text: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
    let mut start = None;
    text.char_indices()
        .chain(std::iter::once((text.len(), ' ')))
        .filter_map(move |(i, c)| match (c.is_alphabetic(), start) {
            (true, None) => {
                start = Some(i);
                None
            }
            (false, Some(s)) => {
                start = None;
                Some((s..i, &text[s..i]))
            }
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> String {
        let mut view = View::new(text);
        read_as_digits(&mut view);
        view.text().to_owned()
    }

    #[test]
    fn reads_number_words_in_each_language() {
        assert_eq!(read("zero eight one two"), "0 8 1 2");
        assert_eq!(read("Cero ocho uno dos"), "0 8 1 2");
        assert_eq!(read("zéro huit un deux"), "0 8 1 2");
        assert_eq!(read("zero oito um dois, três"), "0 8 1 2, 3");
        assert_eq!(read("vingt et un, trinta e quatro"), "20   1, 30   4");
        assert_eq!(read("someone said one"), "someone said 1");
        assert_eq!(read("rock and roll"), "rock and roll");
        assert_eq!(read("one and then two"), "1 and then 2");
    }
}
