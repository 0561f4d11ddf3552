use serde_bytes::ByteBuf;
use sync_core::{
    ClientEngine, DocEntry, DocKind, Error, MergeOutcome, Rejection, ResponseEdit, SyncResponse, form_doc,
    merge_incoming,
};
use uuid::Uuid;

use crate::support::{form, new_response_edit};

/// An engine that already received the test form, as after its first sync.
fn engine_with_form() -> ClientEngine {
    let dataset = Uuid::new_v4();
    let mut engine = ClientEngine::new(dataset, 1);
    let mut doc = form_doc::create(dataset, form()).expect("form doc");
    let changes = doc
        .get_changes(&[])
        .into_iter()
        .map(|mut c| c.bytes().into_owned())
        .collect();
    engine
        .apply_response(&answer(
            1,
            vec![DocEntry::new(
                Uuid::new_v4(),
                DocKind::Form,
                &doc.get_heads(),
                changes,
            )],
        ))
        .expect("apply");
    engine
}

fn answer(epoch: u64, docs: Vec<DocEntry>) -> SyncResponse {
    SyncResponse {
        v: 1,
        epoch,
        reset: false,
        docs,
        rejected: Vec::new(),
        need_all: Vec::new(),
        more: false,
    }
}

/// What a server that accepts everything would answer.
fn accept_all(request: &sync_core::SyncRequest) -> SyncResponse {
    let docs = request
        .docs
        .iter()
        .map(
            |entry| match merge_incoming(None, &entry.changes).expect("merge") {
                _ if entry.changes.is_empty() => entry.clone(),
                MergeOutcome::Merged(mut merged) => {
                    DocEntry::new(entry.id, entry.kind, &merged.heads(), Vec::new())
                }
                MergeOutcome::NeedAll => panic!("first sync sends everything"),
            },
        )
        .collect();
    answer(request.epoch, docs)
}

#[test]
fn a_confirmed_document_is_not_sent_again() {
    let mut engine = engine_with_form();
    let id = engine
        .create_response("outreach", &new_response_edit(1))
        .expect("create");
    assert_eq!(engine.pending_count(), 1);
    let request = engine.build_request(usize::MAX);
    let entry = request.docs.iter().find(|d| d.id == id).expect("sent");
    assert_eq!(entry.changes.len(), 1);
    engine.apply_response(&accept_all(&request)).expect("apply");
    assert_eq!(engine.pending_count(), 0);
    assert!(!engine.needs_sync());
    let again = engine.build_request(usize::MAX);
    assert!(
        again.docs.iter().all(|d| d.changes.is_empty()),
        "only reads once confirmed"
    );

    engine
        .edit_response(
            id,
            &ResponseEdit {
                area: Some("north".into()),
                ..Default::default()
            },
        )
        .expect("edit");
    let next = engine.build_request(usize::MAX);
    assert_eq!(
        next.docs.iter().find(|d| d.id == id).map(|d| d.changes.len()),
        Some(1),
        "only the new change"
    );
}

#[test]
fn requests_are_paged_by_size_and_always_make_progress() {
    let mut engine = engine_with_form();
    for seed in 0..5 {
        engine
            .create_response("outreach", &new_response_edit(seed))
            .expect("create");
    }
    let mut rounds = 0;
    while engine.pending_count() > 0 {
        let request = engine.build_request(1);
        let with_changes = request.docs.iter().filter(|d| !d.changes.is_empty()).count();
        assert_eq!(with_changes, 1, "a one-byte budget still sends one document");
        assert!(engine.needs_sync());
        engine.apply_response(&accept_all(&request)).expect("apply");
        rounds += 1;
        assert!(rounds <= 5);
    }
    assert_eq!(rounds, 5);
}

#[test]
fn reset_drops_the_dataset_and_never_uploads_it_again() {
    let mut engine = engine_with_form();
    engine
        .create_response("outreach", &new_response_edit(1))
        .expect("create");
    engine.create_site("market-2", "Central market").expect("site");
    let reset = SyncResponse {
        reset: true,
        ..answer(7, Vec::new())
    };
    engine.apply_response(&reset).expect("apply");
    assert_eq!(engine.epoch(), 7);
    assert_eq!(engine.pending_count(), 0);
    assert!(engine.forms().is_empty());
    let request = engine.build_request(usize::MAX);
    assert_eq!(request.epoch, 7);
    assert!(request.docs.is_empty(), "stale training data is gone for good");
}

