//! The rows a valid document contributes to the SQL tables that aggregates read. Free text is
//! never materialized: it stays inside the document, which no analyst query can reach.

use sync_core::{Answer, CheckedDocument, Conflict, Day, ResponseView, SiteView, TallyView};
use uuid::Uuid;

use crate::storage::{AnswerRow, ConflictRow, Materialized, ResponseRow, SiteRow, TallyDays, TallyRow};

/// `None` for form documents, which only the server writes and which have no rows. A site's
/// tallies grow on `stored_on`, the day the server stores the write, and a response first
/// stored submitted is dated by it (`docs/privacy.md`, "Retention").
pub fn rows_of(checked: &CheckedDocument, owner: Uuid, stored_on: Day) -> Option<Materialized> {
    match checked {
        CheckedDocument::Response(view) => Some(Materialized::Response(response_row(view, owner, stored_on))),
        CheckedDocument::Site(view) => Some(Materialized::Site(site_row(view, stored_on))),
        CheckedDocument::Tally(view) => Some(Materialized::Tally(tally_row(view, owner, stored_on))),
        CheckedDocument::Form(_) => None,
    }
}

fn response_row(view: &ResponseView, device: Uuid, stored_on: Day) -> ResponseRow {
    ResponseRow {
        device,
        form: view.form.clone(),
        form_version: view.form_version,
        status: view.status.as_str(),
        collected_on: view.collected_on.to_string(),
        area: view.area.clone(),
        week: view.collected_on.iso_week_key(),
        month: view.collected_on.month_key(),
        stored_on,
        answers: view
            .answers
            .iter()
            .flat_map(|(question, answer)| answer_rows(question, answer))
            .collect(),
    }
}

fn answer_rows(question: &str, answer: &Answer) -> Vec<AnswerRow> {
    let text = |value: String| AnswerRow {
        question: question.to_owned(),
        value: Some(value),
        num: None,
    };
    match answer {
        Answer::Single(option) => vec![text(option.clone())],
        Answer::Multi(options) => options.iter().cloned().map(text).collect(),
        Answer::Date(day) => vec![text(day.to_string())],
        Answer::Likert(n) | Answer::Integer(n) => vec![AnswerRow {
            question: question.to_owned(),
            value: None,
            num: Some(*n),
        }],
        Answer::Text(_) => Vec::new(),
    }
}

/// A site's counts as its document holds them. A write that adds device tallies to the site
/// sets `folded` itself.
pub fn site_row(view: &SiteView, stored_on: Day) -> SiteRow {
    SiteRow {
        site: view.site.clone(),
        tallies: view.tallies.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        folded: None,
        counted: TallyDays::GrowthOn(stored_on),
    }
}

fn tally_row(view: &TallyView, device: Uuid, stored_on: Day) -> TallyRow {
    TallyRow {
        device,
        site: view.site,
        tallies: view.tallies.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        stored_on,
    }
}

/// Conflict values come from sync-core already scrubbed of contact details.
pub fn conflict_rows(conflicts: Vec<Conflict>) -> Vec<ConflictRow> {
    conflicts
        .into_iter()
        .map(|c| ConflictRow {
            candidates: serde_json::Value::from(c.values).to_string(),
            path: c.path,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_is_never_a_row_and_multi_gives_one_row_per_option() {
        assert!(answer_rows("notes", &Answer::Text("met at the bus stop".into())).is_empty());
        let rows = answer_rows("help", &Answer::Multi(vec!["ngo".into(), "police".into()]));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].value.as_deref(), Some("police"));
        let likert = answer_rows("s1", &Answer::Likert(4));
        assert_eq!((likert[0].value.as_deref(), likert[0].num), (None, Some(4)));
    }
}
