//! Histories a hostile client writes with Automerge itself: each hides something in a change
//! that a later change overwrites, deletes or outvotes, so the merged state alone looks clean.
//! Each test first shows that the state passes the state checks and that the smuggled text is
//! in the bytes sent, then that the merge refuses the history.

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc, ScalarValue};
use sync_core::{CheckedDocument, DocKind, Error, Form, MergeOutcome, merge_incoming, response, site, tally};
use uuid::Uuid;

use crate::support::{form, new_response_edit};

const PHONE: &str = "0812345678";

fn actor() -> ActorId {
    ActorId::random()
}

/// Every change of `doc`, uncompressed, so the smuggled text can be looked for in the bytes.
fn all_changes(doc: &mut AutoCommit) -> Vec<Vec<u8>> {
    doc.get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

fn carries(changes: &[Vec<u8>], text: &str) -> bool {
    changes
        .iter()
        .any(|c| c.windows(text.len()).any(|w| w == text.as_bytes()))
}

/// Merges `incoming` into `stored` and checks the result as the server does.
fn merge(
    stored: Option<&[u8]>,
    incoming: &[Vec<u8>],
    kind: DocKind,
    form: Option<&Form>,
) -> Result<CheckedDocument, Error> {
    match merge_incoming(stored, incoming)? {
        MergeOutcome::Merged(mut merged) => merged.validate(kind, form),
        MergeOutcome::NeedAll => panic!("every change was sent"),
    }
}

fn new_site() -> AutoCommit {
    site::create(Uuid::new_v4(), "pier-7", "Pier 7", &["contacts", "kits"]).expect("site")
}

fn new_response() -> AutoCommit {
    response::create(Uuid::new_v4(), form(), &new_response_edit(1)).expect("response")
}

fn commit(doc: &mut AutoCommit) {
    doc.commit_with(automerge::transaction::CommitOptions::default().with_time(0));
}

/// Finding 1: a site renamed to a phone number and given an undeclared field, then restored.
#[test]
fn a_site_history_that_hid_contact_details_is_refused() {
    let mut doc = new_site().with_actor(actor());
    doc.put(ROOT, "name", format!("Jane Doe call {PHONE}"))
        .expect("put");
    doc.put(ROOT, "secret", "passport K1234567 jane@example.org")
        .expect("put");
    commit(&mut doc);
    doc.put(ROOT, "name", "Pier 7").expect("put");
    doc.delete(ROOT, "secret").expect("delete");
    commit(&mut doc);
    let changes = all_changes(&mut doc);
    assert!(carries(&changes, PHONE) && carries(&changes, "K1234567"));
    assert!(site::read(&doc).is_ok(), "the final state alone passes");

    assert!(matches!(
        merge(None, &changes, DocKind::Site, None),
        Err(Error::UnscrubbedText { .. })
    ));
    // The undeclared field alone, set and deleted again.
    let mut secret = new_site().with_actor(actor());
    secret.put(ROOT, "secret", "K1234567").expect("put");
    commit(&mut secret);
    secret.delete(ROOT, "secret").expect("delete");
    commit(&mut secret);
    assert_eq!(
        merge(None, &all_changes(&mut secret), DocKind::Site, None),
        Err(Error::UndeclaredField("secret".into()))
    );
    // The rename alone, without the undeclared field, is refused for its text.
    let mut renamed = new_site().with_actor(actor());
    renamed
        .put(ROOT, "name", format!("Jane Doe call {PHONE}"))
        .expect("put");
    commit(&mut renamed);
    renamed.put(ROOT, "name", "Pier 7").expect("put");
    commit(&mut renamed);
    assert!(matches!(
        merge(None, &all_changes(&mut renamed), DocKind::Site, None),
        Err(Error::UnscrubbedText { .. })
    ));
}

/// Finding 1, responses: an answer overwritten, a nested object deleted later.
#[test]
fn a_response_history_with_an_overwritten_answer_is_refused() {
    let mut doc = new_response().with_actor(actor());
    let answers = doc.get(ROOT, "answers").expect("get").expect("answers").1;
    doc.put(&answers, "notes", format!("her number {PHONE}, name Jane Doe"))
        .expect("put");
    commit(&mut doc);
    doc.put(&answers, "notes", "ok").expect("put");
    commit(&mut doc);
    let changes = all_changes(&mut doc);
    assert!(carries(&changes, PHONE));
    assert!(
        response::read(&doc, form()).is_ok(),
        "the final state alone passes"
    );
    assert!(matches!(
        merge(None, &changes, DocKind::Response, Some(form())),
        Err(Error::UnscrubbedText { .. })
    ));

    // A map under an undeclared key, filled and deleted again.
    let mut nested = new_response().with_actor(actor());
    let extra = nested.put_object(ROOT, "extra", ObjType::Map).expect("object");
    nested.put(&extra, "who", "Jane Doe").expect("put");
    commit(&mut nested);
    nested.delete(ROOT, "extra").expect("delete");
    commit(&mut nested);
    assert_eq!(
        merge(None, &all_changes(&mut nested), DocKind::Response, Some(form())),
        Err(Error::UndeclaredField("extra".into()))
    );
}

/// Finding 1: a text object typed letter by letter, then deleted and typed over.
#[test]
fn every_letter_ever_typed_into_a_text_object_is_checked() {
    let mut doc = new_response().with_actor(actor());
    let answers = doc.get(ROOT, "answers").expect("get").expect("answers").1;
    let notes = doc.put_object(&answers, "notes", ObjType::Text).expect("text");
    for (i, c) in format!("call {PHONE}").chars().enumerate() {
        doc.splice_text(&notes, i, 0, &c.to_string()).expect("type");
    }
    commit(&mut doc);
    let typed = doc.text(&notes).expect("text").chars().count();
    doc.splice_text(&notes, 0, typed as isize, "ok").expect("retype");
    commit(&mut doc);
    assert_eq!(doc.text(&notes).expect("text"), "ok");
    let changes = all_changes(&mut doc);
    assert!(
        response::read(&doc, form()).is_ok(),
        "the final state alone passes"
    );
    assert!(matches!(
        merge(None, &changes, DocKind::Response, Some(form())),
        Err(Error::UnscrubbedText { .. })
    ));

    // Typed and deleted within one change: no state after any change shows it.
    let mut hidden = new_response().with_actor(actor());
    let answers = hidden.get(ROOT, "answers").expect("get").expect("answers").1;
    let notes = hidden.put_object(&answers, "notes", ObjType::Text).expect("text");
    hidden.splice_text(&notes, 0, 0, PHONE).expect("type");
    hidden
        .splice_text(&notes, 0, PHONE.len() as isize, "fine")
        .expect("retype");
    commit(&mut hidden);
    assert!(matches!(
        merge(None, &all_changes(&mut hidden), DocKind::Response, Some(form())),
        Err(Error::UnscrubbedText { .. })
    ));

    // Typed in a later sync into a text object the server already holds.
    let mut later = new_response().with_actor(actor());
    let answers = later.get(ROOT, "answers").expect("get").expect("answers").1;
    let notes = later.put_object(&answers, "notes", ObjType::Text).expect("text");
    later.splice_text(&notes, 0, 0, "call 081").expect("type");
    commit(&mut later);
    let first = all_changes(&mut later);
    let MergeOutcome::Merged(mut stored) = merge_incoming(None, &first).expect("merge") else {
        panic!("complete")
    };
    stored
        .validate(DocKind::Response, Some(form()))
        .expect("three digits are fine");
    let heads = later.get_heads();
    later.splice_text(&notes, 8, 0, "2345678").expect("type");
    later.splice_text(&notes, 5, 10, "").expect("delete");
    commit(&mut later);
    let second: Vec<Vec<u8>> = later
        .get_changes(&heads)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    assert!(matches!(
        merge(Some(&stored.save()), &second, DocKind::Response, Some(form())),
        Err(Error::UnscrubbedText { .. })
    ));
}

/// Finding 1: the losing side of two concurrent edits.
#[test]
fn the_losing_side_of_a_conflict_is_checked() {
    let mut origin = new_response().with_actor(actor());
    let mut other = origin.fork().with_actor(actor());
    let answers = origin.get(ROOT, "answers").expect("get").expect("answers").1;
    origin.put(&answers, "notes", "ok").expect("put");
    commit(&mut origin);
    other
        .put(&answers, "notes", format!("ring {PHONE}"))
        .expect("put");
    commit(&mut other);
    origin.merge(&mut other).expect("merge");
    let notes = origin.get_all(&answers, "notes").expect("all");
    assert_eq!(notes.len(), 2, "a conflict");
    let changes = all_changes(&mut origin);
    assert!(carries(&changes, PHONE));
    assert!(matches!(
        merge(None, &changes, DocKind::Response, Some(form())),
        Err(Error::UnscrubbedText { .. })
    ));
}

/// Finding 3: tallies change by bounded, non-zero steps, never below zero, on the counters the
/// site was created with.
#[test]
fn tallies_change_within_bounds_on_the_counters_they_were_created_with() {
    let stored = new_site().save();
    let tallies = |doc: &AutoCommit| doc.get(ROOT, "tallies").expect("get").expect("tallies").1;
    let bump = |by: i64| {
        let mut phone = AutoCommit::load(&stored).expect("load").with_actor(actor());
        let heads = phone.get_heads();
        let t = tallies(&phone);
        phone.increment(&t, "contacts", by).expect("increment");
        commit(&mut phone);
        phone
            .get_changes(&heads)
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect::<Vec<_>>()
    };
    for by in [
        1_000_000_000_000,
        -500_000_000_000,
        9_007_199_254_740_991,
        1_001,
        0,
    ] {
        assert!(
            matches!(
                merge(Some(&stored), &bump(by), DocKind::Site, None),
                Err(Error::TallyStep { .. })
            ),
            "{by}"
        );
    }
    assert!(matches!(
        merge(Some(&stored), &bump(-1), DocKind::Site, None),
        Err(Error::NegativeTally(_))
    ));
    assert!(matches!(
        merge(Some(&stored), &bump(1_000), DocKind::Site, None),
        Ok(CheckedDocument::Site(view)) if view.tallies["contacts"] == 1_000
    ));

    // A counter key of its own, added later.
    let mut phone = AutoCommit::load(&stored).expect("load").with_actor(actor());
    let heads = phone.get_heads();
    let t = tallies(&phone);
    phone.put(&t, "bribes", ScalarValue::counter(0)).expect("put");
    commit(&mut phone);
    let added: Vec<Vec<u8>> = phone
        .get_changes(&heads)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    assert!(matches!(
        merge(Some(&stored), &added, DocKind::Site, None),
        Err(Error::NotACounter(_))
    ));

    // A second tallies map, made by a change that starts a second history.
    let mut rival = AutoCommit::new().with_actor(actor());
    let t = rival.put_object(ROOT, "tallies", ObjType::Map).expect("map");
    rival.put(&t, "contacts", ScalarValue::counter(900)).expect("put");
    commit(&mut rival);
    assert!(merge(Some(&stored), &all_changes(&mut rival), DocKind::Site, None).is_err());
}

/// A tally document merged into `stored` and checked as the server checks it, against its
/// site's metrics.
fn merge_tally(
    stored: Option<&[u8]>,
    incoming: &[Vec<u8>],
    metrics: &[&str],
) -> Result<CheckedDocument, Error> {
    let metrics: Vec<String> = metrics.iter().map(|m| m.to_string()).collect();
    match merge_incoming(stored, incoming)? {
        MergeOutcome::Merged(mut merged) => merged.validate_tally(&metrics),
        MergeOutcome::NeedAll => panic!("every change was sent"),
    }
}

const SITE_METRICS: &[&str] = &["contacts", "kits"];

fn new_tally(first: (&str, i64)) -> AutoCommit {
    let metrics: Vec<String> = SITE_METRICS.iter().map(|m| m.to_string()).collect();
    tally::create(Uuid::new_v4(), Uuid::new_v4(), &metrics, first).expect("tally")
}

/// What `edit` makes of a copy of `stored`, as change bytes.
fn edited(stored: &[u8], edit: impl FnOnce(&mut AutoCommit)) -> Vec<Vec<u8>> {
    let mut phone = AutoCommit::load(stored).expect("load").with_actor(actor());
    let heads = phone.get_heads();
    edit(&mut phone);
    commit(&mut phone);
    phone
        .get_changes(&heads)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

/// A device's own tally document obeys the site's counter rules (steps of 1 to 1,000, never
/// below zero on the state a change was made on, counters only from the first change), holds
/// only its site's metrics, and after its first change only counts: the site it counts for,
/// its dataset and its schema are never written again.
#[test]
fn tally_documents_count_their_sites_metrics_within_bounds_and_nothing_else() {
    let mut created = new_tally(("contacts", 3));
    let first = all_changes(&mut created);
    assert!(matches!(
        merge_tally(None, &first, SITE_METRICS),
        Ok(CheckedDocument::Tally(view)) if view.tallies["contacts"] == 3 && view.tallies["kits"] == 0
    ));
    assert!(matches!(
        merge_tally(None, &first, &["contacts"]),
        Err(Error::UndeclaredField(field)) if field == "tallies.kits"
    ));
    let stored = created.save();
    let tallies = |doc: &AutoCommit| doc.get(ROOT, "tallies").expect("get").expect("tallies").1;
    let bump = |by: i64| {
        edited(&stored, |doc| {
            let t = tallies(doc);
            doc.increment(&t, "kits", by).expect("increment");
        })
    };
    for by in [1_001, 0, 9_007_199_254_740_991] {
        let merged = merge_tally(Some(&stored), &bump(by), SITE_METRICS);
        assert!(matches!(merged, Err(Error::TallyStep { .. })), "{by}: {merged:?}");
    }
    let merged = merge_tally(Some(&stored), &bump(-1_001), SITE_METRICS);
    assert!(
        matches!(merged, Err(Error::TallyStep { .. } | Error::NegativeTally(_))),
        "{merged:?}"
    );
    assert!(matches!(
        merge_tally(Some(&stored), &bump(-1), SITE_METRICS),
        Err(Error::NegativeTally(_))
    ));
    assert!(matches!(
        merge_tally(Some(&stored), &bump(1_000), SITE_METRICS),
        Ok(CheckedDocument::Tally(view)) if view.tallies["kits"] == 1_000
    ));

    // Counts moved to another site, a dataset rewritten, a counter added or deleted, a field
    // of its own: each is a write after the first change.
    let other_site = Uuid::new_v4().to_string();
    let later: Vec<(&str, Vec<Vec<u8>>)> = vec![
        (
            "site",
            edited(&stored, |d| {
                d.put(ROOT, "site", other_site.as_str()).expect("put")
            }),
        ),
        (
            "dataset",
            edited(&stored, |d| {
                d.put(ROOT, "dataset", Uuid::new_v4().to_string()).expect("put")
            }),
        ),
        (
            "counter",
            edited(&stored, |d| {
                let t = tallies(d);
                d.put(&t, "kits", ScalarValue::counter(500)).expect("put");
            }),
        ),
        (
            "delete",
            edited(&stored, |d| {
                let t = tallies(d);
                d.delete(&t, "kits").expect("delete");
            }),
        ),
        (
            "secret",
            edited(&stored, |d| {
                d.put(ROOT, "note", format!("call {PHONE}")).expect("put")
            }),
        ),
    ];
    for (what, changes) in later {
        assert!(
            merge_tally(Some(&stored), &changes, SITE_METRICS).is_err(),
            "{what}"
        );
    }

    // Counters for metrics the site does not have; a site that is not a uuid.
    let mut bribes = AutoCommit::new().with_actor(actor());
    bribes.put(ROOT, "schema", tally::SCHEMA).expect("put");
    bribes
        .put(ROOT, "dataset", Uuid::new_v4().to_string())
        .expect("put");
    bribes.put(ROOT, "site", Uuid::new_v4().to_string()).expect("put");
    let t = bribes.put_object(ROOT, "tallies", ObjType::Map).expect("map");
    bribes.put(&t, "bribes", ScalarValue::counter(1)).expect("put");
    commit(&mut bribes);
    assert!(matches!(
        merge_tally(None, &all_changes(&mut bribes), SITE_METRICS),
        Err(Error::UndeclaredField(_))
    ));
    let mut nowhere = bribes.fork().with_actor(actor());
    nowhere.put(ROOT, "site", "the-pier").expect("put");
    commit(&mut nowhere);
    let mut fresh = AutoCommit::new().with_actor(actor());
    fresh.merge(&mut nowhere).expect("merge");
    assert!(merge_tally(None, &all_changes(&mut fresh), &["bribes"]).is_err());

    // A second history for the same document.
    let mut rival = new_tally(("kits", 900));
    assert!(merge_tally(Some(&stored), &all_changes(&mut rival), SITE_METRICS).is_err());

    // An actor spelling out a worker, and a counter that starts past one change's bound.
    let spelled = ActorId::from(b"worker:jane-doe:+66812345678".as_slice());
    let mut named = new_tally(("contacts", 1)).with_actor(spelled);
    let t = tallies(&named);
    named.increment(&t, "contacts", 1).expect("increment");
    commit(&mut named);
    let mut copy = AutoCommit::new();
    copy.apply_changes(named.get_changes(&[])).expect("apply");
    assert!(matches!(
        merge_tally(None, &all_changes(&mut copy), SITE_METRICS),
        Err(Error::ActorLength(28))
    ));
    let metrics: Vec<String> = SITE_METRICS.iter().map(|m| m.to_string()).collect();
    assert!(matches!(
        tally::create(Uuid::new_v4(), Uuid::new_v4(), &metrics, ("contacts", 1_001)),
        Err(Error::TallyStep { .. })
    ));
}

/// Finding 4: an actor that spells out a name and a phone number.
#[test]
fn actors_are_sixteen_random_bytes() {
    let spelled = ActorId::from(b"worker:jane-doe:+66812345678".as_slice());
    let mut doc = site::create_as(spelled, Uuid::new_v4(), "pier-7", "Pier 7", &["contacts"]).expect("site");
    let changes = all_changes(&mut doc);
    assert!(carries(&changes, "jane-doe"));
    assert_eq!(
        merge(None, &changes, DocKind::Site, None),
        Err(Error::ActorLength(28))
    );
}

/// Finding 5: what is handed in answers every required question; a draft may be incomplete.
#[test]
fn submitted_responses_answer_every_required_question() {
    let form = Form::from_json(
        r#"{ "id": "req", "version": 1, "title": "Required", "areas": ["north"],
             "questions": [
               { "id": "gender", "type": "single", "label": "Gender", "options": ["f", "m"], "required": true },
               { "id": "notes", "type": "text", "label": "Notes" } ] }"#,
    )
    .expect("form");
    let edit = sync_core::ResponseEdit {
        area: Some("north".into()),
        collected_on: Some(sync_core::Day::parse("2026-11-20").expect("day")),
        ..Default::default()
    };
    let mut draft = response::create(Uuid::new_v4(), &form, &edit).expect("a draft may be incomplete");
    assert!(merge(None, &all_changes(&mut draft), DocKind::Response, Some(&form)).is_ok());

    let mut submitted = draft.fork().with_actor(actor());
    submitted.put(ROOT, "status", "submitted").expect("put");
    commit(&mut submitted);
    assert_eq!(
        merge(None, &all_changes(&mut submitted), DocKind::Response, Some(&form)),
        Err(Error::MissingAnswer {
            question: "gender".into()
        })
    );

    // Answered and submitted, then the answer deleted by a later change.
    let mut answered = draft.fork().with_actor(actor());
    let answers = answered.get(ROOT, "answers").expect("get").expect("answers").1;
    answered.put(&answers, "gender", "f").expect("put");
    answered.put(ROOT, "status", "submitted").expect("put");
    commit(&mut answered);
    assert!(merge(None, &all_changes(&mut answered), DocKind::Response, Some(&form)).is_ok());
    answered.delete(&answers, "gender").expect("delete");
    commit(&mut answered);
    assert!(matches!(
        merge(None, &all_changes(&mut answered), DocKind::Response, Some(&form)),
        Err(Error::MissingAnswer { .. })
    ));
}

/// What a JS client writes by default passes: strings as text objects, a list of text
/// options, a note typed, corrected and retyped without contact details.
#[test]
fn honest_text_objects_pass() {
    let mut doc = new_response().with_actor(actor());
    let answers = doc.get(ROOT, "answers").expect("get").expect("answers").1;
    let area = doc.put_object(ROOT, "area", ObjType::Text).expect("text");
    doc.splice_text(&area, 0, 0, "south").expect("type");
    let help = doc.put_object(&answers, "help", ObjType::List).expect("list");
    for (i, option) in ["ngo", "clinic"].iter().enumerate() {
        let item = doc.insert_object(&help, i, ObjType::Text).expect("text");
        doc.splice_text(&item, 0, 0, option).expect("type");
    }
    let notes = doc.put_object(&answers, "notes", ObjType::Text).expect("text");
    doc.splice_text(&notes, 0, 0, "gave 3 kits").expect("type");
    commit(&mut doc);
    doc.splice_text(&notes, 5, 1, "4").expect("correct");
    commit(&mut doc);
    let checked = merge(None, &all_changes(&mut doc), DocKind::Response, Some(form())).expect("valid");
    let CheckedDocument::Response(view) = checked else {
        panic!("a response")
    };
    assert_eq!(view.area, "south");
    assert_eq!(
        view.answers["notes"],
        sync_core::Answer::Text("gave 4 kits".into())
    );

    // An enum typed as text must be one allowed value typed once: nothing else was typed there.
    let mut retyped = new_response().with_actor(actor());
    let area = retyped.put_object(ROOT, "area", ObjType::Text).expect("text");
    retyped.splice_text(&area, 0, 0, "Jane Doe").expect("type");
    retyped.splice_text(&area, 0, 8, "north").expect("retype");
    commit(&mut retyped);
    assert!(matches!(
        merge(None, &all_changes(&mut retyped), DocKind::Response, Some(form())),
        Err(Error::UnknownArea { .. })
    ));
}
