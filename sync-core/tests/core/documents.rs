use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ROOT, ReadDoc, ScalarValue};
use sync_core::{
    Answer, CheckedDocument, DocKind, Error, ResponseEdit, ResponseStatus, check_document, conflicts,
    form_doc, response, site,
};
use uuid::Uuid;

use crate::support::{day, form, new_response_edit};

fn new_response() -> AutoCommit {
    response::create(Uuid::new_v4(), form(), &new_response_edit(7)).expect("response")
}

#[test]
fn a_response_reads_back_what_was_written() {
    let dataset = Uuid::new_v4();
    let edit = new_response_edit(4);
    let mut doc = response::create(dataset, form(), &edit).expect("response");
    let view = response::read(&doc, form()).expect("read");
    assert_eq!(view.dataset, dataset);
    assert_eq!(view.area, "north");
    assert_eq!(view.collected_on, day("2026-11-20"));
    assert_eq!(view.status, ResponseStatus::Submitted);
    assert_eq!(view.answers.len(), edit.answers.len());
    for (q, a) in &edit.answers {
        assert_eq!(view.answers.get(q), Some(a), "{q}");
    }
    assert!(matches!(
        check_document(&mut doc, Some(form())),
        Ok(CheckedDocument::Response(_))
    ));
}

#[test]
fn every_change_is_private() {
    let mut a = new_response();
    let mut b = new_response();
    response::apply_edit(
        &mut a,
        form(),
        &ResponseEdit {
            answers: vec![("s1".into(), Answer::Likert(2))],
            ..Default::default()
        },
    )
    .expect("edit");
    let changes = a.get_changes(&[]);
    assert_eq!(changes.len(), 2, "create and edit are one change each");
    for change in &changes {
        assert_eq!(change.timestamp(), 0);
        assert!(change.message().is_none_or(str::is_empty));
        assert!(change.extra_bytes().is_empty(), "no author");
    }
    // Two documents from one device share no actor.
    assert_ne!(a.get_actor(), b.get_actor());
    let actors_b: Vec<_> = b.get_changes(&[]).iter().map(|c| c.actor_id().clone()).collect();
    assert!(changes.iter().all(|c| !actors_b.contains(c.actor_id())));
}

#[test]
fn a_whole_response_is_one_small_change() {
    let mut doc = new_response();
    let changes = doc.get_changes(&[]);
    assert_eq!(changes.len(), 1);
    assert!(
        changes[0].raw_bytes().len() < 1024,
        "{} bytes",
        changes[0].raw_bytes().len()
    );
}

#[test]
fn an_edit_that_does_not_fit_changes_nothing() {
    let mut doc = new_response();
    let (heads, before) = (doc.get_heads(), response::read(&doc, form()).expect("read"));
    let edit = ResponseEdit {
        answers: vec![("s1".into(), Answer::Likert(3)), ("s2".into(), Answer::Likert(9))],
        ..Default::default()
    };
    assert!(matches!(
        response::apply_edit(&mut doc, form(), &edit),
        Err(Error::OutOfRange { .. })
    ));
    assert_eq!(doc.get_heads(), heads);
    assert_eq!(response::read(&doc, form()).expect("read"), before);
}

