//! Splits a string of a form into the words the identifying-question lists are matched
//! against.

use crate::scrub::fold::fold_lowercase;

/// A string of a question, folded (case, accents, look-alike letters, dash variants) and
/// split into words.
pub(super) struct Words {
    /// Runs of letters or of digits: `_`, `-`, spaces and punctuation split words, and so
    /// does a change from letters to digits ("phone2" is "phone", "2").
    pub(super) tokens: Vec<String>,
    /// The folded text without spaces or punctuation, for scripts written without spaces
    /// between words (Thai): empty when the text holds none of them.
    pub(super) unspaced: String,
}

impl Words {
    pub(super) fn of(text: &str) -> Words {
        let folded = fold_lowercase(text);
        let mut tokens = Vec::new();
        let mut current = String::new();
        let mut current_is_digit = false;
        for c in folded.chars() {
            let (in_word, is_digit) = if c.is_ascii() {
                (c.is_ascii_alphanumeric(), c.is_ascii_digit())
            } else {
                let in_word = c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c);
                (in_word, c.is_numeric())
            };
            if (!in_word || is_digit != current_is_digit) && !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            if in_word {
                current.push(c);
                current_is_digit = is_digit;
            }
        }
        if !current.is_empty() {
            tokens.push(current);
        }
        let unspaced = if folded.chars().any(is_unspaced_script) {
            tokens.concat()
        } else {
            String::new()
        };
        Words { tokens, unspaced }
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
        assert_eq!(words.tokens, ["respondent", "s", "phone", "2", "e", "mail"]);
        assert!(words.unspaced.is_empty());
        let thai = Words::of("ชื่อ - นามสกุล");
        assert_eq!(thai.tokens, ["ชื่อ", "นามสกุล"]);
        assert_eq!(thai.unspaced, "ชื่อนามสกุล");
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
