//! The words and phrases that show a question asks for identifying information, in each
//! language, from `sync-core/data/identifying/*.txt`.
//!
//! A file has these sections:
//! - `[anywhere]`: `kind: phrase`, refused wherever the phrase stands as whole words ("date
//!   of birth", "surname"), or, in a script written without spaces (Thai), anywhere in a run
//!   of text that starts and ends on syllable boundaries.
//! - `[alone]`: `kind: word`, refused when a string holds nothing but such words and filler
//!   ("Phone?", "Your name:", `respondent_name`). On its own a word like "name" or "phone"
//!   asks for one; in a sentence ("How many phones did you hand out?", "Do not write
//!   names") it usually does not, and refusing every such sentence would refuse the forms
//!   outreach teams need. Options are choices, not requests, so they are checked against
//!   `[anywhere]` only.
//! - `[filler]`: words that do not change what an `[alone]` word asks for ("your", "the",
//!   "respondent").
//! - `[allowed]`: phrases that hold an `[anywhere]` phrase but mean something else (Thai
//!   "วันเกิดเหตุ", the day an incident happened, holds "วันเกิด", birthday).
//!
//! Kinds are `name`, `phone`, `email`, `address`, `location`, `birth` and `id`. Entries are
//! compared folded, like the form's text: case, accents, look-alike letters and dash
//! variants do not matter, and `_`, `-`, `'` and spaces all split words.
//!
//! To add a language, add its file and a line to [`LANGUAGES`].

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use super::words::{Words, on_syllable_boundaries};
use crate::scrub::word_list::entries;

const LANGUAGES: [(&str, &str); 5] = [
    ("en", include_str!("../../../data/identifying/en.txt")),
    ("es", include_str!("../../../data/identifying/es.txt")),
    ("fr", include_str!("../../../data/identifying/fr.txt")),
    ("pt", include_str!("../../../data/identifying/pt.txt")),
    ("th", include_str!("../../../data/identifying/th.txt")),
];

/// Each kind of entry and what a refusal says is asked for.
const KINDS: [(&str, &str); 7] = [
    ("name", "a name"),
    ("phone", "a phone number"),
    ("email", "an e-mail address"),
    ("address", "an address"),
    ("location", "a location"),
    ("birth", "a date of birth"),
    ("id", "an id number"),
];

/// Marks a run of words taken out by `[allowed]`: it matches no entry and is no filler.
const ALLOWED: &str = "\0";

pub(super) static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    let mut lexicon = Lexicon::default();
    for (language, file) in LANGUAGES {
        lexicon
            .add(file)
            .unwrap_or_else(|line| panic!("data/identifying/{language}.txt: bad line {line:?}"));
    }
    lexicon
});

