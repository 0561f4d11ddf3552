//! Documents the server must refuse: nothing applied, bytes quarantined, the right code.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ObjId, ROOT, ReadDoc as _};
use survey_server::SyncSettings;
use sync_core::{DocEntry, DocKind, Form, SyncRequest, SyncResponse, form_doc, response, site};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Api, Backend, Device, FORM_JSON, TestServer};
use crate::sync_scenarios::edit;

on_both_backends!(
    responses_belong_to_their_device,
    invalid_documents_are_refused_and_quarantined,
    an_actor_may_write_one_document_only,
    oversized_documents_are_refused,
    a_refused_change_to_a_busy_site_leaves_no_trace,
);

fn all_changes(doc: &mut AutoCommit) -> Vec<Vec<u8>> {
    doc.get_changes(&[])
        .into_iter()
        .map(|mut c| c.bytes().into_owned())
        .collect()
}

fn entry(id: Uuid, kind: DocKind, doc: &mut AutoCommit) -> DocEntry {
    let heads = doc.get_heads();
    DocEntry::new(id, kind, &heads, all_changes(doc))
}

async fn send(api: &Api, device: &Device, docs: Vec<DocEntry>) -> SyncResponse {
    let request = SyncRequest {
        v: 1,
        dataset: device.engine.dataset(),
        epoch: device.engine.epoch(),
        docs,
        totals_seen: None,
    };
    let reply = api
        .post_sync(Some(&device.token), sync_core::encode_request(&request))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    sync_core::decode_response(&reply.body, &sync_core::Limits::default()).expect("answer")
}

fn code_of(answer: &SyncResponse, id: Uuid) -> String {
    answer
        .rejected
        .iter()
        .find(|r| r.id == id)
        .map(|r| r.code.clone())
        .unwrap_or_else(|| panic!("{id} was not rejected: {answer:?}"))
}

fn form() -> Form {
    Form::from_json(FORM_JSON).expect("form")
}

async fn responses_belong_to_their_device(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 2).await;
    let mine = devices[0]
        .engine
        .create_response("outreach", &edit(1))
        .expect("response");
    devices[0].sync_fully(api).await;
    let version = "SELECT version FROM documents WHERE id = $1";
    let stored = server.db.count(version, mine).await;

    // Another device can neither read nor change it.
    let read = DocEntry::new(mine, DocKind::Response, &[], Vec::new());
    let mut edit_doc = devices[0].engine.document_mut(mine).expect("doc").fork();
    edit_doc.put(ROOT, "status", "draft").expect("put");
    edit_doc.commit();
    let write = entry(mine, DocKind::Response, &mut edit_doc);
    let read_answer = send(api, &devices[1], vec![read]).await;
    assert_eq!(code_of(&read_answer, mine), "forbidden");
    assert!(read_answer.docs.iter().all(|d| d.id != mine));
    let write_answer = send(api, &devices[1], vec![write]).await;
    assert_eq!(code_of(&write_answer, mine), "forbidden");
    assert_eq!(server.db.count(version, mine).await, stored, "not written");
    let quarantined = "SELECT COUNT(*) FROM quarantine WHERE document = $1";
    assert_eq!(
        server.db.count(quarantined, mine).await,
        1,
        "the refused write is kept, the read is not"
    );

    // Nobody but the server writes form documents.
    let form_id = Uuid::new_v4();
    let mut forged = form_doc::create(dataset, &form()).expect("form doc");
    let answer = send(api, &devices[1], vec![entry(form_id, DocKind::Form, &mut forged)]).await;
    assert_eq!(code_of(&answer, form_id), "forbidden");

    // A device of another dataset cannot touch this dataset's site documents.
    let site_id = devices[0].engine.create_site("bridge", "Bridge").expect("site");
    devices[0].sync_fully(api).await;
    let (_, others) = api.dataset_with_devices(&admin, "live", 1).await;
    let answer = send(
        api,
        &others[0],
        vec![DocEntry::new(site_id, DocKind::Site, &[], Vec::new())],
    )
    .await;
    assert_eq!(code_of(&answer, site_id), "forbidden");

    // Nor send a request in this dataset's name.
    let request = SyncRequest {
        v: 1,
        dataset,
        epoch: 1,
        docs: Vec::new(),
        totals_seen: None,
    };
    let reply = api
        .post_sync(Some(&others[0].token), sync_core::encode_request(&request))
        .await;
    assert_eq!((reply.status, reply.error_code().as_str()), (403, "forbidden"));
}

