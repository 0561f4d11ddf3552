//! The `survey`, `choices` and `settings` sheets, row by row, into a form. Problems are
//! collected, not returned at the first, and each names its sheet, row and column.

use std::collections::{BTreeMap, HashMap};

use sync_core::{
    Choice, Compare, Expr, Form, Question, QuestionKind, Section, Translation, check_identifier,
    identifying_request,
};

use super::columns::{Texts, language_tag, languages, split_header};
use super::workbook::{Row, Sheet, Workbook};
use super::{Defaults, Dropped, ImportError, Imported, Note, Problem, Report};

/// Types that record the device, the person using it or the time, which this platform
/// never stores. Dropped, and listed in the report.
const METADATA_TYPES: &[&str] = &[
    "start",
    "end",
    "today",
    "deviceid",
    "subscriberid",
    "simserial",
    "username",
    "phonenumber",
    "email",
    "audit",
    "start-geopoint",
];

/// Types that identify a person or a place: the form is refused, naming the row.
const IDENTIFYING_TYPES: &[(&str, &str)] = &[
    ("geopoint", "a location"),
    ("geotrace", "a location"),
    ("geoshape", "a location"),
    ("background-geopoint", "a location"),
    ("image", "a photo"),
    ("audio", "a recording"),
    ("background-audio", "a recording"),
    ("video", "a recording"),
    ("file", "a file"),
    ("barcode", "an id number"),
    ("phone number", "a phone number"),
];

/// Survey columns whose meaning the form model cannot keep: a non-empty cell refuses the form.
const REFUSED_COLUMNS: &[(&str, &str)] = &[
    ("choice_filter", "choice filters (cascading selects)"),
    ("calculation", "calculations"),
    ("repeat_count", "repeats"),
    ("default", "default answers"),
    ("trigger", "triggers"),
    ("parameters", "type parameters"),
];

/// Columns read by the converter; any other non-empty column is ignored and reported.
const READ_COLUMNS: &[&str] = &[
    "type",
    "name",
    "label",
    "hint",
    "required",
    "relevant",
    "constraint",
];

/// Unconstrained XLSForm integers get this range; a `constraint` narrows or moves it.
const INTEGER_RANGE: (i64, i64) = (0, 999_999);

/// Where an item of the form came from, to name rows in problems found after building.
#[derive(Clone, Copy)]
enum Item {
    Question(usize),
    Section(usize),
}

struct Converter<'a> {
    defaults: &'a Defaults,
    problems: Vec<Problem>,
    report: Report,
    default_language: Option<String>,
    languages: Vec<String>,
    /// Choice lists by name: the row and name of each choice, and its label texts.
    lists: HashMap<String, Vec<(u32, String, Texts)>>,
    questions: Vec<Question>,
    sections: Vec<Section>,
    /// Form items in order with their survey rows.
    items: Vec<(Item, u32)>,
    /// Names used so far, by row.
    names: HashMap<String, u32>,
    /// Likert questions read from numbered lists, whose rules compare them with numbers.
    likert: Vec<String>,
    /// The section the outermost open group made.
    open_section: Option<String>,
}

pub fn convert(mut book: Workbook, defaults: &Defaults) -> Result<Imported, ImportError> {
    let Some(survey) = book.sheets.remove("survey") else {
        return Err(ImportError::Refused(vec![Problem {
            code: "missing_sheet",
            sheet: "survey".into(),
            row: None,
            column: None,
            message: "the workbook has no sheet named survey".into(),
        }]));
    };
    let choices = book.sheets.remove("choices").unwrap_or_default();
    let settings = book.sheets.remove("settings").unwrap_or_default();
    let mut converter = Converter {
        defaults,
        problems: Vec::new(),
        report: Report::default(),
        default_language: None,
        languages: Vec::new(),
        lists: HashMap::new(),
        questions: Vec::new(),
        sections: Vec::new(),
        items: Vec::new(),
        names: HashMap::new(),
        likert: Vec::new(),
        open_section: None,
    };
    let settings_row = settings.rows.first();
    converter.read_languages(&survey, &choices, settings_row);
    converter.read_choices(&choices);
    converter.read_survey(&survey);
    let form = converter.assemble(settings_row);
    converter.finish(&form)
}

