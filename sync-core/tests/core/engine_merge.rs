//! Merging another saved state of the same dataset into an engine, as the field app's backup
//! import does: nothing made since is lost, nothing sent is sent twice, and a copy of another
//! dataset or from before a demo reset is refused whole.

use sync_core::{ClientEngine, DocEntry, DocKind, Error, ResponseEdit, SyncResponse, site};
use uuid::Uuid;

use crate::engine::{accept_all, answer, engine_with_form};
use crate::support::new_response_edit;

/// Sends everything pending and has the server confirm it all.
fn sync(engine: &mut ClientEngine) {
    let request = engine.build_request(usize::MAX);
    engine.apply_response(&accept_all(&request)).expect("apply");
}

fn copy(engine: &mut ClientEngine) -> ClientEngine {
    ClientEngine::load(&engine.save()).expect("load")
}

/// What an engine holds and would send, for comparing two engines.
fn contents(engine: &mut ClientEngine) -> (Vec<Uuid>, Vec<Uuid>, sync_core::SyncRequest) {
    let mut ids: Vec<Uuid> = [DocKind::Form, DocKind::Site, DocKind::Tally, DocKind::Response]
        .into_iter()
        .flat_map(|kind| engine.document_ids(kind))
        .collect();
    ids.sort();
    (ids, engine.pending_documents(), engine.build_request(usize::MAX))
}

#[test]
fn merging_keeps_what_was_made_since_and_sends_only_what_was_unsent() {
    let mut phone = engine_with_form();
    let sent = phone
        .create_response("outreach", &new_response_edit(1))
        .expect("create");
    sync(&mut phone);
    let unsent = phone
        .create_response("outreach", &new_response_edit(2))
        .expect("create");
    let mut exported = copy(&mut phone);
    let edit = ResponseEdit {
        area: Some("south".into()),
        ..ResponseEdit::default()
    };
    phone.edit_response(unsent, &edit).expect("edit after the export");

    assert_eq!(phone.merge_engine(copy(&mut exported)).expect("merges"), 0);
    assert_eq!(phone.response(unsent).expect("read").area, "south");
    assert_eq!(phone.pending_documents(), vec![unsent]);

    // Into an empty engine of the dataset (a wiped browser): everything comes back, the sent
    // response counts as sent and the unsent one waits to be sent, whole.
    let mut wiped = ClientEngine::new(phone.dataset(), phone.epoch());
    assert_eq!(wiped.merge_engine(exported).expect("merges"), 3);
    assert_eq!(wiped.forms().len(), 1);
    assert_eq!(wiped.pending_documents(), vec![unsent]);
    let request = wiped.build_request(usize::MAX);
    let entry = request.docs.iter().find(|d| d.id == unsent).expect("sent");
    assert!(entry.heads.len() == 1 && !entry.changes.is_empty());
    let named = request.docs.iter().find(|d| d.id == sent).expect("named");
    assert!(named.changes.is_empty(), "the server holds it already");
}

#[test]
fn a_merged_document_is_written_under_an_actor_of_its_own() {
    let mut phone = engine_with_form();
    let draft = phone
        .create_response("outreach", &new_response_edit(3))
        .expect("create");
    let mut other = ClientEngine::new(phone.dataset(), phone.epoch());
    other.merge_engine(copy(&mut phone)).expect("merges");
    let mine = phone.document_mut(draft).expect("doc").get_actor().clone();
    let theirs = other.document_mut(draft).expect("doc").get_actor().clone();
    assert_ne!(
        mine, theirs,
        "two copies editing on must not reuse sequence numbers"
    );
    assert_eq!(theirs.to_bytes().len(), 16);
}

