//! Reviews merge as documents do: concurrent reviews agree on one winner everywhere, and a
//! change to the response the review did not see reopens it, whichever order replicas learn of
//! them in. Devices never write a review.

use automerge::{AutoCommit, ROOT, transaction::Transactable};
use sync_core::{
    Answer, ChangeHash, Error, MergeOutcome, ResponseEdit, Review, ReviewState, load_document,
    merge_incoming, response, review,
};
use uuid::Uuid;

use crate::support::{form, new_response_edit};

/// A submitted response (seed 7 submits).
fn submitted() -> AutoCommit {
    response::create(Uuid::new_v4(), form(), &new_response_edit(7)).expect("response")
}

fn verdict(state: ReviewState, note: &str) -> Review {
    Review::scrubbed(state, Some(note)).expect("note")
}

fn late_edit(doc: &mut AutoCommit) {
    let edit = ResponseEdit {
        answers: vec![("s1".into(), Answer::Likert(1))],
        ..Default::default()
    };
    response::apply_edit(doc, form(), &edit).expect("edit");
}

fn standing_of(reviews: &AutoCommit, response: &mut AutoCommit) -> sync_core::ReviewStanding {
    let record = review::read(reviews).expect("review document");
    review::standing(Some(&record), response)
}

#[test]
fn a_review_stands_until_the_response_changes() {
    let mut doc = submitted();
    let id = Uuid::new_v4();
    let mut reviews = review::create(id).expect("review doc");
    assert_eq!(review::read(&reviews).expect("read").response, id);
    assert_eq!(standing_of(&reviews, &mut doc).state(), ReviewState::Pending);

    review::record(
        &mut reviews,
        &verdict(ReviewState::Approved, "consent checked"),
        &doc.get_heads(),
    )
    .expect("record");
    let standing = standing_of(&reviews, &mut doc);
    assert_eq!(standing.state(), ReviewState::Approved);
    assert!(!standing.edited_since);
    assert_eq!(standing.review.note.as_deref(), Some("consent checked"));

    late_edit(&mut doc);
    let standing = standing_of(&reviews, &mut doc);
    assert!(standing.edited_since);
    assert_eq!(
        standing.state(),
        ReviewState::Pending,
        "an edit reopens the review"
    );
    assert_eq!(
        standing.review.state,
        Some(ReviewState::Approved),
        "the verdict stays readable"
    );

    review::record(
        &mut reviews,
        &verdict(ReviewState::Flagged, "s1 changed"),
        &doc.get_heads(),
    )
    .expect("record");
    assert_eq!(standing_of(&reviews, &mut doc).state(), ReviewState::Flagged);
}

#[test]
fn a_late_edit_beside_a_review_reopens_it_in_either_merge_order() {
    let mut server = submitted();
    let mut phone = load_document(&server.save()).expect("phone copy");
    let mut reviews = review::create(Uuid::new_v4()).expect("review doc");
    review::record(
        &mut reviews,
        &verdict(ReviewState::Approved, "ok"),
        &server.get_heads(),
    )
    .expect("record");
    late_edit(&mut phone);

    let mut a = phone.fork();
    a.merge(&mut server.clone()).expect("merge");
    let mut b = server.fork();
    b.merge(&mut phone.clone()).expect("merge");
    for merged in [&mut a, &mut b] {
        let standing = standing_of(&reviews, merged);
        assert!(standing.edited_since);
        assert_eq!(standing.state(), ReviewState::Pending);
    }
    // A response that lacks what the review looked at (reset since) is not covered either.
    let unrelated: Vec<ChangeHash> = submitted().get_heads();
    let mut other = review::create(Uuid::new_v4()).expect("review doc");
    review::record(&mut other, &verdict(ReviewState::Approved, ""), &unrelated).expect("record");
    assert_eq!(standing_of(&other, &mut server).state(), ReviewState::Pending);
}

#[test]
fn concurrent_reviews_converge_on_one_whole_review() {
    let response = submitted().get_heads();
    for _ in 0..20 {
        let mut origin = review::create(Uuid::new_v4()).expect("review doc");
        let mut first = load_document(&origin.save()).expect("copy");
        let mut second = load_document(&origin.save()).expect("copy");
        review::record(&mut first, &verdict(ReviewState::Approved, "first"), &response).expect("record");
        review::record(
            &mut second,
            &Review::scrubbed(ReviewState::Flagged, None).expect("review"),
            &response,
        )
        .expect("record");

        let mut a = first.fork();
        a.merge(&mut second.clone()).expect("merge");
        let mut b = second.fork();
        b.merge(&mut first.clone()).expect("merge");
        origin.merge(&mut b.clone()).expect("merge");
        let (ra, rb, ro) = (
            review::read(&a).expect("read"),
            review::read(&b).expect("read"),
            review::read(&origin).expect("read"),
        );
        assert_eq!(ra, rb, "every replica reads the same review");
        assert_eq!(ra, ro);
        // State and note come from one review, never a mix of the two.
        let pair = (ra.review.state, ra.review.note.as_deref());
        assert!(
            pair == (Some(ReviewState::Approved), Some("first"))
                || pair == (Some(ReviewState::Flagged), None),
            "{pair:?}"
        );
        let paths: Vec<String> = sync_core::conflicts(&a).into_iter().map(|c| c.path).collect();
        assert_eq!(paths, ["verdict"], "the race is there to see");
    }
}