#[derive(Default)]
pub(super) struct Lexicon {
    /// `[anywhere]` phrases in spaced scripts, by their first word.
    anywhere: HashMap<String, Vec<(Vec<String>, &'static str)>>,
    /// `[anywhere]` phrases in unspaced scripts, without spaces.
    anywhere_unspaced: Vec<(String, &'static str)>,
    alone: HashMap<String, &'static str>,
    filler: HashSet<String>,
    allowed: Vec<Vec<String>>,
    allowed_unspaced: Vec<String>,
    /// Every word of a spaced-script entry, sorted, to read glued ids ("respondentname").
    dictionary: Vec<String>,
}

impl Lexicon {
    /// Adds a language's file; a line that does not fit its section is returned.
    fn add<'f>(&mut self, file: &'f str) -> Result<(), &'f str> {
        for (section, line) in entries(file) {
            let (what, phrase) = match section {
                "anywhere" | "alone" => {
                    let (kind, phrase) = line.split_once(':').ok_or(line)?;
                    let what = KINDS.iter().find(|(k, _)| *k == kind.trim()).ok_or(line)?.1;
                    (Some(what), phrase)
                }
                "filler" | "allowed" => (None, line),
                _ => return Err(line),
            };
            let words = Words::of(phrase);
            let unspaced = !words.unspaced.is_empty();
            if words.tokens.is_empty() {
                return Err(line);
            }
            for token in &words.tokens {
                if !unspaced && token.len() >= 2 && token.bytes().all(|b| b.is_ascii_alphabetic()) {
                    self.dictionary.push(token.clone());
                }
            }
            match (section, what) {
                ("anywhere", Some(what)) if unspaced => self.anywhere_unspaced.push((words.unspaced, what)),
                ("anywhere", Some(what)) => {
                    let mut tokens = words.tokens;
                    let first = tokens.remove(0);
                    self.anywhere.entry(first).or_default().push((tokens, what));
                }
                ("alone", Some(what)) if words.tokens.len() == 1 => {
                    self.alone.insert(words.tokens.concat(), what);
                }
                ("filler", None) if words.tokens.len() == 1 => {
                    self.filler.insert(words.tokens.concat());
                }
                ("allowed", None) if unspaced => self.allowed_unspaced.push(words.unspaced),
                ("allowed", None) => self.allowed.push(words.tokens),
                _ => return Err(line),
            }
        }
        self.dictionary.sort_unstable();
        self.dictionary.dedup();
        Ok(())
    }

    /// What `text` asks for, if it asks for identifying information; `alone` tells whether
    /// `[alone]` entries count (they do not in options).
    pub(super) fn asked_for(&self, text: &str, alone: bool) -> Option<&'static str> {
        let words = Words::of(text);
        let mut tokens = Vec::with_capacity(words.tokens.len());
        for token in words.tokens {
            self.unglue(token, &mut tokens);
        }
        for allowed in &self.allowed {
            blank(&mut tokens, allowed);
        }
        self.anywhere_in(&tokens)
            .or_else(|| self.anywhere_in_unspaced(words.unspaced))
            .or_else(|| alone.then(|| self.alone_in(&tokens)).flatten())
    }

    fn anywhere_in(&self, tokens: &[String]) -> Option<&'static str> {
        tokens.iter().enumerate().find_map(|(i, token)| {
            let phrases = self.anywhere.get(token)?;
            phrases
                .iter()
                .find(|(rest, _)| tokens[i + 1..].starts_with(rest))
                .map(|&(_, what)| what)
        })
    }

    fn anywhere_in_unspaced(&self, mut text: String) -> Option<&'static str> {
        if text.is_empty() {
            return None;
        }
        for allowed in &self.allowed_unspaced {
            text = text.replace(allowed.as_str(), ALLOWED);
        }
        self.anywhere_unspaced.iter().find_map(|(phrase, what)| {
            text.match_indices(phrase.as_str())
                .any(|(at, _)| on_syllable_boundaries(&text, at, at + phrase.len()))
                .then_some(*what)
        })
    }

    /// What a string made only of `[alone]` words and filler asks for. Numbers and single
    /// letters count as filler ("q1_name", "Name 2").
    fn alone_in(&self, tokens: &[String]) -> Option<&'static str> {
        let mut asked = None;
        for token in tokens {
            let counts = token.chars().nth(1).is_some()
                && !token.chars().all(char::is_numeric)
                && !self.filler.contains(token);
            if counts {
                asked = asked.or(Some(*self.alone.get(token)?));
            }
        }
        asked
    }

    /// Adds a word to `tokens`, read as the words it is glued from ("respondentname" as
    /// "respondent", "name") when it is in no list itself and splits wholly into words of
    /// the lists, each of two letters or more (so "names" is not "name" and "s").
    fn unglue(&self, token: String, tokens: &mut Vec<String>) {
        let glued = token.len() >= 4
            && token.bytes().all(|b| b.is_ascii_alphabetic())
            && self.dictionary.binary_search(&token).is_err();
        match glued.then(|| self.split_glued(&token)).flatten() {
            Some(parts) => tokens.extend(parts),
            None => tokens.push(token),
        }
    }

    /// The split of `word` into the fewest words of the dictionary, if there is one.
    fn split_glued(&self, word: &str) -> Option<Vec<String>> {
        self.words_starting(word).next()?;
        // fewest[i]: the fewest words `word[..i]` splits into, and where the last one starts.
        let mut fewest: Vec<Option<(usize, usize)>> = vec![None; word.len() + 1];
        fewest[0] = Some((0, 0));
        for start in 0..word.len() {
            let Some((count, _)) = fewest[start] else {
                continue;
            };
            for len in self.words_starting(&word[start..]) {
                let end = start + len;
                if fewest[end].is_none_or(|(best, _)| count + 1 < best) {
                    fewest[end] = Some((count + 1, start));
                }
            }
        }
        let mut parts = Vec::new();
        let mut end = word.len();
        while end > 0 {
            let (_, start) = fewest[end]?;
            parts.push(word[start..end].to_owned());
            end = start;
        }
        parts.reverse();
        Some(parts)
    }

    /// The lengths of the dictionary words `text` starts with. Found by their first two
    /// letters in the sorted dictionary, as this runs for every long word of every form the
    /// server reads.
    fn words_starting<'s>(&'s self, text: &'s str) -> impl Iterator<Item = usize> + 's {
        let head = text.get(..2).unwrap_or(text);
        let first = self.dictionary.partition_point(|w| w.as_str() < head);
        self.dictionary[first..]
            .iter()
            .take_while(move |w| w.starts_with(head))
            .filter(move |w| text.starts_with(w.as_str()))
            .map(String::len)
    }
}

