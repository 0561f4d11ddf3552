//! The words the scrubber reads in each language, from `sync-core/data/scrub/*.txt`.
//!
//! A file has these sections, each entry written as people spell it (entries are folded
//! like the text they are compared with, so case and accents do not matter):
//! - `[digits]`: a number word and the digits it stands for (`seven 7`, `twenty 20`). Tens
//!   are enough: "twenty three" reads as `20 3`, one digit more than the number has, and a
//!   run that reads longer than it is can only be masked sooner, never later.
//! - `[joiners]`: words that join two number words ("vingt et un", "treinta y dos").
//! - `[months]`: month names and abbreviations.
//! - `[date words]`: small words between a day, a month and a year ("12 de marzo de 1998").
//! - `[ordinals]`: endings written after a day ("12th", "1er").
//!
//! To add a language, add its file and a line to [`LANGUAGES`].

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use super::fold::fold_lowercase;
use super::word_list::entries;

const LANGUAGES: [(&str, &str); 4] = [
    ("en", include_str!("../../data/scrub/en.txt")),
    ("es", include_str!("../../data/scrub/es.txt")),
    ("fr", include_str!("../../data/scrub/fr.txt")),
    ("pt", include_str!("../../data/scrub/pt.txt")),
];

pub(super) static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    let mut lexicon = Lexicon::default();
    for (language, file) in LANGUAGES {
        lexicon
            .add(file)
            .unwrap_or_else(|line| panic!("data/scrub/{language}.txt: bad line {line:?}"));
    }
    lexicon
});

#[derive(Default)]
pub(super) struct Lexicon {
    digits: HashMap<String, String>,
    joiners: HashSet<String>,
    months: HashSet<String>,
    date_words: HashSet<String>,
    ordinals: HashSet<String>,
    /// The longest entry in bytes, so longer words are never looked up.
    longest: usize,
}

impl Lexicon {
    /// Adds a language's file; a line that does not fit its section is returned.
    fn add<'f>(&mut self, file: &'f str) -> Result<(), &'f str> {
        for (section, line) in entries(file) {
            let mut words = line.split_whitespace();
            let word = fold_lowercase(words.next().ok_or(line)?);
            let value = words.next();
            let set = match (section, value) {
                ("digits", Some(digits)) if digits.bytes().all(|b| b.is_ascii_digit()) => {
                    self.digits
                        .entry(word.clone())
                        .or_insert_with(|| digits.to_owned());
                    None
                }
                ("joiners", None) => Some(&mut self.joiners),
                ("months", None) => Some(&mut self.months),
                ("date words", None) => Some(&mut self.date_words),
                ("ordinals", None) => Some(&mut self.ordinals),
                _ => return Err(line),
            };
            if words.next().is_some() {
                return Err(line);
            }
            self.longest = self.longest.max(word.len());
            if let Some(set) = set {
                set.insert(word);
            }
        }
        Ok(())
    }

    /// The digits a number word stands for.
    pub(super) fn digits(&self, word: &str) -> Option<&str> {
        self.lookup(word, |w| self.digits.get(w).map(String::as_str))
    }

    pub(super) fn is_joiner(&self, word: &str) -> bool {
        self.lookup(word, |w| self.joiners.contains(w).then_some(()))
            .is_some()
    }

    pub(super) fn is_month(&self, word: &str) -> bool {
        self.lookup(word, |w| self.months.contains(w).then_some(()))
            .is_some()
    }

    pub(super) fn is_date_word(&self, word: &str) -> bool {
        self.lookup(word, |w| self.date_words.contains(w).then_some(()))
            .is_some()
    }

    pub(super) fn is_ordinal(&self, word: &str) -> bool {
        self.lookup(word, |w| self.ordinals.contains(w).then_some(()))
            .is_some()
    }

    /// Looks a word of folded text up by its lower case, without allocating for the usual
    /// word that is lower case already.
    fn lookup<T>(&self, word: &str, find: impl Fn(&str) -> Option<T>) -> Option<T> {
        if word.len() > self.longest {
            return None;
        }
        if word.chars().any(char::is_uppercase) {
            find(&word.to_lowercase())
        } else {
            find(word)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_file_loads() {
        // Lookups take folded text: "Zéro" reads as "Zero".
        let lexicon = &*LEXICON;
        assert_eq!(lexicon.digits("Zero"), Some("0"));
        assert_eq!(lexicon.digits("cero"), Some("0"));
        assert_eq!(lexicon.digits("tres"), Some("3"));
        assert_eq!(lexicon.digits("twenty"), Some("20"));
        assert!(lexicon.is_month("Aout") && lexicon.is_month("marco") && lexicon.is_month("MARCH"));
        assert!(lexicon.is_joiner("et") && lexicon.is_date_word("de") && lexicon.is_ordinal("th"));
        assert_eq!(lexicon.digits("someone"), None);
    }

    #[test]
    fn refuses_malformed_lines() {
        let mut lexicon = Lexicon::default();
        assert_eq!(lexicon.add("[digits]\nseven"), Err("seven"));
        assert_eq!(lexicon.add("[digits]\nseven seven"), Err("seven seven"));
        assert_eq!(lexicon.add("[months]\nmay june"), Err("may june"));
        assert_eq!(lexicon.add("[colours]\nred"), Err("red"));
    }
}