#[test]
fn merging_identical_states_changes_nothing() {
    let mut phone = engine_with_form();
    phone
        .create_response("outreach", &new_response_edit(1))
        .expect("create");
    sync(&mut phone);
    phone
        .create_response("outreach", &new_response_edit(2))
        .expect("create");
    phone.create_site("market-2", "Central market").expect("site");
    let mut before = copy(&mut phone);
    let expected = contents(&mut before);
    for _ in 0..2 {
        assert_eq!(phone.merge_engine(copy(&mut before)).expect("merges"), 0);
        assert_eq!(contents(&mut copy(&mut phone)), expected);
    }
}

#[test]
fn a_copy_of_another_dataset_or_epoch_is_refused_and_changes_nothing() {
    let mut phone = engine_with_form();
    phone
        .create_response("outreach", &new_response_edit(1))
        .expect("create");
    let expected = contents(&mut copy(&mut phone));

    let mut stranger = engine_with_form();
    stranger
        .create_response("outreach", &new_response_edit(2))
        .expect("create");
    let err = phone.merge_engine(stranger).expect_err("refused");
    assert!(matches!(err, Error::WrongDataset { .. }), "{err:?}");

    // A copy saved before a trainer reset the demo data: its practice data must not come back.
    let mut before_reset = copy(&mut phone);
    before_reset
        .create_response("outreach", &new_response_edit(3))
        .expect("create");
    let old = copy(&mut before_reset);
    phone
        .apply_response(&SyncResponse {
            reset: true,
            ..answer(2, Vec::new())
        })
        .expect("reset");
    let err = phone.merge_engine(old).expect_err("refused");
    assert!(
        matches!(
            err,
            Error::OtherEpoch {
                expected: 2,
                found: 1
            }
        ),
        "{err:?}"
    );
    assert_eq!(phone.pending_count(), 0, "no practice data to send");
    assert!(phone.document_ids(DocKind::Response).is_empty());

    // Nor the other way round: a copy from after a reset into an engine that has not seen it.
    let mut stale = copy(&mut before_reset);
    let newer = copy(&mut phone);
    let err = stale.merge_engine(newer).expect_err("refused");
    assert!(
        matches!(
            err,
            Error::OtherEpoch {
                expected: 1,
                found: 2
            }
        ),
        "{err:?}"
    );
    assert_ne!(contents(&mut stale), expected, "the copy had one response more");
    let mut untouched = copy(&mut before_reset);
    assert_eq!(contents(&mut stale), contents(&mut untouched));
}

#[test]
fn a_copy_naming_a_document_as_another_kind_is_refused_whole() {
    let mut phone = engine_with_form();
    let response = phone
        .create_response("outreach", &new_response_edit(1))
        .expect("create");
    let expected = contents(&mut copy(&mut phone));

    // A crafted file: a site document under the id of the phone's response, and a second,
    // honest document that must not be merged either.
    let mut forged = ClientEngine::new(phone.dataset(), phone.epoch());
    let mut doc = site::create(phone.dataset(), "port", "Harbour", site::DEFAULT_METRICS).expect("site");
    let changes = doc
        .get_changes(&[])
        .into_iter()
        .map(|mut c| c.bytes().into_owned())
        .collect();
    forged
        .take_documents(&[DocEntry::new(response, DocKind::Site, &doc.get_heads(), changes)])
        .expect("taken");
    forged.create_site("market-2", "Central market").expect("site");

    let err = phone.merge_engine(forged).expect_err("refused");
    assert!(
        matches!(
            err,
            Error::WrongKind {
                claimed: "site",
                actual: "response"
            }
        ),
        "{err:?}"
    );
    assert_eq!(contents(&mut copy(&mut phone)), expected);
}

#[test]
fn a_response_deleted_after_send_stays_deleted() {
    let mut phone = engine_with_form();
    phone.set_delete_after_send(true);
    let submitted = phone
        .create_response("outreach", &new_response_edit(1))
        .expect("create");
    let before_send = copy(&mut phone);
    sync(&mut phone);
    assert!(phone.was_sent(submitted));
    assert_eq!(phone.merge_engine(before_send).expect("merges"), 0);
    assert!(phone.document_ids(DocKind::Response).is_empty());
    assert_eq!(phone.pending_count(), 0);
}