async fn invalid_documents_are_refused_and_quarantined(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let device = &devices[0];
    let form = form();
    let mut cases: Vec<(Uuid, DocEntry, &str)> = Vec::new();
    let mut add = |kind: DocKind, doc: &mut AutoCommit, code: &'static str| {
        let id = Uuid::new_v4();
        cases.push((id, entry(id, kind, doc), code));
    };

    // A field the form does not define (e.g. a phone number smuggled in).
    let mut extra = response::create(dataset, &form, &edit(1)).expect("response");
    extra.put(ROOT, "phone", "+44 7700 900123").expect("put");
    extra.commit();
    add(DocKind::Response, &mut extra, "invalid");
    // An answer outside the form's range.
    let mut out_of_range = response::create(dataset, &form, &edit(1)).expect("response");
    let answers = match automerge::ReadDoc::get(&out_of_range, ROOT, "answers") {
        Ok(Some((_, id))) => id,
        other => panic!("answers map: {other:?}"),
    };
    out_of_range.put(&answers, "contacts", 9000_i64).expect("put");
    out_of_range.commit();
    add(DocKind::Response, &mut out_of_range, "invalid");
    // A form version that was never published.
    let mut unpublished = form.clone();
    unpublished.version = 9;
    let mut unknown_form = response::create(dataset, &unpublished, &edit(1)).expect("response");
    add(DocKind::Response, &mut unknown_form, "unknown_form");
    // A response that names another dataset.
    let mut elsewhere = response::create(Uuid::new_v4(), &form, &edit(1)).expect("response");
    add(DocKind::Response, &mut elsewhere, "invalid");
    // A wall-clock timestamp on a change.
    let mut timed = site::create(dataset, "stall", "Stall", site::DEFAULT_METRICS).expect("site");
    timed.put(ROOT, "name", "Stall 2").expect("put");
    timed.commit_with(CommitOptions::default().with_time(1_700_000_000));
    add(DocKind::Site, &mut timed, "invalid");
    // A site sent as a response.
    let mut mislabelled = site::create(dataset, "gate", "Gate", site::DEFAULT_METRICS).expect("site");
    add(DocKind::Response, &mut mislabelled, "invalid");

    let garbage_id = Uuid::new_v4();
    let mut docs: Vec<DocEntry> = cases.iter().map(|(_, e, _)| e.clone()).collect();
    docs.push(DocEntry::new(
        garbage_id,
        DocKind::Site,
        &[],
        vec![b"not an automerge change".to_vec()],
    ));
    let answer = send(api, device, docs).await;
    for (id, _, code) in &cases {
        assert_eq!(code_of(&answer, *id), *code, "case {id}");
    }
    assert_eq!(code_of(&answer, garbage_id), "malformed");
    assert!(answer.docs.iter().all(|d| d.kind == DocKind::Form), "{answer:?}");
    let db = &server.db;
    assert_eq!(
        db.count("SELECT COUNT(*) FROM quarantine WHERE dataset = $1", dataset)
            .await,
        7
    );
    let stored = "SELECT COUNT(*) FROM documents WHERE dataset = $1 AND kind <> 'form'";
    assert_eq!(
        db.count(stored, dataset).await,
        0,
        "nothing of a refused document is applied"
    );

    // The refused bytes are kept as sent.
    let (timed_id, timed_entry, _) = &cases[4];
    let raw = db
        .bytes("SELECT raw FROM quarantine WHERE document = $1", *timed_id)
        .await;
    let kept: DocEntry = ciborium::de::from_reader(raw.as_slice()).expect("quarantined entry decodes");
    assert_eq!(&kept, timed_entry);

    // The admin sees what was refused, without the bytes.
    let listed = api
        .get(&format!("/v1/datasets/{dataset}/quarantine"), Some(&admin))
        .await;
    assert_eq!(listed.status, 200);
    let listed = listed.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(7));
    assert!(listed[0].get("raw").is_none());

    // And the metrics count rejections by code.
    let metrics = server.metrics.get("/metrics", None).await.text();
    assert!(
        metrics.contains("survey_sync_rejections_total{code=\"invalid\"} 5"),
        "{metrics}"
    );
}

