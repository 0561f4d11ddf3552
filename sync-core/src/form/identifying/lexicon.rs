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
    let mut lexicon = Lexicon::new();
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
    /// Every word of a spaced-script entry that is ASCII letters, to read glued ids
    /// ("respondentname"), by the position of its first two letters in [`head`].
    dictionary: Vec<Vec<String>>,
}

impl Lexicon {
    fn new() -> Lexicon {
        Lexicon {
            dictionary: vec![Vec::new(); HEADS],
            ..Lexicon::default()
        }
    }

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
            let tokens: Vec<String> = words.tokens().map(str::to_owned).collect();
            let unspaced = words.unspaced();
            if tokens.is_empty() {
                return Err(line);
            }
            for token in tokens.iter().filter(|_| unspaced.is_none()) {
                if let Some(head) = head(token)
                    && !self.dictionary[head].contains(token)
                {
                    self.dictionary[head].push(token.clone());
                }
            }
            match (section, what, unspaced) {
                ("anywhere", Some(what), Some(unspaced)) => self.anywhere_unspaced.push((unspaced, what)),
                ("anywhere", Some(what), None) => {
                    let mut tokens = tokens;
                    let first = tokens.remove(0);
                    self.anywhere.entry(first).or_default().push((tokens, what));
                }
                ("alone", Some(what), _) if tokens.len() == 1 => {
                    self.alone.insert(tokens.concat(), what);
                }
                ("filler", None, _) if tokens.len() == 1 => {
                    self.filler.insert(tokens.concat());
                }
                ("allowed", None, Some(unspaced)) => self.allowed_unspaced.push(unspaced),
                ("allowed", None, None) => self.allowed.push(tokens),
                _ => return Err(line),
            }
        }
        Ok(())
    }

    /// What `text` asks for, if it asks for identifying information; `alone` tells whether
    /// `[alone]` entries count (they do not in options).
    pub(super) fn asked_for(&self, text: &str, alone: bool) -> Option<&'static str> {
        let words = Words::of(text);
        let mut tokens = Vec::new();
        for token in words.tokens() {
            self.unglue(token, &mut tokens);
        }
        for allowed in &self.allowed {
            blank(&mut tokens, allowed);
        }
        self.anywhere_in(&tokens)
            .or_else(|| self.anywhere_in_unspaced(words.unspaced()?))
            .or_else(|| alone.then(|| self.alone_in(&tokens)).flatten())
    }

    fn anywhere_in(&self, tokens: &[&str]) -> Option<&'static str> {
        tokens.iter().enumerate().find_map(|(i, &token)| {
            let phrases = self.anywhere.get(token)?;
            phrases
                .iter()
                .find(|(rest, _)| {
                    rest.len() < tokens.len() - i && rest.iter().zip(&tokens[i + 1..]).all(|(a, b)| a == b)
                })
                .map(|&(_, what)| what)
        })
    }

    fn anywhere_in_unspaced(&self, mut text: String) -> Option<&'static str> {
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
    fn alone_in(&self, tokens: &[&str]) -> Option<&'static str> {
        let mut asked = None;
        for &token in tokens {
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
    fn unglue<'t>(&self, token: &'t str, tokens: &mut Vec<&'t str>) {
        let glued = token.len() >= 4 && !self.words_starting(token).any(|len| len == token.len());
        if !(glued && self.split_glued(token, tokens)) {
            tokens.push(token);
        }
    }

    /// Adds the split of `word` into the fewest words of the dictionary to `tokens`, if there
    /// is one.
    fn split_glued<'t>(&self, word: &'t str, tokens: &mut Vec<&'t str>) -> bool {
        if self.words_starting(word).next().is_none() {
            return false;
        }
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
        let Some((count, _)) = fewest[word.len()] else {
            return false;
        };
        let first = tokens.len();
        tokens.resize(first + count, "");
        let mut end = word.len();
        for slot in tokens[first..].iter_mut().rev() {
            let start = fewest[end].map_or(0, |(_, start)| start);
            *slot = &word[start..end];
            end = start;
        }
        true
    }

    /// The lengths of the dictionary words `text` starts with. This runs for every word of
    /// every form the server reads, so the words are found by their first two letters rather
    /// than searched for.
    fn words_starting<'s>(&'s self, text: &'s str) -> impl Iterator<Item = usize> + 's {
        let bucket = head(text).and_then(|head| self.dictionary.get(head));
        bucket
            .into_iter()
            .flatten()
            .filter(move |word| text.starts_with(word.as_str()))
            .map(String::len)
    }
}

/// Pairs of lower-case ASCII letters.
const HEADS: usize = 26 * 26;

/// Where a word of two lower-case ASCII letters or more is filed by its first two.
fn head(word: &str) -> Option<usize> {
    match word.as_bytes() {
        [a @ b'a'..=b'z', b @ b'a'..=b'z', ..] => Some(usize::from(a - b'a') * 26 + usize::from(b - b'a')),
        _ => None,
    }
}

/// Replaces each run of `tokens` equal to `phrase` by [`ALLOWED`].
fn blank(tokens: &mut Vec<&str>, phrase: &[String]) {
    let mut i = 0;
    while i + phrase.len() <= tokens.len() {
        if phrase.iter().zip(&tokens[i..]).all(|(a, b)| a == b) {
            tokens.splice(i..i + phrase.len(), [ALLOWED]);
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
    fn allowed_phrases_hide_what_they_hold() {
        let mut lexicon = Lexicon::new();
        assert_eq!(
            lexicon.add("[anywhere]\nbirth: born\n[allowed]\nborn free\n"),
            Ok(())
        );
        assert_eq!(lexicon.asked_for("Have you seen Born Free?", true), None);
        assert_eq!(
            lexicon.asked_for("Born free, born in 1990?", true),
            Some("a date of birth")
        );
        assert_eq!(LEXICON.asked_for("ในวันเกิดเหตุ", true), None);
        assert_eq!(
            LEXICON.asked_for("วันเกิดเหตุ หรือ วันเกิด", true),
            Some("a date of birth")
        );
    }

    #[test]
    fn refuses_malformed_lines() {
        let mut lexicon = Lexicon::new();
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
            LEXICON.unglue(w, &mut tokens);
            tokens.iter().map(|t| t.to_string()).collect::<Vec<_>>()
        };
        assert_eq!(split("respondentname"), ["respondent", "name"]);
        assert_eq!(split("dateofbirth"), ["date", "of", "birth"]);
        assert_eq!(split("tournament"), ["tournament"]);
        assert_eq!(split("names"), ["names"]);
        assert_eq!(split("surname"), ["surname"]);
    }
}