#[test]
fn state_survives_save_and_load() {
    let mut engine = engine_with_form();
    let sent = engine
        .create_response("outreach", &new_response_edit(1))
        .expect("create");
    let request = engine.build_request(usize::MAX);
    engine.apply_response(&accept_all(&request)).expect("apply");
    let draft = engine
        .create_response("outreach", &new_response_edit(3))
        .expect("create");

    let mut loaded = ClientEngine::load(&engine.save()).expect("load");
    assert_eq!(loaded.dataset(), engine.dataset());
    assert_eq!(loaded.pending_count(), 1, "only the unsent draft is pending");
    assert_eq!(loaded.response(sent), engine.response(sent));
    assert_eq!(loaded.response(draft), engine.response(draft));
    let request = loaded.build_request(usize::MAX);
    assert_eq!(
        request
            .docs
            .iter()
            .filter(|d| !d.changes.is_empty())
            .map(|d| d.id)
            .collect::<Vec<_>>(),
        vec![draft]
    );

    assert!(matches!(
        ClientEngine::load(b"\x00garbage"),
        Err(Error::EngineState(_))
    ));
}

#[test]
fn a_withdrawn_response_is_deleted_and_its_withdrawal_kept_until_sent() {
    let mut engine = engine_with_form();
    let ids: Vec<Uuid> = (0..2)
        .map(|i| {
            engine
                .create_response("outreach", &new_response_edit(i))
                .expect("create")
        })
        .collect();
    let request = engine.build_request(usize::MAX);
    engine.apply_response(&accept_all(&request)).expect("apply");

    engine.withdraw(ids[0]).expect("withdraw");
    assert_eq!(engine.document_ids(DocKind::Response), vec![ids[1]]);
    assert!(matches!(engine.withdraw(ids[0]), Err(Error::UnknownDocument(_))));
    let form = engine.document_ids(DocKind::Form)[0];
    assert!(matches!(engine.withdraw(form), Err(Error::WrongKind { .. })));
    let request = engine.build_request(usize::MAX);
    assert!(request.docs.iter().all(|d| d.id != ids[0]), "never sent again");
    // Kept across a restart until the server is told.
    let mut loaded = ClientEngine::load(&engine.save()).expect("load");
    assert_eq!(loaded.withdrawals(), &[ids[0]]);
    loaded.withdrawal_sent(ids[0]);
    assert!(loaded.withdrawals().is_empty());

    // The server withdrew the other (an admin did): the phone deletes it.
    let mut refusal = answer(request.epoch, Vec::new());
    refusal.rejected.push(Rejection {
        id: ids[1],
        code: sync_core::WITHDRAWN.into(),
        message: "withdrawn".into(),
    });
    loaded.apply_response(&refusal).expect("apply");
    assert!(loaded.document_ids(DocKind::Response).is_empty());
    assert!(loaded.rejections().is_empty());
    assert!(loaded.withdrawals().is_empty(), "nothing to tell the server");
}

/// A response's entry as a file saved before would carry it: all its changes, its heads.
fn whole_entry(engine: &mut ClientEngine, id: Uuid) -> DocEntry {
    let doc = engine.document_mut(id).expect("doc");
    let changes = doc
        .get_changes(&[])
        .into_iter()
        .map(|mut c| c.bytes().into_owned())
        .collect();
    DocEntry::new(id, DocKind::Response, &doc.get_heads(), changes)
}

#[test]
fn delete_after_send_keeps_only_a_count_of_confirmed_submitted_responses() {
    let mut engine = engine_with_form();
    assert_eq!(engine.delete_after_send(), None, "a client chooses");
    engine.set_delete_after_send(true);
    // Seeds 1 and 2 are submitted, 3 is a draft.
    let ids: Vec<Uuid> = (1..=3)
        .map(|i| {
            engine
                .create_response("outreach", &new_response_edit(i))
                .expect("create")
        })
        .collect();
    let saved_before = whole_entry(&mut engine, ids[0]);
    let request = engine.build_request(usize::MAX);
    // Nothing goes before the server confirms it.
    assert_eq!(engine.document_ids(DocKind::Response).len(), 3);
    let mut reply = accept_all(&request);
    // The server refused the second one: it stays for the worker to see.
    reply.rejected.push(Rejection {
        id: ids[1],
        code: "invalid".into(),
        message: "refused".into(),
    });
    engine.apply_response(&reply).expect("apply");
    assert_eq!(engine.document_ids(DocKind::Response), {
        let mut kept = vec![ids[1], ids[2]];
        kept.sort();
        kept
    });
    assert!(matches!(engine.response(ids[0]), Err(Error::UnknownDocument(_))));
    assert_eq!(engine.sent_count(), 1);
    assert!(engine.was_sent(ids[0]));
    let next = engine.build_request(usize::MAX);
    assert!(
        next.docs.iter().all(|d| d.id != ids[0]),
        "not even mentioned again"
    );

    // The state keeps the setting and the ids, never the content.
    let mut loaded = ClientEngine::load(&engine.save()).expect("load");
    assert_eq!(loaded.delete_after_send(), Some(true));
    assert_eq!(loaded.sent_count(), 1);

    // A copy saved before (a backup file merged back as a reply) stays deleted.
    loaded
        .apply_response(&answer(next.epoch, vec![saved_before]))
        .expect("apply");
    assert!(
        loaded
            .document_ids(DocKind::Response)
            .iter()
            .all(|id| *id != ids[0])
    );
    assert_eq!(loaded.sent_count(), 1);

    // Withdrawn after its content went: the id is all the server needs.
    loaded.withdraw(ids[0]).expect("withdraw a sent response");
    assert_eq!(loaded.withdrawals(), &[ids[0]]);
    assert_eq!(loaded.sent_count(), 0);

    // A reset starts the count over.
    let mut reset = answer(next.epoch + 1, Vec::new());
    reset.reset = true;
    engine.apply_response(&reset).expect("reset");
    assert_eq!(engine.sent_count(), 0);
}

