//! Column headers and the texts under them: `label`, `label::English (en)`, `label:es`,
//! `hint::Español (es)`. XLSForm names a language in the header; the form model keys texts by
//! language tag, so a header's language is read as the code in its parentheses, or from its
//! name for the languages outreach teams use most.

use std::collections::BTreeMap;

use super::workbook::Row;

/// Language names a header may use without a code, lowercased.
const NAMED_LANGUAGES: &[(&str, &str)] = &[
    ("english", "en"),
    ("spanish", "es"),
    ("español", "es"),
    ("espanol", "es"),
    ("french", "fr"),
    ("français", "fr"),
    ("francais", "fr"),
    ("portuguese", "pt"),
    ("português", "pt"),
    ("thai", "th"),
    ("arabic", "ar"),
    ("chinese", "zh"),
    ("swahili", "sw"),
    ("vietnamese", "vi"),
    ("indonesian", "id"),
    ("russian", "ru"),
    ("ukrainian", "uk"),
    ("romanian", "ro"),
];

/// A header: what its column holds (`label`, `list_name`) and the language written in it.
pub struct Header {
    pub base: String,
    pub language: Option<String>,
}

/// Splits a (lowercased) header. The base keeps XLSForm's spellings apart from spaces
/// (`list name` is `list_name`); a language that cannot be read as a tag is an error.
pub fn split_header(header: &str) -> Result<Header, String> {
    let (base, language) = match header.split_once(':') {
        Some((base, rest)) => (base, Some(rest.trim_start_matches(':').trim())),
        None => (header, None),
    };
    let base = base.split_whitespace().collect::<Vec<_>>().join("_");
    let language = match language {
        None => None,
        Some(raw) => Some(language_tag(raw)?),
    };
    Ok(Header { base, language })
}

/// `English (en)` -> `en`, `Español` -> `es`, `pt-br` -> `pt-br`.
pub fn language_tag(raw: &str) -> Result<String, String> {
    let raw = raw.trim().to_lowercase();
    let code = match raw.rsplit_once('(') {
        Some((_, code)) if code.ends_with(')') => code.trim_end_matches(')').trim().to_owned(),
        _ => NAMED_LANGUAGES
            .iter()
            .find(|(name, _)| *name == raw)
            .map_or_else(|| raw.clone(), |(_, code)| (*code).to_owned()),
    };
    sync_core::check_identifier("language", &code)
        .map(|()| code)
        .map_err(|_| {
            format!("cannot tell which language {raw:?} is: write it as `Name (code)`, e.g. `Español (es)`")
        })
}

/// The columns whose language makes a form's languages; `media::image::English` or
/// `constraint_message::English` add none.
pub const TRANSLATED: &[&str] = &["label", "hint"];

/// Every language a sheet's label and hint headers name, in column order; a header whose
/// language cannot be read is returned with why.
pub fn languages(columns: &BTreeMap<u32, String>, into: &mut Vec<String>) -> Vec<(String, String)> {
    let mut unreadable = Vec::new();
    for header in columns.values() {
        let Some((base, _)) = header.split_once(':') else {
            continue;
        };
        let base = base.split_whitespace().collect::<Vec<_>>().join("_");
        if !TRANSLATED.contains(&base.as_str()) {
            continue;
        }
        match split_header(header) {
            Ok(Header {
                language: Some(language),
                ..
            }) if !into.contains(&language) => into.push(language),
            Ok(_) => {}
            Err(why) => unreadable.push((header.clone(), why)),
        }
    }
    unreadable
}

/// One text of a row in each language it is written in.
#[derive(Debug, Default, Clone)]
pub struct Texts {
    /// Under the header with no language.
    pub plain: Option<String>,
    pub by_language: BTreeMap<String, String>,
}

impl Texts {
    /// The texts of `base` (`label`, `hint`) in `row`; an unreadable cell gives its column.
    pub fn of(row: &Row, base: &str) -> Result<Texts, (String, &'static str)> {
        let mut texts = Texts::default();
        for header in row.cells.keys() {
            let Ok(split) = split_header(header) else {
                continue;
            };
            if split.base != base {
                continue;
            }
            let text = row.text(header).map_err(|why| (header.clone(), why))?;
            let Some(text) = text else { continue };
            match split.language {
                None => texts.plain = Some(text.to_owned()),
                Some(language) => {
                    texts.by_language.insert(language, text.to_owned());
                }
            }
        }
        Ok(texts)
    }

    /// The text in the form's default language: the plain column, else that language's.
    pub fn default_text(&self, default: Option<&str>) -> Option<&str> {
        self.plain
            .as_deref()
            .or_else(|| default.and_then(|d| self.by_language.get(d).map(String::as_str)))
    }

    /// The text in `language`, when it is not the default language.
    pub fn translated(&self, language: &str, default: Option<&str>) -> Option<&str> {
        (Some(language) != default)
            .then(|| self.by_language.get(language).map(String::as_str))
            .flatten()
    }

    pub fn is_empty(&self) -> bool {
        self.plain.is_none() && self.by_language.is_empty()
    }
}
