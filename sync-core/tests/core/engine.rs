use serde_bytes::ByteBuf;
use sync_core::{ClientEngine, DocEntry, DocKind, Error, Rejection, ResponseEdit, SyncResponse, form_doc};
use uuid::Uuid;

use crate::support::{form, new_response_edit};

/// An engine that already received the test form, as after its first sync.
pub(super) fn engine_with_form() -> ClientEngine {
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

pub(super) fn answer(epoch: u64, docs: Vec<DocEntry>) -> SyncResponse {
    SyncResponse {
        v: 1,
        epoch,
        reset: false,
        docs,
        rejected: Vec::new(),
        need_all: Vec::new(),
        more: false,
        totals: None,
    }
}

/// What a server that accepts everything would answer, in the request's protocol: it holds
/// what each entry names.
pub(super) fn accept_all(request: &sync_core::SyncRequest) -> SyncResponse {
    let docs = request
        .docs
        .iter()
        .map(|entry| DocEntry::new(entry.id, entry.kind, &entry.head_hashes(), Vec::new()))
        .collect();
    SyncResponse {
        v: request.v,
        ..answer(request.epoch, docs)
    }
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

/// An engine holding one response the server confirmed and one draft it never saw.
fn one_sent_one_draft() -> (ClientEngine, Uuid, Uuid) {
    let mut engine = engine_with_form();
    let sent = engine
        .create_response("outreach", &new_response_edit(1))
        .expect("create");
    let request = engine.build_request(usize::MAX);
    engine.apply_response(&accept_all(&request)).expect("apply");
    let draft = engine
        .create_response("outreach", &new_response_edit(2))
        .expect("create");
    (engine, sent, draft)
}

#[test]
fn state_survives_save_and_load() {
    let (mut engine, sent, draft) = one_sent_one_draft();

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
/// other phones had bumped it one change at a time. The engine speaks v2, whose phones bump the
/// site document itself.
fn site_far_behind(engine: &mut ClientEngine, others: usize) -> (Uuid, sync_core::AutoCommit) {
    engine.set_protocol(2).expect("v2");
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
    assert_eq!(engine.protocol(), 3);
    assert_eq!(engine.build_request(1 << 20).v, 3);
    for older in [2, 1] {
        engine.set_protocol(older).expect("older");
        assert_eq!(engine.build_request(1 << 20).v, older);
    }
    assert_eq!(engine.set_protocol(0), Err(Error::UnsupportedVersion(0)));
    assert_eq!(engine.set_protocol(4), Err(Error::UnsupportedVersion(4)));
    assert_eq!(engine.protocol(), 1);
}

/// An engine holding the form and a site the server confirmed, as after a first v3 sync.
fn engine_with_site() -> (ClientEngine, Uuid) {
    let mut engine = engine_with_form();
    let site = engine.create_site("dock", "Dock").expect("site");
    let request = engine.build_request(usize::MAX);
    engine.apply_response(&accept_all(&request)).expect("apply");
    (engine, site)
}

fn v3_reply(request: &sync_core::SyncRequest, site: Uuid, others: i64) -> SyncResponse {
    SyncResponse {
        v: 3,
        totals: Some(sync_core::Totals {
            digest: digest_of(others),
            sites: vec![sync_core::SiteTotals {
                site,
                tallies: [("contacts".to_owned(), others)].into(),
            }],
        }),
        ..accept_all(request)
    }
}

fn digest_of(others: i64) -> [u8; 16] {
    let mut digest = [0; 16];
    digest[..8].copy_from_slice(&others.to_be_bytes());
    digest
}

fn site_heads(engine: &mut ClientEngine, site: Uuid) -> Vec<sync_core::ChangeHash> {
    engine.document_mut(site).expect("site").get_heads()
}

#[test]
fn over_v3_a_device_counts_into_its_own_tally_document_once_the_server_holds_the_site() {
    let mut engine = engine_with_form();
    let site = engine.create_site("dock", "Dock").expect("site");
    // Not sent yet: the site is still this device's alone, and is bumped itself.
    engine.bump_tally(site, "contacts", 2).expect("bump");
    assert!(engine.document_ids(DocKind::Tally).is_empty());
    let request = engine.build_request(usize::MAX);
    engine.apply_response(&accept_all(&request)).expect("apply");

    let shared = site_heads(&mut engine, site);
    engine.bump_tally(site, "contacts", 3).expect("bump");
    engine.bump_tally(site, "kits", 1).expect("bump");
    assert_eq!(
        site_heads(&mut engine, site),
        shared,
        "the shared site does not change"
    );
    let tallies = engine.document_ids(DocKind::Tally);
    assert_eq!(tallies.len(), 1, "one tally document for the site");
    assert_eq!(tally(&engine, site), 5);
    assert!(matches!(
        engine.bump_tally(site, "kits", -2),
        Err(Error::NegativeTally(_))
    ));
    assert!(matches!(
        engine.bump_tally(site, "bribes", 1),
        Err(Error::NotACounter(_))
    ));

    let request = engine.build_request(usize::MAX);
    let sent = request
        .docs
        .iter()
        .find(|d| d.id == tallies[0])
        .expect("tally sent");
    assert_eq!((sent.kind, sent.changes.len()), (DocKind::Tally, 2));
    assert!(
        request
            .docs
            .iter()
            .all(|d| d.id == tallies[0] || d.changes.is_empty()),
        "nothing else to send"
    );
}

#[test]
fn a_device_shows_what_the_others_counted_plus_its_own() {
    let (mut engine, site) = engine_with_site();
    engine.bump_tally(site, "contacts", 3).expect("bump");
    let request = engine.build_request(usize::MAX);
    // The server counted 40 elsewhere; this device's 3 are its own to add.
    engine
        .apply_response(&v3_reply(&request, site, 40))
        .expect("apply");
    assert_eq!(tally(&engine, site), 43);
    engine.bump_tally(site, "contacts", 1).expect("bump");
    assert_eq!(tally(&engine, site), 44, "an unsent bump shows at once");

    let mut reloaded = ClientEngine::load(&engine.save()).expect("load");
    assert_eq!(tally(&reloaded, site), 44, "totals are kept with the state");
    assert_eq!(reloaded.pending_count(), 1);

    // An older server's reply has no totals: the site document's counts are what there is,
    // and on top what no server has taken yet.
    reloaded.set_protocol(2).expect("v2");
    let request = reloaded.build_request(usize::MAX);
    reloaded.apply_response(&accept_all(&request)).expect("apply");
    assert_eq!(tally(&reloaded, site), 1);
}

#[test]
fn a_v3_device_keeps_its_totals_while_the_server_says_nothing_new_and_names_them() {
    let (mut engine, site) = engine_with_site();
    let request = engine.build_request(usize::MAX);
    engine
        .apply_response(&v3_reply(&request, site, 40))
        .expect("apply");
    let request = engine.build_request(usize::MAX);
    assert_eq!(request.totals_seen.map(|d| d.into_array()), Some(digest_of(40)));

    // Nothing moved: the reply leaves the totals out and the device keeps showing them, also
    // after a restart.
    let unchanged = SyncResponse {
        v: 3,
        ..accept_all(&request)
    };
    engine.apply_response(&unchanged).expect("apply");
    assert_eq!(tally(&engine, site), 40);
    let mut engine = ClientEngine::load(&engine.save()).expect("load");
    assert_eq!(tally(&engine, site), 40);
    let request = engine.build_request(usize::MAX);
    assert_eq!(request.totals_seen.map(|d| d.into_array()), Some(digest_of(40)));

    // New totals replace the old ones, digest and all.
    engine
        .apply_response(&v3_reply(&request, site, 45))
        .expect("apply");
    assert_eq!(tally(&engine, site), 45);
    let request = engine.build_request(usize::MAX);
    assert_eq!(request.totals_seen.map(|d| d.into_array()), Some(digest_of(45)));

    // An older server's reply has no totals: none are held, so none are named, even once the
    // device speaks 3 again.
    engine.set_protocol(2).expect("v2");
    assert_eq!(engine.build_request(usize::MAX).totals_seen, None);
    let request = engine.build_request(usize::MAX);
    engine
        .apply_response(&SyncResponse {
            v: 2,
            ..accept_all(&request)
        })
        .expect("apply");
    assert_eq!(tally(&engine, site), 0);
    engine.set_protocol(3).expect("v3");
    assert_eq!(engine.build_request(usize::MAX).totals_seen, None);

    // A reset forgets them too.
    let request = engine.build_request(usize::MAX);
    engine
        .apply_response(&v3_reply(&request, site, 50))
        .expect("apply");
    engine
        .apply_response(&SyncResponse {
            reset: true,
            epoch: 9,
            ..v3_reply(&request, site, 50)
        })
        .expect("reset");
    assert_eq!(engine.build_request(usize::MAX).totals_seen, None);
}

#[test]
fn after_an_older_servers_answer_bumps_go_to_the_site_and_tally_documents_wait() {
    let (mut engine, site) = engine_with_site();
    engine.bump_tally(site, "contacts", 2).expect("bump");
    let request = engine.build_request(usize::MAX);
    engine
        .apply_response(&v3_reply(&request, site, 0))
        .expect("apply");
    let tally_id = engine.document_ids(DocKind::Tally)[0];
    engine.bump_tally(site, "contacts", 5).expect("bump");
    let shared = site_heads(&mut engine, site);

    // The server turns out to be older (it answered /v3/sync with 404).
    engine.set_protocol(2).expect("v2");
    let request = engine.build_request(usize::MAX);
    assert!(
        request.docs.iter().all(|d| d.kind != DocKind::Tally),
        "v2 has no tally documents"
    );
    assert_eq!(
        engine.pending_count(),
        0,
        "the tally document waits: nothing to send"
    );
    engine.apply_response(&accept_all(&request)).expect("apply");
    // No server counts the 5 yet: shown on top of the site; the 2 the server took are its to add.
    assert_eq!(tally(&engine, site), 5);
    engine.bump_tally(site, "contacts", 1).expect("bump");
    assert_ne!(
        site_heads(&mut engine, site),
        shared,
        "an older server's phone bumps the site"
    );
    assert_eq!(engine.pending_count(), 1);
    assert_eq!(tally(&engine, site), 6);
    let kept = sync_core::tally::read(engine.document_mut(tally_id).expect("kept")).expect("read");
    assert_eq!(
        kept.tallies["contacts"], 7,
        "nothing moved out of the tally document"
    );

    // Back on a server of protocol 3, the tally document goes up with its 5 unsent.
    engine.set_protocol(3).expect("v3");
    let request = engine.build_request(usize::MAX);
    let entry = request.docs.iter().find(|d| d.id == tally_id).expect("sent");
    assert_eq!(entry.changes.len(), 1);
}

#[test]
fn over_v3_a_request_names_confirmed_responses_as_reads_and_leaves_out_tally_documents() {
    let (mut engine, site) = engine_with_site();
    let sent: Vec<Uuid> = (0..3)
        .map(|seed| {
            engine
                .create_response("outreach", &new_response_edit(seed))
                .expect("create")
        })
        .collect();
    engine.bump_tally(site, "contacts", 1).expect("bump");
    let tallies = engine.document_ids(DocKind::Tally);
    assert_eq!(tallies.len(), 1, "counted in a tally document of its own");
    let request = engine.build_request(usize::MAX);
    engine.apply_response(&accept_all(&request)).expect("apply");
    let new = engine
        .create_response("outreach", &new_response_edit(9))
        .expect("create");

    let request = engine.build_request(usize::MAX);
    let named: Vec<(Uuid, bool)> = request
        .docs
        .iter()
        .map(|d| (d.id, d.changes.is_empty()))
        .collect();
    assert!(
        named.contains(&(site, true)),
        "shared documents are named, so they are not sent again"
    );
    assert!(named.contains(&(new, false)));
    assert!(
        sent.iter().all(|id| named.contains(&(*id, true))),
        "confirmed responses are read, so a withdrawal reaches the phone: {named:?}"
    );
    assert!(!named.iter().any(|(id, _)| *id == tallies[0]), "{named:?}");
    assert_eq!(named.len(), 6, "the form, the site and the four responses");

    engine.set_protocol(2).expect("v2");
    let older = engine.build_request(usize::MAX);
    assert!(
        sent.iter().all(|id| older.docs.iter().any(|d| d.id == *id)),
        "v2 names them all"
    );
}

#[test]
fn a_saved_engine_parses_a_document_only_when_it_is_used() {
    let mut engine = engine_with_form();
    let ids: Vec<Uuid> = (0..4)
        .map(|seed| {
            engine
                .create_response("outreach", &new_response_edit(seed))
                .expect("create")
        })
        .collect();
    let request = engine.build_request(usize::MAX);
    engine.apply_response(&accept_all(&request)).expect("apply");

    // The saved bytes of one response damaged: nothing notices until it is read.
    let saved: ciborium::Value = ciborium::de::from_reader(&engine.save()[..]).expect("cbor");
    let mut state = saved.into_map().expect("map");
    let damaged = ids[2].to_string();
    for (key, value) in &mut state {
        if key.as_text() != Some("docs") {
            continue;
        }
        for doc in value.as_array_mut().expect("docs") {
            let fields = doc.as_map_mut().expect("doc");
            let is_it = fields
                .iter()
                .any(|(k, v)| k.as_text() == Some("id") && v.as_text() == Some(&damaged));
            for (k, v) in fields.iter_mut() {
                if is_it && k.as_text() == Some("bytes") {
                    *v = ciborium::Value::Bytes(b"not automerge".to_vec());
                }
            }
        }
    }
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&ciborium::Value::Map(state), &mut bytes).expect("encode");

    let mut loaded = ClientEngine::load(&bytes).expect("loads without parsing documents");
    assert_eq!(loaded.pending_count(), 0, "told from the saved heads");
    assert_eq!(
        loaded.build_request(usize::MAX).docs.len(),
        5,
        "the form and the responses, read by their saved heads"
    );
    assert!(loaded.response(ids[1]).is_ok());
    assert!(matches!(loaded.response(ids[2]), Err(Error::EngineState(_))));
    let again = ClientEngine::load(&loaded.save()).expect("saved as it was");
    assert_eq!(again.document_ids(DocKind::Response).len(), 4);
}

#[test]
fn listing_pending_documents_changes_nothing_the_next_request_carries() {
    let (mut engine, sent, draft) = one_sent_one_draft();
    // The server said there is more to fetch: the next round must still happen.
    engine
        .apply_response(&SyncResponse {
            more: true,
            ..answer(1, Vec::new())
        })
        .expect("apply");
    let mut untouched = ClientEngine::load(&engine.save()).expect("load");

    assert_eq!(engine.pending_documents(), vec![draft]);
    assert_eq!(
        engine.pending_documents(),
        vec![draft],
        "asking twice, same answer"
    );
    assert!(!engine.pending_documents().contains(&sent));
    assert!(engine.needs_sync());
    assert_eq!(engine.save(), untouched.save());
    assert_eq!(engine.build_request(1), untouched.build_request(1));
}

#[test]
fn an_older_server_is_spoken_to_down_to_protocol_one_and_no_further() {
    let mut engine = engine_with_form();
    assert_eq!(engine.protocol(), sync_core::PROTOCOL_VERSION);
    let mut spoken = vec![engine.protocol()];
    while engine.use_older_protocol() {
        spoken.push(engine.protocol());
    }
    assert_eq!(spoken, [3, 2, 1]);
    assert_eq!(
        engine.protocol(),
        1,
        "a refused step leaves the protocol as it was"
    );
    assert_eq!(engine.build_request(usize::MAX).v, 1);
}