#[test]
fn turning_delete_after_send_on_deletes_what_was_sent_and_off_keeps_what_comes() {
    let mut engine = engine_with_form();
    engine.set_delete_after_send(false);
    let first = engine
        .create_response("outreach", &new_response_edit(1))
        .expect("create");
    let request = engine.build_request(usize::MAX);
    engine.apply_response(&accept_all(&request)).expect("apply");
    assert_eq!(
        engine.document_ids(DocKind::Response),
        vec![first],
        "kept while off"
    );
    assert_eq!(engine.sent_count(), 0);

    // An edit not yet confirmed keeps a response, even when the setting goes on.
    let second = engine
        .create_response("outreach", &new_response_edit(2))
        .expect("create");
    engine.set_delete_after_send(true);
    assert_eq!(engine.document_ids(DocKind::Response), vec![second]);
    assert_eq!(engine.sent_count(), 1);

    engine.set_delete_after_send(false);
    let request = engine.build_request(usize::MAX);
    engine.apply_response(&accept_all(&request)).expect("apply");
    assert_eq!(
        engine.document_ids(DocKind::Response),
        vec![second],
        "kept once off again"
    );
    assert_eq!(engine.sent_count(), 1);
}

#[test]
fn rejected_documents_wait_for_a_fix() {
    let mut engine = engine_with_form();
    let id = engine
        .create_response("outreach", &new_response_edit(1))
        .expect("create");
    let request = engine.build_request(usize::MAX);
    let mut refusal = answer(request.epoch, Vec::new());
    refusal.rejected.push(Rejection {
        id,
        code: "invalid".into(),
        message: "nope".into(),
    });
    engine.apply_response(&refusal).expect("apply");
    assert_eq!(engine.rejections().len(), 1);
    assert_eq!(engine.rejections()[0].code, "invalid");
    assert_eq!(engine.pending_count(), 0, "not resent as it is");
    engine
        .edit_response(
            id,
            &ResponseEdit {
                area: Some("north".into()),
                ..Default::default()
            },
        )
        .expect("edit");
    assert_eq!(engine.pending_count(), 1, "an edit makes it worth another try");
}

#[test]
fn need_all_resends_every_change() {
    let mut engine = engine_with_form();
    let id = engine
        .create_response("outreach", &new_response_edit(1))
        .expect("create");
    let request = engine.build_request(usize::MAX);
    engine.apply_response(&accept_all(&request)).expect("apply");
    engine
        .edit_response(
            id,
            &ResponseEdit {
                area: Some("north".into()),
                ..Default::default()
            },
        )
        .expect("edit");
    let mut ask = answer(1, Vec::new());
    ask.need_all.push(id);
    engine.apply_response(&ask).expect("apply");
    let request = engine.build_request(usize::MAX);
    assert_eq!(
        request.docs.iter().find(|d| d.id == id).map(|d| d.changes.len()),
        Some(2)
    );
}

#[test]
fn a_bad_answer_changes_nothing() {
    let mut engine = engine_with_form();
    let before = engine.save();
    let mut bad = answer(
        9,
        vec![DocEntry::new(Uuid::new_v4(), DocKind::Site, &[], Vec::new())],
    );
    bad.docs[0].changes.push(ByteBuf::from(b"garbage".to_vec()));
    assert!(engine.apply_response(&bad).is_err());
    assert_eq!(engine.epoch(), 1);
    assert_eq!(engine.save(), before);
}