#[test]
fn submit_requires_required_questions() {
    let json =
        crate::support::FORM_JSON.replace(r#""label": "Gender","#, r#""label": "Gender", "required": true,"#);
    let strict = sync_core::Form::from_json(&json).expect("form");
    let edit = ResponseEdit {
        area: Some("north".into()),
        collected_on: Some(day("2026-11-20")),
        submit: true,
        ..Default::default()
    };
    assert_eq!(
        response::create(Uuid::new_v4(), &strict, &edit).err(),
        Some(Error::MissingAnswer {
            question: "gender".into()
        })
    );
}

#[test]
fn check_document_refuses_wall_clock_timestamps() {
    let mut doc = new_response();
    doc.put(ROOT, "area", "north").expect("put");
    doc.commit_with(CommitOptions::default().with_time(1_764_000_000));
    assert_eq!(
        check_document(&mut doc, Some(form())).err(),
        Some(Error::NonZeroTimestamp(1_764_000_000))
    );
}

#[test]
fn check_document_refuses_commit_messages() {
    let mut doc = new_response();
    doc.put(ROOT, "area", "north").expect("put");
    doc.commit_with(CommitOptions::default().with_message("met at the bus station at 9pm"));
    assert_eq!(
        check_document(&mut doc, Some(form())).err(),
        Some(Error::ChangeMetadata)
    );
}

#[test]
fn check_document_refuses_undeclared_and_mistyped_fields() {
    type Mutation = Box<dyn Fn(&mut AutoCommit)>;
    let cases: Vec<(Mutation, Error)> = vec![
        (
            Box::new(|d| {
                d.put(ROOT, "respondent_phone", "0712 345 678").expect("put");
            }),
            Error::UndeclaredField("respondent_phone".into()),
        ),
        (
            Box::new(|d| {
                let answers = d.get(ROOT, "answers").expect("get").expect("answers").1;
                d.put(&answers, "name", "Alice").expect("put");
            }),
            Error::UndeclaredField("answers.name".into()),
        ),
        (
            Box::new(|d| {
                let answers = d.get(ROOT, "answers").expect("get").expect("answers").1;
                d.put(&answers, "s1", 9).expect("put");
            }),
            Error::OutOfRange {
                question: "s1".into(),
                value: 9,
                min: 1,
                max: 5,
            },
        ),
        (
            Box::new(|d| {
                let answers = d.get(ROOT, "answers").expect("get").expect("answers").1;
                d.put(&answers, "notes", "call +44 7700 900123").expect("put");
            }),
            Error::UnscrubbedText {
                field: "answer to \"notes\"".into(),
            },
        ),
        (
            Box::new(|d| {
                d.put(ROOT, "status", "published").expect("put");
            }),
            Error::FieldType {
                field: "status".into(),
                expected: "\"draft\" or \"submitted\"",
            },
        ),
        (
            Box::new(|d| {
                d.put(ROOT, "collected_on", "2026-11-20T21:14").expect("put");
            }),
            Error::BadDay("2026-11-20T21:14".into()),
        ),
        (
            Box::new(|d| {
                d.put(ROOT, "area", "west").expect("put");
            }),
            Error::UnknownArea {
                form: "outreach".into(),
                area: "west".into(),
            },
        ),
        (
            Box::new(|d| {
                d.put(ROOT, "schema", "survey.response/9").expect("put");
            }),
            Error::Schema {
                expected: "a known schema",
                found: "survey.response/9".into(),
            },
        ),
        (
            Box::new(|d| {
                d.delete(ROOT, "dataset").expect("delete");
            }),
            Error::MissingField("dataset".into()),
        ),
    ];
    for (mutate, expected) in cases {
        let mut doc = new_response();
        mutate(&mut doc);
        doc.commit();
        assert_eq!(check_document(&mut doc, Some(form())).err(), Some(expected));
    }
    let mut doc = new_response();
    assert!(matches!(
        check_document(&mut doc, None),
        Err(Error::UnknownForm { .. })
    ));
}

#[test]
fn site_tallies_are_counters_that_add_up_across_replicas() {
    let dataset = Uuid::new_v4();
    let mut origin =
        site::create(dataset, "market-2", "Central market", site::DEFAULT_METRICS).expect("site");
    let mut a = origin.fork().with_actor(automerge::ActorId::random());
    let mut b = origin.fork().with_actor(automerge::ActorId::random());
    site::increment(&mut a, "contacts", 3).expect("bump");
    site::increment(&mut b, "contacts", 4).expect("bump");
    site::increment(&mut b, "kits", 2).expect("bump");
    site::increment(&mut b, "kits", -1).expect("a correction");
    assert_eq!(
        site::increment(&mut a, "kits", -1),
        Err(Error::NegativeTally("kits".into())),
        "a phone takes away only what its copy counts"
    );
    origin.merge(&mut a).expect("merge");
    origin.merge(&mut b).expect("merge");
    let view = site::read(&origin).expect("read");
    assert_eq!(view.tallies.get("contacts"), Some(&7));
    assert_eq!(view.tallies.get("kits"), Some(&1));
    assert_eq!(
        site::increment(&mut origin, "made_up", 1),
        Err(Error::NotACounter("made_up".into()))
    );
    assert!(matches!(
        check_document(&mut origin, None),
        Ok(CheckedDocument::Site(_))
    ));

    let tallies = origin.get(ROOT, "tallies").expect("get").expect("tallies").1;
    origin
        .put(&tallies, "contacts", ScalarValue::Int(5))
        .expect("put");
    assert_eq!(
        check_document(&mut origin, None).err(),
        Some(Error::NotACounter("contacts".into()))
    );
}

#[test]
fn concurrent_edits_are_recorded_as_conflicts() {
    let mut origin = site::create(Uuid::new_v4(), "market-2", "Central market", &["contacts"]).expect("site");
    let mut a = origin.fork().with_actor(automerge::ActorId::random());
    site::rename(&mut a, "Central market (east gate)").expect("rename");
    site::rename(&mut origin, "Market, east").expect("rename");
    origin.merge(&mut a).expect("merge");
    let found = conflicts(&origin);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, "name");
    assert_eq!(found[0].values.len(), 2);

    // A worker's late correction racing another replica's edit of the same answer.
    let mut worker = new_response();
    let mut supervisor = worker.fork().with_actor(automerge::ActorId::random());
    response::apply_edit(
        &mut worker,
        form(),
        &ResponseEdit {
            answers: vec![("s1".into(), Answer::Likert(5))],
            ..Default::default()
        },
    )
    .expect("edit");
    response::apply_edit(
        &mut supervisor,
        form(),
        &ResponseEdit {
            answers: vec![("s1".into(), Answer::Likert(4))],
            ..Default::default()
        },
    )
    .expect("edit");
    worker.merge(&mut supervisor).expect("merge");
    let found = conflicts(&worker);
    assert_eq!(
        found.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(),
        vec!["answers.s1"]
    );
    assert!(
        check_document(&mut worker, Some(form())).is_ok(),
        "a conflict never blocks"
    );
}

