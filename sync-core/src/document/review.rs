//! Supervisors' reviews of a response, kept in a review document beside it.
//!
//! A review document (`survey.review/1`) belongs to one response and is written by the server
//! alone: phones never receive it and never write a review. Were the verdict a change to the
//! response document itself, a phone would hold it and send it back after a server restore
//! from backup, and the server could not tell that change from a phone approving its own
//! work. Each review is one change putting a new map at `verdict` holding `state`, `note`
//! (empty for none) and `reviewed` (the heads of the response it looked at). Two concurrent
//! reviews are two concurrent puts of `verdict`, and Automerge keeps one of them whole (the
//! greater operation id) on every replica, whatever order they merged in. Putting the three
//! keys at the root would not do: Automerge makes no operation for a put of the value a key
//! already holds, so a review repeating the standing state would race only on its note, and
//! the note of one review could stand beside the state of another.
//!
//! A review covers the response as it was when it was made. A change to the response it did
//! not see (a phone's late edit, made offline before the review, or one made after) leaves
//! the verdict readable but reopens it: [`ReviewStanding::state`] is `pending` until a
//! supervisor reviews again.

use automerge::{ActorId, AutoCommit, ObjType, ROOT, transaction::Transactable};
use uuid::Uuid;

use super::commit_private;
use super::read::Fields;
use super::response::{REVIEW_NOTE_MAX, Review, ReviewState, parse_review_state};
use crate::answer::check_free_text;
use crate::{ChangeHash, Error, Result, scrub_free_text};

pub const SCHEMA: &str = "survey.review/1";
const FIELDS: &[&str] = &["schema", "response", "verdict"];
const VERDICT_FIELDS: &[&str] = &["state", "note", "reviewed"];

/// What a review document says: the winning review and the response heads it looked at.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewRecord {
    pub response: Uuid,
    pub review: Review,
    pub reviewed: Vec<ChangeHash>,
}

/// A response's review as it counts now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReviewStanding {
    /// What the last review (Automerge's winner among concurrent ones) set.
    pub review: Review,
    /// The response changed in a way the review did not see.
    pub edited_since: bool,
}

impl ReviewStanding {
    /// `approved` or `flagged` while the review covers the response as it is; else `pending`.
    pub fn state(&self) -> ReviewState {
        match self.review.state {
            Some(state) if !self.edited_since => state,
            _ => ReviewState::Pending,
        }
    }
}

impl Review {
    /// A supervisor's verdict (approved or flagged) with its note scrubbed of contact details
    /// and id numbers, like every free text. A note over [`REVIEW_NOTE_MAX`] characters is
    /// refused rather than cut; a blank one is none.
    pub fn scrubbed(state: ReviewState, note: Option<&str>) -> Result<Review> {
        if state == ReviewState::Pending {
            return Err(Error::FieldType {
                field: "state".into(),
                expected: "approved or flagged",
            });
        }
        let note = match note.map(str::trim).filter(|n| !n.is_empty()) {
            None => None,
            Some(note) => {
                if note.chars().count() > REVIEW_NOTE_MAX {
                    return Err(Error::TextTooLong {
                        field: "review note".into(),
                        max_len: REVIEW_NOTE_MAX,
                    });
                }
                let scrubbed = scrub_free_text(note);
                check_free_text("review note", &scrubbed, REVIEW_NOTE_MAX)?;
                Some(scrubbed)
            }
        };
        Ok(Review {
            state: Some(state),
            note,
        })
    }
}

/// A new review document of `response`, with its own random actor.
pub fn create(response: Uuid) -> Result<AutoCommit> {
    let mut doc = AutoCommit::new().with_actor(ActorId::random());
    doc.put(ROOT, "schema", SCHEMA)?;
    doc.put(ROOT, "response", response.to_string())?;
    commit_private(&mut doc);
    Ok(doc)
}

/// Records a review of the response as it stood at `reviewed` (its heads), as one change.
pub fn record(doc: &mut AutoCommit, review: &Review, reviewed: &[ChangeHash]) -> Result<()> {
    let state = review.state.ok_or_else(|| Error::MissingField("state".into()))?;
    let note = review.note.as_deref().unwrap_or("");
    check_free_text("review note", note, REVIEW_NOTE_MAX)?;
    let mut heads = reviewed.to_vec();
    heads.sort();
    let heads: String = heads
        .iter()
        .map(ChangeHash::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let verdict = doc.put_object(ROOT, "verdict", ObjType::Map)?;
    doc.put(&verdict, "state", state.as_str())?;
    doc.put(&verdict, "note", note)?;
    doc.put(&verdict, "reviewed", heads)?;
    commit_private(doc);
    Ok(())
}

/// Reads and checks a review document.
pub fn read(doc: &AutoCommit) -> Result<ReviewRecord> {
    let root = Fields::of(doc, &ROOT);
    root.only("", FIELDS)?;
    let schema = root.string("schema")?;
    if schema != SCHEMA {
        return Err(Error::Schema {
            expected: SCHEMA,
            found: schema.chars().take(80).collect(),
        });
    }
    let response = root.uuid("response")?;
    let Some(verdict) = root.object("verdict", ObjType::Map)? else {
        return Ok(ReviewRecord {
            response,
            review: Review::default(),
            reviewed: Vec::new(),
        });
    };
    let verdict = Fields::of(doc, verdict);
    verdict.only("verdict.", VERDICT_FIELDS)?;
    let note = verdict.string("note")?;
    check_free_text("review note", note, REVIEW_NOTE_MAX)?;
    let reviewed = verdict
        .string("reviewed")?
        .split(',')
        .filter(|h| !h.is_empty())
        .map(|h| {
            h.parse::<ChangeHash>().map_err(|_| Error::FieldType {
                field: "reviewed".into(),
                expected: "the reviewed response's heads",
            })
        })
        .collect::<Result<_>>()?;
    Ok(ReviewRecord {
        response,
        review: Review {
            state: Some(parse_review_state(verdict.string("state")?)?),
            note: (!note.is_empty()).then(|| note.to_owned()),
        },
        reviewed,
    })
}

/// Where the response's review stands: the winning verdict, and whether `response` holds a
/// change the review did not see.
pub fn standing(record: Option<&ReviewRecord>, response: &mut AutoCommit) -> ReviewStanding {
    let Some(record) = record.filter(|r| r.review.state.is_some()) else {
        return ReviewStanding::default();
    };
    // Heads the response lacks (it was reset meanwhile) leave nothing the review covers.
    let edited_since = !response.get_missing_deps(&record.reviewed).is_empty()
        || !response.get_changes(&record.reviewed).is_empty();
    ReviewStanding {
        review: record.review.clone(),
        edited_since,
    }
}