#[test]
fn a_review_repeating_the_standing_state_does_not_mix_with_a_concurrent_one() {
    let response = submitted().get_heads();
    for _ in 0..20 {
        let mut origin = review::create(Uuid::new_v4()).expect("review doc");
        let mut first = load_document(&origin.save()).expect("copy");
        let mut second = load_document(&origin.save()).expect("copy");
        review::record(&mut first, &verdict(ReviewState::Approved, "first"), &response).expect("record");
        // `second` reviews twice; the second time it repeats its own standing state and only
        // its note differs.
        review::record(&mut second, &verdict(ReviewState::Flagged, "second"), &response).expect("record");
        review::record(&mut second, &verdict(ReviewState::Flagged, "again"), &response).expect("record");
        let mut merged = first.fork();
        merged.merge(&mut second.clone()).expect("merge");
        let read = review::read(&merged).expect("read");
        let pair = (read.review.state, read.review.note.as_deref());
        assert!(
            pair == (Some(ReviewState::Approved), Some("first"))
                || pair == (Some(ReviewState::Flagged), Some("again")),
            "{pair:?}"
        );
    }
}

#[test]
fn notes_are_scrubbed_and_capped() {
    let note = Review::scrubbed(
        ReviewState::Flagged,
        Some("worker says call +44 7700 900123 back"),
    )
    .expect("note")
    .note
    .expect("kept");
    assert!(!note.contains("7700"), "{note}");
    assert!(note.contains("[phone]"), "{note}");
    assert!(matches!(
        Review::scrubbed(ReviewState::Flagged, Some(&"x".repeat(501))),
        Err(Error::TextTooLong { .. })
    ));
    assert!(Review::scrubbed(ReviewState::Flagged, Some(&"x".repeat(500))).is_ok());
    assert_eq!(
        Review::scrubbed(ReviewState::Approved, Some("   "))
            .expect("blank")
            .note,
        None
    );
    assert!(matches!(
        Review::scrubbed(ReviewState::Pending, None),
        Err(Error::FieldType { .. })
    ));
    // Written around the constructor, an unscrubbed note is still refused.
    let raw = Review {
        state: Some(ReviewState::Flagged),
        note: Some("call +44 7700 900123".into()),
    };
    let mut reviews = review::create(Uuid::new_v4()).expect("review doc");
    assert!(matches!(
        review::record(&mut reviews, &raw, &[]),
        Err(Error::UnscrubbedText { .. })
    ));
}

#[test]
fn review_documents_with_foreign_fields_are_refused() {
    let mut doc = review::create(Uuid::new_v4()).expect("review doc");
    doc.put(ROOT, "name", "someone").expect("put");
    doc.commit();
    assert!(matches!(review::read(&doc), Err(Error::UndeclaredField(_))));
}

/// What the server receives from a device: every change of `doc` after `base`'s heads.
fn merged_on_server(base: &mut AutoCommit, doc: &mut AutoCommit) -> sync_core::Result<()> {
    let stored = base.save();
    let changes: Vec<Vec<u8>> = doc
        .get_changes(&base.get_heads())
        .into_iter()
        .map(|mut c| c.bytes().into_owned())
        .collect();
    match merge_incoming(Some(&stored), &changes)? {
        MergeOutcome::Merged(mut merged) => merged
            .validate(sync_core::DocKind::Response, Some(form()))
            .map(|_| ()),
        MergeOutcome::NeedAll => panic!("every dependency was sent"),
    }
}

#[test]
fn a_device_cannot_write_a_review_into_its_responses() {
    let mut server = submitted();
    let review_map = match automerge::ReadDoc::get(&server, ROOT, "review").expect("get") {
        Some((_, id)) => id,
        None => panic!("responses are made with a review map"),
    };
    let mut phone = load_document(&server.save()).expect("load");
    phone.put(&review_map, "state", "approved").expect("put");
    phone.commit();
    assert_eq!(
        merged_on_server(&mut server, &mut phone),
        Err(Error::ReviewFromDevice)
    );

    // Nor make the map again.
    let mut phone = load_document(&server.save()).expect("load");
    phone
        .put_object(ROOT, "review", automerge::ObjType::Map)
        .expect("map");
    phone.commit();
    assert_eq!(
        merged_on_server(&mut server, &mut phone),
        Err(Error::ReviewFromDevice)
    );

    // An ordinary edit still goes through.
    let mut phone = load_document(&server.save()).expect("load");
    late_edit(&mut phone);
    assert_eq!(merged_on_server(&mut server, &mut phone), Ok(()));
}