#[test]
fn form_documents_carry_the_published_definition() {
    let dataset = Uuid::new_v4();
    let mut doc = form_doc::create(dataset, form()).expect("form doc");
    let read = form_doc::read(&doc).expect("read");
    assert_eq!(read.dataset, dataset);
    assert_eq!(&read.form, form());
    assert!(matches!(
        check_document(&mut doc, None),
        Ok(CheckedDocument::Form(_))
    ));
    assert_eq!(DocKind::parse("form"), Some(DocKind::Form));
}

#[test]
fn edits_read_from_json_are_checked_and_scrubbed() {
    let json = serde_json::json!({
        "area": "north", "collected_on": "2026-11-20", "submit": true,
        "answers": { "gender": "x", "s1": 4, "help": ["ngo"], "notes": "write to someone@example.org" }
    });
    let edit = ResponseEdit::from_json(form(), &json).expect("edit");
    let mut doc = response::create(Uuid::new_v4(), form(), &edit).expect("response");
    let view = response::read(&doc, form()).expect("read");
    assert_eq!(view.to_json()["answers"]["s1"], 4);
    assert!(check_document(&mut doc, Some(form())).is_ok());

    for (bad, code) in [
        (serde_json::json!([]), "invalid"),
        (serde_json::json!({ "answers": { "s1": "four" } }), "invalid"),
        (serde_json::json!({ "answers": { "phone": "0712" } }), "invalid"),
        (serde_json::json!({ "collected_on": "yesterday" }), "invalid"),
        (serde_json::json!({ "submit": "yes" }), "invalid"),
        (serde_json::json!({ "respondent": "Alice" }), "invalid"),
        (serde_json::json!({ "cleared": "notes" }), "invalid"),
    ] {
        let err = ResponseEdit::from_json(form(), &bad).expect_err("refused");
        assert_eq!(err.code(), code, "{bad}: {err}");
    }
}