impl Converter<'_> {
    fn problem(
        &mut self,
        code: &'static str,
        sheet: &str,
        row: Option<u32>,
        column: Option<&str>,
        message: String,
    ) {
        self.problems.push(Problem {
            code,
            sheet: sheet.to_owned(),
            row,
            column: column.map(str::to_owned),
            message,
        });
    }

    fn note(&mut self, sheet: &str, row: Option<u32>, column: Option<&str>, message: String) {
        self.report.notes.push(Note {
            sheet: sheet.to_owned(),
            row,
            column: column.map(str::to_owned),
            message,
        });
    }

    /// A cell's text, or a problem naming it when it holds no text.
    fn text<'r>(&mut self, sheet: &str, row: &'r Row, column: &str) -> Option<&'r str> {
        match row.text(column) {
            Ok(text) => text,
            Err(why) => {
                self.problem(
                    "bad_cell",
                    sheet,
                    Some(row.number),
                    Some(column),
                    format!("the cell {why}"),
                );
                None
            }
        }
    }

    /// The texts of a column in every language; `None`, with a problem, when a cell holds no text.
    fn texts(&mut self, sheet: &str, row: &Row, base: &str) -> Option<Texts> {
        Texts::of(row, base)
            .map_err(|(column, why)| {
                self.problem(
                    "bad_cell",
                    sheet,
                    Some(row.number),
                    Some(&column),
                    format!("the cell {why}"),
                );
            })
            .ok()
    }

    /// The default language is the settings' `default_language`, else, when every label is
    /// in a named language, the first one; other languages become translations.
    fn read_languages(&mut self, survey: &Sheet, choices: &Sheet, settings: Option<&Row>) {
        for sheet in [survey, choices] {
            for (header, message) in languages(&sheet.columns, &mut self.languages) {
                self.problem(
                    "bad_language",
                    &sheet.name,
                    Some(sheet.header_row),
                    Some(&header),
                    message,
                );
            }
        }
        let declared = settings.and_then(|row| self.text("settings", row, "default_language"));
        self.default_language = match declared {
            Some(raw) => match language_tag(raw) {
                Ok(tag) => Some(tag),
                Err(message) => {
                    let row = settings.map(|r| r.number);
                    self.problem("bad_setting", "settings", row, Some("default_language"), message);
                    None
                }
            },
            None if !survey.columns.values().any(|h| h == "label") => self.languages.first().cloned(),
            None => None,
        };
        self.languages
            .retain(|l| Some(l) != self.default_language.as_ref());
    }

    fn read_choices(&mut self, choices: &Sheet) {
        let sheet = choices.name.as_str();
        for row in &choices.rows {
            let list = self
                .text(sheet, row, "list_name")
                .or_else(|| row.text("list name").ok().flatten());
            let name = self.text(sheet, row, "name");
            let texts = self.texts(sheet, row, "label").unwrap_or_default();
            let (Some(list), Some(name)) = (list, name) else {
                if list.is_some() || name.is_some() || !texts.is_empty() {
                    self.problem(
                        "bad_choice",
                        sheet,
                        Some(row.number),
                        None,
                        "a choice needs both a list_name and a name".into(),
                    );
                }
                continue;
            };
            if let Err(e) = check_identifier("choice name", name) {
                self.problem("bad_name", sheet, Some(row.number), Some("name"), e.to_string());
            }
            let list = self.lists.entry(list.to_owned()).or_default();
            if list.iter().any(|(_, n, _)| n == name) {
                let message = format!("choice {name:?} appears twice in its list");
                self.problem("duplicate_name", sheet, Some(row.number), Some("name"), message);
                continue;
            }
            list.push((row.number, name.to_owned(), texts));
        }
    }

    fn read_survey(&mut self, survey: &Sheet) {
        let sheet = survey.name.as_str();
        self.report_columns(survey);
        // Open groups: the row that began each and its relevant rule; the outermost is a
        // section, inner ones only add their rule to their questions'.
        let mut groups: Vec<(u32, Option<String>, usize)> = Vec::new();
        for row in &survey.rows {
            let Some(kind) = self.text(sheet, row, "type") else {
                if row.cells.keys().any(|c| READ_COLUMNS.contains(&c.as_str())) {
                    self.problem(
                        "missing_type",
                        sheet,
                        Some(row.number),
                        Some("type"),
                        "the row has no type".into(),
                    );
                }
                continue;
            };
            let kind = kind
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            for (column, what) in REFUSED_COLUMNS {
                if matches!(row.text(column), Ok(Some(_)) | Err(_)) {
                    let message = format!("{what} are not supported; the form cannot keep their meaning");
                    self.problem(
                        "unsupported_column",
                        sheet,
                        Some(row.number),
                        Some(column),
                        message,
                    );
                }
            }
            match kind.as_str() {
                "begin group" | "begin_group" => {
                    let relevant = self.relevant(sheet, row);
                    if groups.is_empty() {
                        let section = self.section(sheet, row, relevant);
                        groups.push((row.number, None, self.questions.len()));
                        self.open_section = section.as_ref().map(|s| s.id.clone());
                        if let Some(section) = section {
                            self.items.push((Item::Section(self.sections.len()), row.number));
                            self.sections.push(section);
                        }
                    } else {
                        self.name(sheet, row);
                        groups.push((row.number, relevant, self.questions.len()));
                    }
                }
                "end group" | "end_group" => {
                    let closed = groups.pop();
                    if groups.is_empty() {
                        self.open_section = None;
                    }
                    match closed {
                        None => self.problem(
                            "unbalanced_group",
                            sheet,
                            Some(row.number),
                            Some("type"),
                            "end_group without a begin_group".into(),
                        ),
                        Some((begun, _, first)) if groups.is_empty() && first == self.questions.len() => {
                            let message = format!("the group begun at row {begun} has no questions");
                            self.problem("empty_group", sheet, Some(begun), Some("type"), message);
                        }
                        Some(_) => {}
                    }
                }
                kind if METADATA_TYPES.contains(&kind) => {
                    self.report.dropped.push(Dropped {
                        sheet: sheet.to_owned(),
                        row: row.number,
                        kind: kind.to_owned(),
                        name: row.text("name").ok().flatten().unwrap_or_default().to_owned(),
                        reason: "records the device, its user or the time; this platform never does",
                    });
                }
                kind => {
                    let rules: Vec<&str> = groups.iter().filter_map(|(_, rule, _)| rule.as_deref()).collect();
                    let rules: Vec<String> = rules.into_iter().map(str::to_owned).collect();
                    self.question(sheet, row, kind, &rules);
                }
            }
        }
        for (begun, _, _) in groups {
            let message = "begin_group without its end_group".to_owned();
            self.problem("unbalanced_group", sheet, Some(begun), Some("type"), message);
        }
    }

    /// Columns the converter does not read are reported once each.
    fn report_columns(&mut self, survey: &Sheet) {
        let mut ignored: Vec<&str> = Vec::new();
        for row in &survey.rows {
            for column in row.cells.keys() {
                let base = super::columns::split_header(column)
                    .map(|h| h.base)
                    .unwrap_or_default();
                let read =
                    READ_COLUMNS.contains(&base.as_str()) || REFUSED_COLUMNS.iter().any(|(c, _)| *c == base);
                if !read && !ignored.contains(&column.as_str()) {
                    ignored.push(column);
                }
            }
        }
        for column in ignored {
            let message = format!("column {column:?} is not used by this platform and was ignored");
            self.note(&survey.name, None, Some(column), message);
        }
    }

    /// The row's name, checked as an id and for uniqueness.
    fn name(&mut self, sheet: &str, row: &Row) -> Option<String> {
        // An unreadable cell is reported as such, not again as a missing name.
        let readable = row.text("name").is_ok();
        let Some(name) = self.text(sheet, row, "name") else {
            if readable {
                let message = "the row has no name".to_owned();
                self.problem("bad_name", sheet, Some(row.number), Some("name"), message);
            }
            return None;
        };
        if let Err(e) = check_identifier("name", name) {
            self.problem("bad_name", sheet, Some(row.number), Some("name"), e.to_string());
            return None;
        }
        if let Some(first) = self.names.insert(name.to_owned(), row.number) {
            let message = format!("name {name:?} is already used at row {first}");
            self.problem("duplicate_name", sheet, Some(row.number), Some("name"), message);
            return None;
        }
        Some(name.to_owned())
    }

    fn relevant(&mut self, sheet: &str, row: &Row) -> Option<String> {
        self.text(sheet, row, "relevant").map(str::to_owned)
    }

    fn section(&mut self, sheet: &str, row: &Row, relevant: Option<String>) -> Option<Section> {
        let id = self.name(sheet, row);
        let texts = self.texts(sheet, row, "label").unwrap_or_default();
        let default = self.default_language.clone();
        let label = texts
            .default_text(default.as_deref())
            .unwrap_or_default()
            .to_owned();
        let translations = self
            .languages
            .iter()
            .filter_map(|l| {
                texts
                    .translated(l, default.as_deref())
                    .map(|t| (l.clone(), t.to_owned()))
            })
            .collect();
        Some(Section {
            id: id?,
            label,
            relevant,
            translations,
        })
    }

    fn question(&mut self, sheet: &str, row: &Row, kind: &str, group_rules: &[String]) {
        let at = Some(row.number);
        if let Some((_, what)) = IDENTIFYING_TYPES.iter().find(|(t, _)| *t == kind) {
            let message = format!(
                "type {kind:?} asks for {what}; this platform never collects identifying information"
            );
            self.problem("identifying_question", sheet, at, Some("type"), message);
            return;
        }
        // Before anything else is said of the row: a `decimal` asking "Your phone number?"
        // is refused for what it asks, not for its type.
        if let Some(what) = identifying_request(&row_texts(row)) {
            let message =
                format!("the row asks for {what}; this platform never collects identifying information");
            self.problem("identifying_question", sheet, at, None, message);
            return;
        }
        let Some(shape) = self.shape(sheet, row, kind) else {
            return;
        };
        let name = self.name(sheet, row);
        let hints = self.texts(sheet, row, "hint").unwrap_or_default();
        let Some(texts) = self.texts(sheet, row, "label") else {
            return;
        };
        let default = self.default_language.clone();
        let Some(label) = texts.default_text(default.as_deref()).map(str::to_owned) else {
            let message = "the question has no label in the form's default language".into();
            self.problem("missing_label", sheet, at, Some("label"), message);
            return;
        };
        let required = match self
            .text(sheet, row, "required")
            .map(str::to_lowercase)
            .as_deref()
        {
            None | Some("no" | "false" | "false()" | "0") => false,
            Some("yes" | "true" | "true()" | "1") => true,
            Some(other) => {
                let message = format!("required is {other:?}; only yes or no is supported, not a condition");
                self.problem("unsupported_column", sheet, at, Some("required"), message);
                false
            }
        };
        let mut rules: Vec<String> = group_rules.to_vec();
        rules.extend(self.relevant(sheet, row));
        let relevant = match rules.len() {
            0 => None,
            1 => rules.pop(),
            _ => Some(
                rules
                    .iter()
                    .map(|r| format!("({r})"))
                    .collect::<Vec<_>>()
                    .join(" and "),
            ),
        };
        let Some(id) = name else { return };
        let (mut kind, options) = shape;
        if let Some(constraint) = self.text(sheet, row, "constraint").map(str::to_owned) {
            kind = self.constrain(sheet, row, &id, kind, &constraint);
        } else if matches!(kind, QuestionKind::Integer { .. }) {
            let (min, max) = INTEGER_RANGE;
            let message = format!("integer {id:?} has no constraint; answers may be {min} to {max}");
            self.note(sheet, at, Some("constraint"), message);
        }
        let mut translations = BTreeMap::new();
        for language in &self.languages {
            let label_in = texts.translated(language, default.as_deref());
            let hint = hints.translated(language, default.as_deref()).map(str::to_owned);
            let option_labels: Vec<(String, String)> = options
                .iter()
                .filter_map(|(name, t)| {
                    t.translated(language, default.as_deref())
                        .map(|l| (name.clone(), l.to_owned()))
                })
                .collect();
            if label_in.is_none() && hint.is_none() && option_labels.is_empty() {
                continue;
            }
            let label = label_in.unwrap_or(&label).to_owned();
            let (options, points) = match kind {
                QuestionKind::Likert { .. } if option_labels.len() == options.len() => (
                    BTreeMap::new(),
                    option_labels.into_iter().map(|(_, l)| l).collect(),
                ),
                QuestionKind::Likert { .. } => (BTreeMap::new(), Vec::new()),
                _ => (option_labels.into_iter().collect(), Vec::new()),
            };
            translations.insert(
                language.clone(),
                Translation::Texts {
                    label,
                    hint,
                    options,
                    points,
                },
            );
        }
        self.items
            .push((Item::Question(self.questions.len()), row.number));
        self.questions.push(Question {
            id,
            label,
            kind,
            required,
            hint: hints.default_text(default.as_deref()).map(str::to_owned),
            translations,
            relevant,
            section: self.open_section.clone(),
        });
    }

    /// The question's kind from its type, and its choices with their texts.
    fn shape(&mut self, sheet: &str, row: &Row, kind: &str) -> Option<(QuestionKind, Vec<(String, Texts)>)> {
        let at = Some(row.number);
        let unsupported = |what: &str| format!("type {kind:?}: {what} are not supported");
        let simple = match kind {
            "text" | "string" => Some(QuestionKind::Text { max_len: 500 }),
            "integer" | "int" => Some(QuestionKind::Integer {
                min: INTEGER_RANGE.0,
                max: INTEGER_RANGE.1,
            }),
            "date" => Some(QuestionKind::Date),
            "note" => Some(QuestionKind::Note),
            _ => None,
        };
        if let Some(simple) = simple {
            return Some((simple, Vec::new()));
        }
        let words: Vec<&str> = kind.split(' ').collect();
        let (multiple, rest) = match words.as_slice() {
            ["select_one" | "select1", rest @ ..] | ["select", "one", rest @ ..] => (false, rest),
            ["select_multiple", rest @ ..]
            | ["select", "multiple", rest @ ..]
            | ["select", "all", "that", "apply", rest @ ..] => (true, rest),
            [first, ..] if first.starts_with("select_") || first.starts_with("select1_") => {
                let message = unsupported("external and file selects");
                self.problem("unsupported_type", sheet, at, Some("type"), message);
                return None;
            }
            ["begin_repeat" | "end_repeat" | "begin_loop" | "end_loop", ..]
            | ["begin" | "end", "repeat" | "loop", ..] => {
                self.problem(
                    "unsupported_type",
                    sheet,
                    at,
                    Some("type"),
                    unsupported("repeats"),
                );
                return None;
            }
            _ => {
                let message = format!("type {kind:?} is not supported here");
                self.problem("unsupported_type", sheet, at, Some("type"), message);
                return None;
            }
        };
        let rest = match rest {
            ["from", rest @ ..] => rest,
            rest => rest,
        };
        let list = match rest {
            [list] => *list,
            [_, "or_other"] | [_, "or", "specify", "other"] => {
                self.problem(
                    "unsupported_type",
                    sheet,
                    at,
                    Some("type"),
                    unsupported("\"other, specify\" choices"),
                );
                return None;
            }
            _ => {
                let message = format!("type {kind:?} does not name one choice list");
                self.problem("unsupported_type", sheet, at, Some("type"), message);
                return None;
            }
        };
        let Some(choices) = self.lists.get(list) else {
            let message = format!("choice list {list:?} is not on the choices sheet");
            self.problem("unknown_choice_list", sheet, at, Some("type"), message);
            return None;
        };
        let default = self.default_language.clone();
        let options: Vec<(String, Texts)> = choices.iter().map(|(_, n, t)| (n.clone(), t.clone())).collect();
        let labelled: Vec<Choice> = options
            .iter()
            .map(|(id, texts)| match texts.default_text(default.as_deref()) {
                Some(label) => Choice::Labelled {
                    id: id.clone(),
                    label: label.to_owned(),
                },
                None => Choice::Id(id.clone()),
            })
            .collect();
        let scale = options.len();
        let numbered = (3..=7).contains(&scale)
            && options
                .iter()
                .enumerate()
                .all(|(i, (id, _))| *id == (i + 1).to_string());
        let kind = if multiple {
            QuestionKind::Multi { options: labelled }
        } else if numbered {
            let name = row.text("name").ok().flatten().unwrap_or_default().to_owned();
            self.likert.push(name.clone());
            let message = format!("{name:?} chooses from 1 to {scale} and is read as a likert scale");
            self.note(sheet, at, Some("type"), message);
            let labels = if labelled.iter().all(|c| matches!(c, Choice::Labelled { .. })) {
                labelled.iter().map(|c| c.label().to_owned()).collect()
            } else {
                Vec::new()
            };
            QuestionKind::Likert {
                scale: scale as i64,
                reverse: false,
                labels,
            }
        } else {
            QuestionKind::Single { options: labelled }
        };
        Some((kind, options))
    }

    /// An integer's `constraint` becomes its range: XLSForm's `. >= 0 and . <= 120`, in the
    /// expression language with `.` for the answer. Anything else has no place in the model.
    fn constrain(
        &mut self,
        sheet: &str,
        row: &Row,
        id: &str,
        kind: QuestionKind,
        constraint: &str,
    ) -> QuestionKind {
        let at = Some(row.number);
        let QuestionKind::Integer { mut min, mut max } = kind else {
            let message = "constraints are supported on integer questions only, as their range".into();
            self.problem("unsupported_column", sheet, at, Some("constraint"), message);
            return kind;
        };
        let source = answer_for_dot(constraint, id);
        let read = Expr::parse(&source)
            .ok()
            .is_some_and(|expr| bounds(&expr, id, &mut min, &mut max));
        if !read {
            let message = format!(
                "constraint {constraint:?} is not a range; write comparisons of . with whole numbers joined by and, e.g. . >= 0 and . <= 120"
            );
            self.problem("unsupported_column", sheet, at, Some("constraint"), message);
        } else if min > max {
            let message = format!("constraint {constraint:?} allows no answer");
            self.problem("bad_constraint", sheet, at, Some("constraint"), message);
        } else {
            self.note(
                sheet,
                at,
                Some("constraint"),
                format!("integer {id:?} takes {min} to {max}"),
            );
        }
        QuestionKind::Integer { min, max }
    }

    /// The form from what was read, with the `settings` sheet's id, title, version and areas.
    fn assemble(&mut self, settings: Option<&Row>) -> Form {
        let at = settings.map(|r| r.number);
        let setting =
            |this: &mut Self, column: &str| settings.and_then(|row| this.text("settings", row, column));
        let id = match setting(self, "form_id")
            .map(str::to_owned)
            .or_else(|| self.defaults.form_id.clone())
        {
            Some(id) => {
                if let Err(e) = check_identifier("form_id", &id) {
                    self.problem("bad_setting", "settings", at, Some("form_id"), e.to_string());
                }
                id
            }
            None => {
                let message = "the settings sheet has no form_id".to_owned();
                self.problem("bad_setting", "settings", at, Some("form_id"), message);
                String::new()
            }
        };
        let title = setting(self, "form_title").map_or_else(|| id.clone(), str::to_owned);
        let version = match setting(self, "version") {
            None => 1,
            Some(text) => match text.parse::<i64>() {
                Ok(version) if version >= 1 => version,
                _ => {
                    let message = format!("version {text:?} is not a whole number of 1 or more");
                    self.problem("bad_setting", "settings", at, Some("version"), message);
                    1
                }
            },
        };
        let mut areas = self.defaults.areas.clone();
        if areas.is_empty() {
            areas = setting(self, "areas")
                .map(|text| {
                    text.split([' ', ',', ';'])
                        .filter(|a| !a.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
        }
        if areas.is_empty() {
            let message = "the form names no areas: add an areas column to the settings sheet, or give them with the import".to_owned();
            self.problem("bad_setting", "settings", at, Some("areas"), message);
        }
        for area in &areas {
            if let Err(e) = check_identifier("area", area) {
                self.problem("bad_setting", "settings", at, Some("areas"), e.to_string());
            }
        }
        let mut questions = std::mem::take(&mut self.questions);
        let mut sections = std::mem::take(&mut self.sections);
        for rule in questions
            .iter_mut()
            .map(|q| &mut q.relevant)
            .chain(sections.iter_mut().map(|s| &mut s.relevant))
            .flatten()
        {
            *rule = compare_likert_as_numbers(rule, &self.likert);
        }
        Form {
            id,
            version,
            title,
            areas,
            questions,
            scores: Vec::new(),
            sections,
            default_language: self.default_language.clone(),
            title_translations: BTreeMap::new(),
        }
    }

    /// Checks what needs the whole form (rules, identifying texts), then lets sync-core check
    /// the form as it checks every published one.
    fn finish(mut self, form: &Form) -> Result<Imported, ImportError> {
        let mut earlier: Vec<&str> = Vec::new();
        let mut found = Vec::new();
        for &(item, row) in &self.items {
            let (value, rule) = match item {
                Item::Question(i) => (
                    serde_json::to_value(&form.questions[i]),
                    &form.questions[i].relevant,
                ),
                Item::Section(i) => (
                    serde_json::to_value(&form.sections[i]),
                    &form.sections[i].relevant,
                ),
            };
            if let Some(what) = value.ok().as_ref().and_then(identifying_request) {
                let message =
                    format!("the row asks for {what}; this platform never collects identifying information");
                found.push(("identifying_question", row, None, message));
            }
            if let Some(rule) = rule
                && let Err(problem) = Expr::parse(rule).and_then(|expr| expr.check(form, &earlier))
            {
                found.push((
                    "bad_expression",
                    row,
                    Some("relevant"),
                    format!("the relevant rule {problem}"),
                ));
            }
            if let Item::Question(i) = item {
                earlier.push(&form.questions[i].id);
            }
        }
        for (code, row, column, message) in found {
            self.problem(code, "survey", Some(row), column, message);
        }
        if self.problems.is_empty() {
            let value = serde_json::to_value(form).map_err(|e| ImportError::NotWorkbook(e.to_string()))?;
            match Form::from_value(value) {
                Ok(form) => {
                    return Ok(Imported {
                        form,
                        report: self.report,
                    });
                }
                Err(e) => {
                    let row = self.row_named_by(&e);
                    self.problem(e.code(), "survey", row, None, e.to_string());
                }
            }
        }
        let sheet_order = |sheet: &str| {
            ["survey", "choices", "settings"]
                .iter()
                .position(|s| sheet.eq_ignore_ascii_case(s))
        };
        self.problems
            .sort_by_key(|p| (p.code != "identifying_question", sheet_order(&p.sheet), p.row));
        Err(ImportError::Refused(self.problems))
    }

    /// The survey row of the question or section a sync-core error names.
    fn row_named_by(&self, error: &sync_core::Error) -> Option<u32> {
        use sync_core::Error::*;
        let id = match error {
            DuplicateId(id) | ReservedId(id) => id,
            EmptyOptions { question }
            | ScaleOutOfRange { question, .. }
            | MinAboveMax { question, .. }
            | BadTextLimit { question, .. }
            | WrongAnswerType { question, .. }
            | IdentifyingQuestion { question, .. } => question,
            _ => return None,
        };
        self.names.get(id).copied()
    }
}

/// A row's name, labels and hints in every language, as the identifying checks read a
/// question.
fn row_texts(row: &Row) -> serde_json::Value {
    let texts: Vec<&str> = row
        .cells
        .keys()
        .filter(|header| {
            let base = split_header(header).map(|h| h.base).unwrap_or_default();
            ["name", "label", "hint"].contains(&base.as_str())
        })
        .filter_map(|header| row.text(header).ok().flatten())
        .collect();
    serde_json::json!({ "texts": texts })
}

/// XLSForm writes the answer being checked as `.`; the expression language names it.
fn answer_for_dot(constraint: &str, id: &str) -> String {
    let mut out = String::new();
    let mut quoted = None;
    for c in constraint.chars() {
        match (c, quoted) {
            ('\'' | '"', None) => quoted = Some(c),
            (c, Some(q)) if c == q => quoted = None,
            ('.', None) => {
                out.push_str(&format!("${{{id}}}"));
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// Narrows `min..=max` by a conjunction of comparisons of `${id}` with numbers; false for
/// anything else.
fn bounds(expr: &Expr, id: &str, min: &mut i64, max: &mut i64) -> bool {
    let (op, n) = match expr {
        Expr::And(terms) => return terms.iter().all(|t| bounds(t, id, min, max)),
        Expr::Compare(left, op, right) => match (left.as_ref(), right.as_ref()) {
            (Expr::Question(q), Expr::Number(n)) if q == id => (*op, *n),
            (Expr::Number(n), Expr::Question(q)) if q == id => (flip(*op), *n),
            _ => return false,
        },
        _ => return false,
    };
    match op {
        Compare::Ge => *min = (*min).max(n),
        Compare::Gt => *min = (*min).max(n.saturating_add(1)),
        Compare::Le => *max = (*max).min(n),
        Compare::Lt => *max = (*max).min(n.saturating_sub(1)),
        Compare::Eq => {
            *min = (*min).max(n);
            *max = (*max).min(n);
        }
        Compare::Ne => return false,
    }
    true
}

fn flip(op: Compare) -> Compare {
    match op {
        Compare::Lt => Compare::Gt,
        Compare::Le => Compare::Ge,
        Compare::Gt => Compare::Lt,
        Compare::Ge => Compare::Le,
        other => other,
    }
}

/// A likert question read from a numbered choice list answers with a number, so the rules
/// XLSForm writes for it, `${q} = '4'` and `selected(${q}, '4')`, compare it with the number.
fn compare_likert_as_numbers(rule: &str, likert: &[String]) -> String {
    let mut rule = rule.to_owned();
    for id in likert {
        let pattern = regex_lite::escape(id);
        let compared = regex_lite::Regex::new(&format!(r"\$\{{{pattern}\}}\s*(=|!=)\s*'(\d+)'"));
        let selected = regex_lite::Regex::new(&format!(r"selected\(\s*\$\{{{pattern}\}}\s*,\s*'(\d+)'\s*\)"));
        // `$$` is a literal `$` in a replacement.
        if let (Ok(compared), Ok(selected)) = (compared, selected) {
            rule = compared
                .replace_all(&rule, format!("$${{{id}}} $1 $2"))
                .into_owned();
            rule = selected
                .replace_all(&rule, format!("$${{{id}}} = $1"))
                .into_owned();
        }
    }
    rule
}
