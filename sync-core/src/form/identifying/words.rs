//! Splits a string of a form into the words the identifying-question lists are matched
//! against.

use std::ops::Range;

use crate::scrub::fold::fold_lowercase;

/// A string of a question, folded (case, accents, look-alike letters, dash variants) and
/// split into words.
pub(super) struct Words {
    folded: String,
    /// Runs of letters or of digits: `_`, `-`, spaces and punctuation split words, and so
    /// does a change from letters to digits ("phone2" is "phone", "2").
    spans: Vec<Range<usize>>,
}

impl Words {
    pub(super) fn of(text: &str) -> Words {
        let folded = fold_lowercase(text);
        let mut spans = Vec::new();
        let mut start = None;
        let mut in_digits = false;
        for (i, c) in folded.char_indices() {
            let (in_word, is_digit) = if c.is_ascii() {
                (c.is_ascii_alphanumeric(), c.is_ascii_digit())
            } else {
                let in_word = c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c);
                (in_word, c.is_numeric())
            };
            if let Some(s) = start.filter(|_| !in_word || is_digit != in_digits) {
                spans.push(s..i);
                start = None;
            }
            if in_word && start.is_none() {
                start = Some(i);
                in_digits = is_digit;
            }
        }
        spans.extend(start.map(|s| s..folded.len()));
        Words { folded, spans }
    }

    pub(super) fn tokens(&self) -> impl Iterator<Item = &str> {
        self.spans.iter().map(|span| &self.folded[span.clone()])
    }

    /// The words run together, for scripts written without spaces between words (Thai);
    /// `None` when the text holds none of them.
    pub(super) fn unspaced(&self) -> Option<String> {
        self.folded
            .chars()
            .any(is_unspaced_script)
            .then(|| self.tokens().collect())
    }
}

/// Scripts written without spaces between words, whose phrases are matched inside longer
/// runs of text: Thai, Lao, Khmer, Myanmar, and Chinese and Japanese.
pub(super) fn is_unspaced_script(c: char) -> bool {
    matches!(
        c,
        '\u{0E00}'..='\u{0EFF}'
            | '\u{1000}'..='\u{109F}'
            | '\u{1780}'..='\u{17FF}'
            | '\u{3040}'..='\u{30FF}'
            | '\u{3400}'..='\u{9FFF}'
    )
}

/// Whether an unspaced phrase found at `start..end` of `text` stands on syllable
/// boundaries: a Thai or Lao syllable may start with a vowel written before its consonant
/// ("เชื่อ", believe, holds "ชื่อ", name) and end with marks and vowels after it.
pub(super) fn on_syllable_boundaries(text: &str, start: usize, end: usize) -> bool {
    let leading_vowel = |c: char| matches!(c, '\u{0E40}'..='\u{0E44}' | '\u{0EC0}'..='\u{0EC4}');
    let trailing = |c: char| {
        unicode_normalization::char::is_combining_mark(c)
            || matches!(
                c,
                '\u{0E30}' | '\u{0E32}' | '\u{0E33}' | '\u{0E45}' | '\u{0EB0}' | '\u{0EB2}' | '\u{0EB3}'
            )
    };
    !text[..start].chars().next_back().is_some_and(leading_vowel)
        && !text[end..].chars().next().is_some_and(trailing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_punctuation_and_digits_and_folds() {
        let words = Words::of("Respondent's Phοne_2 (E\u{2011}mail)");
        let tokens: Vec<&str> = words.tokens().collect();
        assert_eq!(tokens, ["respondent", "s", "phone", "2", "e", "mail"]);
        assert_eq!(words.unspaced(), None);
        let thai = Words::of("ชื่อ - นามสกุล");
        assert_eq!(thai.tokens().collect::<Vec<_>>(), ["ชื่อ", "นามสกุล"]);
        assert_eq!(thai.unspaced().as_deref(), Some("ชื่อนามสกุล"));
    }

    #[test]
    fn thai_phrases_stand_on_syllables() {
        let believe = "เชื่อจริง";
        let at = believe.find("ชื่อ").expect("found");
        assert!(!on_syllable_boundaries(believe, at, at + "ชื่อ".len()));
        let name = "ชื่อจริง";
        assert!(on_syllable_boundaries(name, 0, name.len()));
    }
}