/// Replaces each run of `tokens` equal to `phrase` by [`ALLOWED`].
fn blank(tokens: &mut Vec<String>, phrase: &[String]) {
    let mut i = 0;
    while i + phrase.len() <= tokens.len() {
        if tokens[i..].starts_with(phrase) {
            tokens.splice(i..i + phrase.len(), [ALLOWED.to_owned()]);
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_file_loads() {
        let lexicon = &*LEXICON;
        assert_eq!(lexicon.asked_for("Date of birth", true), Some("a date of birth"));
        assert_eq!(
            lexicon.asked_for("Fecha de nacimiento", true),
            Some("a date of birth")
        );
        assert_eq!(
            lexicon.asked_for("Date de naissance", true),
            Some("a date of birth")
        );
        assert_eq!(
            lexicon.asked_for("Data de nascimento", true),
            Some("a date of birth")
        );
        assert_eq!(lexicon.asked_for("วันเกิด", true), Some("a date of birth"));
    }

    #[test]
    fn refuses_malformed_lines() {
        let mut lexicon = Lexicon::default();
        assert_eq!(lexicon.add("[anywhere]\nphone number"), Err("phone number"));
        assert_eq!(lexicon.add("[anywhere]\nshoe: size"), Err("shoe: size"));
        assert_eq!(lexicon.add("[alone]\nname: full name"), Err("name: full name"));
        assert_eq!(lexicon.add("[filler]\nthe the"), Err("the the"));
        assert_eq!(lexicon.add("[colours]\nred"), Err("red"));
        assert_eq!(lexicon.add("[anywhere]\nname: ---"), Err("name: ---"));
    }

    #[test]
    fn reads_glued_words_only_when_they_split_wholly() {
        let split = |w: &str| {
            let mut tokens = Vec::new();
            LEXICON.unglue(w.to_owned(), &mut tokens);
            tokens
        };
        assert_eq!(split("respondentname"), ["respondent", "name"]);
        assert_eq!(split("dateofbirth"), ["date", "of", "birth"]);
        assert_eq!(split("tournament"), ["tournament"]);
        assert_eq!(split("names"), ["names"]);
        assert_eq!(split("surname"), ["surname"]);
    }
}