async fn an_actor_may_write_one_document_only(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let actor = ActorId::random();
    let mut first =
        site::create_as(actor.clone(), dataset, "one", "One", site::DEFAULT_METRICS).expect("site");
    let mut second = site::create_as(actor, dataset, "two", "Two", site::DEFAULT_METRICS).expect("site");
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let answer = send(api, &devices[0], vec![entry(a, DocKind::Site, &mut first)]).await;
    assert!(answer.rejected.is_empty(), "{answer:?}");
    let answer = send(api, &devices[0], vec![entry(b, DocKind::Site, &mut second)]).await;
    assert_eq!(code_of(&answer, b), "linked_actor");
    assert_eq!(
        server
            .db
            .count("SELECT COUNT(*) FROM documents WHERE id = $1", b)
            .await,
        0
    );
    let actors = "SELECT COUNT(*) FROM doc_actors WHERE document = $1";
    assert_eq!(
        server.db.count(actors, b).await,
        0,
        "the refused transaction left no actor behind"
    );
}

async fn oversized_documents_are_refused(backend: Backend) {
    let settings = SyncSettings {
        max_document_bytes: 200,
        ..SyncSettings::default()
    };
    let server = TestServer::start_with(&backend, settings).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (_, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let id = devices[0]
        .engine
        .create_response("outreach", &edit(4))
        .expect("response");
    devices[0].sync_once(api).await;
    let rejection = devices[0]
        .engine
        .rejections()
        .iter()
        .find(|r| r.id == id)
        .cloned();
    assert_eq!(rejection.map(|r| r.code), Some("too_large".to_owned()));
    assert_eq!(
        server
            .db
            .count("SELECT COUNT(*) FROM quarantine WHERE document = $1", id)
            .await,
        1
    );
}

/// The server keeps busy site documents loaded and merges into them; a refused change must not
/// stay behind in that copy, where the next device's bump would store it. (Protocol 2, whose
/// phones bump the site itself.)
async fn a_refused_change_to_a_busy_site_leaves_no_trace(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (_, mut devices) = api.dataset_with_devices_speaking(&admin, "live", 2, 2).await;
    let site = devices[0].engine.create_site("market", "Market").expect("site");
    devices[0].engine.bump_tally(site, "contacts", 1).expect("bump");
    devices[0].sync_fully(api).await;
    devices[1].sync_fully(api).await;

    let mut tampered = devices[1].engine.document_mut(site).expect("site").fork();
    let known = tampered.get_heads();
    tampered.put(ROOT, "phone", "0712 345 678").expect("put");
    tampered
        .increment(tampered_tallies(&tampered), "contacts", 50)
        .expect("bump");
    tampered.commit();
    let changes = tampered
        .get_changes(&known)
        .into_iter()
        .map(|mut c| c.bytes().into_owned())
        .collect();
    let bad = DocEntry::new(site, DocKind::Site, &tampered.get_heads(), changes);
    let answer = send(api, &devices[1], vec![bad]).await;
    assert_eq!(code_of(&answer, site), "invalid");

    devices[0].engine.bump_tally(site, "contacts", 2).expect("bump");
    devices[0].sync_fully(api).await;
    devices[1].sync_fully(api).await;
    let total = "SELECT total FROM site_tallies WHERE document = $1 AND metric = 'contacts'";
    assert_eq!(server.db.count(total, site).await, 3);
    let stored = server
        .state
        .storage
        .document(site)
        .await
        .expect("read")
        .expect("stored");
    let stored = sync_core::load_document(&stored.bytes).expect("load");
    assert!(stored.get(ROOT, "phone").expect("get").is_none());
    for device in &devices {
        assert_eq!(device.engine.sites()[0].1.tallies["contacts"], 3);
    }
}

fn tampered_tallies(doc: &AutoCommit) -> ObjId {
    match doc.get(ROOT, "tallies").expect("get") {
        Some((_, id)) => id,
        None => panic!("a site has tallies"),
    }
}