/// The engine's site after a first sync, and what a server would hold of it once `others`
/// other phones had bumped it one change at a time.
fn site_far_behind(engine: &mut ClientEngine, others: usize) -> (Uuid, sync_core::AutoCommit) {
    let site = engine.create_site("dock", "Dock").expect("site");
    let confirm = accept_all(&engine.build_request(1 << 20));
    engine.apply_response(&confirm).expect("apply");
    let saved = engine.document_mut(site).expect("site").save();
    let mut server = sync_core::load_document(&saved).expect("load");
    for _ in 0..others {
        sync_core::site::increment(&mut server, "contacts", 1).expect("bump");
        server.commit();
    }
    (site, server)
}

fn tally(engine: &ClientEngine, site: Uuid) -> i64 {
    let sites = engine.sites();
    let (_, view) = sites.iter().find(|(id, _)| *id == site).expect("site");
    view.tallies["contacts"]
}

fn state_reply(site: Uuid, server: &mut sync_core::AutoCommit) -> SyncResponse {
    let mut reply = answer(
        1,
        vec![DocEntry::with_state(
            site,
            DocKind::Site,
            &server.get_heads(),
            server.save(),
        )],
    );
    reply.v = 2;
    reply
}

#[test]
fn a_document_sent_saved_whole_replaces_the_copy_and_keeps_its_actor() {
    let mut engine = engine_with_form();
    let (site, mut server) = site_far_behind(&mut engine, 30);
    engine.bump_tally(site, "contacts", 2).expect("bump");
    let request = engine.build_request(1 << 20);
    let sent = &request
        .docs
        .iter()
        .find(|d| d.id == site)
        .expect("site sent")
        .changes;
    for change in sent {
        server.load_incremental(change).expect("server takes the bump");
    }
    let actor = engine.document_mut(site).expect("site").get_actor().clone();

    engine
        .apply_response(&state_reply(site, &mut server))
        .expect("apply");
    assert_eq!(tally(&engine, site), 32);
    assert_eq!(
        engine.pending_count(),
        0,
        "the server holds everything the phone has"
    );
    let doc = engine.document_mut(site).expect("site");
    assert_eq!(doc.get_actor(), &actor);
    let mut server_heads = server.get_heads();
    server_heads.sort();
    let mut heads = doc.get_heads();
    heads.sort();
    assert_eq!(heads, server_heads);

    // Its next bump is its own and goes up as one change.
    engine.bump_tally(site, "contacts", 1).expect("bump");
    let request = engine.build_request(1 << 20);
    let entry = request.docs.iter().find(|d| d.id == site).expect("site");
    assert_eq!(entry.changes.len(), 1);
    let change = automerge::Change::from_bytes(entry.changes[0].to_vec()).expect("change");
    assert_eq!(change.actor_id(), &actor);
}

#[test]
fn a_document_sent_saved_whole_is_merged_with_what_the_phone_has_not_sent() {
    let mut engine = engine_with_form();
    let (site, mut server) = site_far_behind(&mut engine, 10);
    // Made after the request went up: the server's state cannot hold it.
    engine.bump_tally(site, "contacts", 3).expect("bump");
    engine
        .apply_response(&state_reply(site, &mut server))
        .expect("apply");
    assert_eq!(tally(&engine, site), 13);
    assert_eq!(engine.pending_count(), 1, "the unsent bump is still to send");
    let request = engine.build_request(1 << 20);
    let entry = request.docs.iter().find(|d| d.id == site).expect("site");
    assert_eq!(entry.changes.len(), 1);
}

#[test]
fn a_bad_state_changes_nothing() {
    let mut engine = engine_with_form();
    let (site, mut server) = site_far_behind(&mut engine, 3);
    let before = engine.save();
    let mut reply = state_reply(site, &mut server);
    reply.docs.push(DocEntry::with_state(
        Uuid::new_v4(),
        DocKind::Site,
        &[],
        b"garbage".to_vec(),
    ));
    assert!(engine.apply_response(&reply).is_err());
    let mut cut = state_reply(site, &mut server);
    let state = cut.docs[0].state.as_mut().expect("state");
    let half = state.len() / 2;
    state.truncate(half);
    assert!(engine.apply_response(&cut).is_err());
    assert_eq!(engine.save(), before);
}

#[test]
fn the_protocol_steps_down_to_v1_only() {
    let mut engine = engine_with_form();
    assert_eq!(engine.protocol(), 2);
    assert_eq!(engine.build_request(1 << 20).v, 2);
    engine.set_protocol(1).expect("v1");
    assert_eq!(engine.build_request(1 << 20).v, 1);
    assert_eq!(engine.set_protocol(0), Err(Error::UnsupportedVersion(0)));
    assert_eq!(engine.set_protocol(3), Err(Error::UnsupportedVersion(3)));
    assert_eq!(engine.protocol(), 1);
}
