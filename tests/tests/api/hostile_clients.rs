//! An enrolled phone turned hostile: it writes with Automerge directly, as any client may, and
//! hides contact details where a check of the merged document alone would not look (an
//! overwritten value, a deleted field, every letter typed into a text object, a conflict's
//! losing side, the actor id), or tries to exhaust the server. Each test shows the attack is
//! real (the smuggled text is in the bytes sent), then that the server refuses it and that
//! nothing of it is stored or reaches another phone, over protocol v1, v2 or v3. Tally
//! documents (protocol 3) get the same per-change checks as the site documents they count for.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};
use sync_core::{DocEntry, DocKind, SyncRequest, SyncResponse, response, site, tally};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Api, Backend, Device, Reply, TestServer};
use crate::sync_scenarios::edit;

on_both_backends!(
    a_site_history_that_hid_contact_details_is_refused,
    response_histories_that_hid_contact_details_are_refused,
    a_decompression_bomb_is_refused_and_the_server_keeps_serving,
    tallies_move_by_small_steps_on_their_own_counters,
    an_actor_that_spells_out_a_person_is_refused,
    a_submitted_response_answers_every_required_question,
    disguised_contact_details_are_refused,
    forms_asking_for_identifying_details_in_any_language_are_refused,
    hostile_tally_documents_are_refused_without_a_trace,
);

const PHONE: &str = "0812345678";

fn commit(doc: &mut AutoCommit) {
    doc.commit_with(CommitOptions::default().with_time(0));
}

/// Uncompressed, so what is sent can be searched for the smuggled text.
fn changes_since(doc: &mut AutoCommit, heads: &[ChangeHash]) -> Vec<Vec<u8>> {
    doc.get_changes(heads)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

fn holds(bytes: &[Vec<u8>], needle: &[u8]) -> bool {
    bytes.iter().any(|b| b.windows(needle.len()).any(|w| w == needle))
}

/// The protocol a hand-made request of `docs` goes over: v2, or v3 when one is a tally
/// document, which no older protocol takes.
fn protocol_for(docs: &[DocEntry]) -> u64 {
    if docs.iter().any(|d| d.kind == DocKind::Tally) {
        3
    } else {
        2
    }
}

/// `docs` sent by `device` as its own client would not send them; the reply, whatever it is.
async fn post(api: &Api, device: &Device, docs: Vec<DocEntry>) -> Reply {
    let v = protocol_for(&docs);
    let request = SyncRequest {
        v,
        dataset: device.engine.dataset(),
        epoch: device.engine.epoch(),
        docs,
        totals_seen: None,
    };
    api.send(
        reqwest::Method::POST,
        &format!("/v{v}/sync"),
        Some(&device.token),
        Some("application/cbor"),
        sync_core::encode_request(&request),
    )
    .await
    .expect("transport")
}

async fn send(api: &Api, device: &Device, docs: Vec<DocEntry>) -> SyncResponse {
    device.send_entries(api, protocol_for(&docs), docs).await
}

/// The attack: `entry` carries `needle`, is refused with `code`, and afterwards `needle` is in
/// no column of the database and in no document a fresh phone receives, over v1, v2 or v3.
async fn refused_without_a_trace(
    server: &TestServer,
    attacker: &Device,
    admin: &str,
    entry: DocEntry,
    code: &str,
    needle: &[u8],
) {
    let api = &server.api;
    let sent: Vec<Vec<u8>> = entry.changes.iter().map(|c| c.to_vec()).collect();
    assert!(
        holds(&sent, needle),
        "the attack is real: {:?} travels in the request",
        String::from_utf8_lossy(needle)
    );
    let id = entry.id;
    let answer = send(api, attacker, vec![entry]).await;
    let refused: Vec<(Uuid, &str)> = answer.rejected.iter().map(|r| (r.id, r.code.as_str())).collect();
    assert_eq!(refused, vec![(id, code)], "{answer:?}");
    assert_eq!(
        server.db.places_holding(needle).await,
        Vec::<String>::new(),
        "stored nowhere"
    );
    for protocol in [1, 2, 3] {
        let code = api.enrollment_code(admin, attacker.engine.dataset(), 1).await;
        let mut fresh = Device::enroll(api, &code).await;
        fresh.engine.set_protocol(protocol).expect("protocol");
        fresh.sync_fully(api).await;
        for kind in [DocKind::Site, DocKind::Response, DocKind::Form, DocKind::Tally] {
            for doc_id in fresh.engine.document_ids(kind) {
                let doc = fresh.engine.document_mut(doc_id).expect("doc");
                let history = changes_since(doc, &[]);
                assert!(
                    !holds(&history, needle),
                    "a fresh phone on v{protocol} received it"
                );
            }
        }
    }
}

/// A phone that has the dataset, and an attacker's copy of one of its documents.
async fn enrolled(server: &TestServer, admin: &str) -> Device {
    let (_, mut devices) = server.api.dataset_with_devices(admin, "live", 1).await;
    devices.pop().expect("a device")
}

fn hostile_copy(device: &mut Device, id: Uuid) -> AutoCommit {
    device
        .engine
        .document_mut(id)
        .expect("doc")
        .fork()
        .with_actor(ActorId::random())
}

async fn a_site_history_that_hid_contact_details_is_refused(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let mut device = enrolled(&server, &admin).await;
    let site_id = device.engine.create_site("pier-7", "Pier 7").expect("site");
    device.sync_fully(&server.api).await;

    let mut doc = hostile_copy(&mut device, site_id);
    let heads = doc.get_heads();
    doc.put(ROOT, "name", format!("Jane Doe call {PHONE}"))
        .expect("put");
    doc.put(ROOT, "secret", "passport K1234567 jane@example.org")
        .expect("put");
    commit(&mut doc);
    doc.put(ROOT, "name", "Pier 7").expect("put");
    doc.delete(ROOT, "secret").expect("delete");
    commit(&mut doc);
    assert!(site::read(&doc).is_ok(), "the final state alone passes");
    let entry = DocEntry::new(
        site_id,
        DocKind::Site,
        &doc.get_heads(),
        changes_since(&mut doc, &heads),
    );
    refused_without_a_trace(
        &server,
        &device,
        &admin,
        entry.clone(),
        "invalid",
        PHONE.as_bytes(),
    )
    .await;
    assert_eq!(server.db.places_holding(b"K1234567").await, Vec::<String>::new());
}

async fn response_histories_that_hid_contact_details_are_refused(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let mut device = enrolled(&server, &admin).await;
    let id = device
        .engine
        .create_response("outreach", &edit(1))
        .expect("response");
    device.sync_fully(&server.api).await;
    let answers_of = |doc: &AutoCommit| doc.get(ROOT, "answers").expect("get").expect("answers").1;

    // An answer overwritten by a later change.
    let mut overwritten = hostile_copy(&mut device, id);
    let heads = overwritten.get_heads();
    let answers = answers_of(&overwritten);
    overwritten
        .put(&answers, "notes", format!("her number {PHONE}, name Jane Doe"))
        .expect("put");
    commit(&mut overwritten);
    overwritten.put(&answers, "notes", "ok").expect("put");
    commit(&mut overwritten);
    let changes = changes_since(&mut overwritten, &heads);
    let entry = DocEntry::new(id, DocKind::Response, &overwritten.get_heads(), changes);
    refused_without_a_trace(&server, &device, &admin, entry, "invalid", PHONE.as_bytes()).await;

    // A text object typed letter by letter, then deleted.
    let mut typed = hostile_copy(&mut device, id);
    let heads = typed.get_heads();
    let answers = answers_of(&typed);
    let notes = typed.put_object(&answers, "notes", ObjType::Text).expect("text");
    for (i, c) in PHONE.chars().enumerate() {
        typed.splice_text(&notes, i, 0, &c.to_string()).expect("type");
        commit(&mut typed);
    }
    typed
        .splice_text(&notes, 0, PHONE.len() as isize, "fine")
        .expect("delete");
    commit(&mut typed);
    let changes = changes_since(&mut typed, &heads);
    // Each letter is its own change: the number is spread over them, so look for one letter
    // run at a time in the attacker's own copy instead.
    assert_eq!(typed.text(&notes).expect("text"), "fine");
    let entry = DocEntry::new(id, DocKind::Response, &typed.get_heads(), changes);
    let answer = send(&server.api, &device, vec![entry]).await;
    assert_eq!(answer.rejected.len(), 1, "{answer:?}");
    assert_eq!(answer.rejected[0].code, "invalid");

    // The losing side of two concurrent edits.
    let mut winner = hostile_copy(&mut device, id);
    let mut loser = winner.fork().with_actor(ActorId::random());
    let heads = winner.get_heads();
    let answers = answers_of(&winner);
    winner.put(&answers, "notes", "ok").expect("put");
    commit(&mut winner);
    loser
        .put(&answers, "notes", format!("ring {PHONE}"))
        .expect("put");
    commit(&mut loser);
    winner.merge(&mut loser).expect("merge");
    assert_eq!(
        winner.get_all(&answers, "notes").expect("all").len(),
        2,
        "a conflict"
    );
    let changes = changes_since(&mut winner, &heads);
    let entry = DocEntry::new(id, DocKind::Response, &winner.get_heads(), changes);
    refused_without_a_trace(&server, &device, &admin, entry, "invalid", PHONE.as_bytes()).await;

    // None of it reached the stored response, which still reads as the device left it.
    let stored = server
        .db
        .bytes("SELECT bytes FROM documents WHERE id = $1", id)
        .await;
    let doc = sync_core::load_document(&stored).expect("stored");
    assert_eq!(
        response::read(
            &doc,
            &sync_core::Form::from_json(crate::support::FORM_JSON).expect("form")
        )
        .expect("stored response")
        .answers
        .get("notes"),
        edit(1).answers.iter().find(|(q, _)| q == "notes").map(|(_, a)| a)
    );
}

/// What the test process holds at most, in KiB (the server runs inside it).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// A change chunk compressed (type 2) from `size` zero bytes: about a thousandth of it on the
/// wire.
fn bomb(size: usize) -> Vec<u8> {
    use std::io::Write;
    let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..size >> 20 {
        deflate.write_all(&zeros).expect("deflate");
    }
    let body = deflate.finish().expect("deflate");
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
    let mut len = body.len();
    while len >= 0x80 {
        chunk.push((len & 0x7f) as u8 | 0x80);
        len >>= 7;
    }
    chunk.push(len as u8);
    chunk.extend_from_slice(&body);
    chunk
}

async fn a_decompression_bomb_is_refused_and_the_server_keeps_serving(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let mut device = enrolled(&server, &admin).await;
    let bomb = bomb(256 << 20);
    assert!(bomb.len() < 300 << 10, "{} bytes on the wire", bomb.len());
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(flate2::read::DeflateDecoder::new(&bomb[12..]), 64 << 20),
        &mut inflated,
    )
    .expect("inflates");
    assert_eq!(
        inflated.len(),
        64 << 20,
        "the attack is real: it inflates a thousandfold"
    );
    drop(inflated);

    let before = peak_rss_kib();
    let entry = DocEntry::new(Uuid::new_v4(), DocKind::Site, &[], vec![bomb]);
    let reply = post(&server.api, &device, vec![entry]).await;
    assert_eq!((reply.status, reply.error_code().as_str()), (413, "too_large"));
    let grown = peak_rss_kib().saturating_sub(before);
    assert!(grown < 16 << 10, "peak memory grew by {grown} KiB");

    // The server keeps serving, and nothing acknowledged is lost.
    device
        .engine
        .create_response("outreach", &edit(2))
        .expect("response");
    device.sync_fully(&server.api).await;
    assert_eq!(device.engine.pending_count(), 0);
}

/// What a hostile phone does to a site's tallies map.
type TallyWrite = dyn Fn(&mut AutoCommit, &automerge::ObjId);

async fn tallies_move_by_small_steps_on_their_own_counters(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let mut device = enrolled(&server, &admin).await;
    let site_id = device.engine.create_site("pier-7", "Pier 7").expect("site");
    device.engine.bump_tally(site_id, "contacts", 5).expect("bump");
    device.sync_fully(&server.api).await;

    let mut cases: Vec<(&str, Box<TallyWrite>)> = vec![
        (
            "1e12",
            Box::new(|d, t| d.increment(t, "contacts", 1_000_000_000_000).expect("inc")),
        ),
        (
            "-5e11",
            Box::new(|d, t| d.increment(t, "contacts", -500_000_000_000).expect("inc")),
        ),
        (
            "2^53-1",
            Box::new(|d, t| d.increment(t, "contacts", 9_007_199_254_740_991).expect("inc")),
        ),
        (
            "below zero",
            Box::new(|d, t| d.increment(t, "contacts", -6).expect("inc")),
        ),
        (
            "a new counter",
            Box::new(|d, t| d.put(t, "bribes", ScalarValue::counter(0)).expect("put")),
        ),
        (
            "a deleted counter",
            Box::new(|d, t| d.delete(t, "kits").expect("delete")),
        ),
    ];
    for (what, write) in cases.drain(..) {
        let mut doc = hostile_copy(&mut device, site_id);
        let heads = doc.get_heads();
        let tallies = doc.get(ROOT, "tallies").expect("get").expect("tallies").1;
        write(&mut doc, &tallies);
        commit(&mut doc);
        let entry = DocEntry::new(
            site_id,
            DocKind::Site,
            &doc.get_heads(),
            changes_since(&mut doc, &heads),
        );
        let answer = send(&server.api, &device, vec![entry]).await;
        let codes: Vec<&str> = answer.rejected.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, vec!["invalid"], "{what}");
    }
    // Every phone still sees the tally the honest bump left.
    let code = server
        .api
        .enrollment_code(&admin, device.engine.dataset(), 1)
        .await;
    let mut other = Device::enroll(&server.api, &code).await;
    other.sync_fully(&server.api).await;
    let sites = other.engine.sites();
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0].1.tallies["contacts"], 5);
    assert!(!sites[0].1.tallies.contains_key("bribes"));
}

async fn an_actor_that_spells_out_a_person_is_refused(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let device = enrolled(&server, &admin).await;
    let spelled = ActorId::from(b"worker:jane-doe:+66812345678".as_slice());
    let mut doc = site::create_as(
        spelled,
        device.engine.dataset(),
        "pier-9",
        "Pier 9",
        site::DEFAULT_METRICS,
    )
    .expect("site");
    let entry = DocEntry::new(
        Uuid::new_v4(),
        DocKind::Site,
        &doc.get_heads(),
        changes_since(&mut doc, &[]),
    );
    refused_without_a_trace(&server, &device, &admin, entry, "invalid", b"jane-doe").await;
}

async fn a_submitted_response_answers_every_required_question(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let dataset = api.create_dataset(&admin, "required", "live").await;
    let form = r#"{ "id": "intake", "version": 1, "title": "Intake", "areas": ["north"],
        "questions": [
          { "id": "gender", "type": "single", "label": "Gender", "options": ["f", "m", "x"], "required": true },
          { "id": "notes", "type": "text", "label": "Notes" } ] }"#;
    api.publish_form(&admin, dataset, form).await;
    let code = api.enrollment_code(&admin, dataset, 1).await;
    let mut device = Device::enroll(api, &code).await;
    device.sync_fully(api).await;
    let draft = sync_core::ResponseEdit {
        area: Some("north".into()),
        collected_on: Some(sync_core::Day::parse("2026-11-20").expect("day")),
        ..Default::default()
    };
    let id = device
        .engine
        .create_response("intake", &draft)
        .expect("a draft may be incomplete");
    device.sync_fully(api).await;
    assert_eq!(
        server
            .db
            .count("SELECT COUNT(*) FROM documents WHERE id = $1", id)
            .await,
        1
    );

    // Handed in without the required answer.
    let mut doc = hostile_copy(&mut device, id);
    let heads = doc.get_heads();
    doc.put(ROOT, "status", "submitted").expect("put");
    commit(&mut doc);
    let entry = DocEntry::new(
        id,
        DocKind::Response,
        &doc.get_heads(),
        changes_since(&mut doc, &heads),
    );
    let answer = send(api, &device, vec![entry]).await;
    assert_eq!(answer.rejected.len(), 1, "{answer:?}");
    assert!(answer.rejected[0].message.contains("gender"), "{answer:?}");

    // Answered and handed in, then the answer deleted by a later change.
    let done = sync_core::ResponseEdit {
        answers: vec![("gender".into(), sync_core::Answer::Single("f".into()))],
        submit: true,
        ..Default::default()
    };
    device.engine.edit_response(id, &done).expect("submit");
    device.sync_fully(api).await;
    let mut doc = hostile_copy(&mut device, id);
    let heads = doc.get_heads();
    let answers = doc.get(ROOT, "answers").expect("get").expect("answers").1;
    doc.delete(&answers, "gender").expect("delete");
    commit(&mut doc);
    let entry = DocEntry::new(
        id,
        DocKind::Response,
        &doc.get_heads(),
        changes_since(&mut doc, &heads),
    );
    let answer = send(api, &device, vec![entry]).await;
    assert_eq!(answer.rejected.len(), 1, "{answer:?}");
    assert_eq!(answer.rejected[0].code, "invalid");
}

async fn disguised_contact_details_are_refused(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let mut device = enrolled(&server, &admin).await;
    // Whole texts are looked for: a few digits alone turn up in random ids.
    let disguised = [
        "081 . 234 . 5678",
        "081,234,5678",
        "081 / 234 / 5678",
        "081_234_5678",
        "0812 x 345 x 678",
        "zero eight one two three four five six seven eight",
        "\u{24ea}\u{2467}\u{2460}\u{2461}\u{2462}\u{2463}\u{2464}\u{2465}\u{2466}\u{2467}",
        "\u{2070}\u{2078}\u{00b9}\u{00b2}\u{00b3}\u{2074}\u{2075}\u{2076}\u{2077}\u{2078}",
        "jane at proton dot me",
        "jane(@)gmail.com",
        "jane [@] gmail [.] com",
        "born 1998-03-12",
    ];
    for text in disguised {
        let id = device
            .engine
            .create_response("outreach", &edit(3))
            .expect("response");
        let mut doc = hostile_copy(&mut device, id);
        let answers = doc.get(ROOT, "answers").expect("get").expect("answers").1;
        doc.put(&answers, "notes", text).expect("put");
        commit(&mut doc);
        let entry = DocEntry::new(
            id,
            DocKind::Response,
            &doc.get_heads(),
            changes_since(&mut doc, &[]),
        );
        let answer = send(&server.api, &device, vec![entry]).await;
        let codes: Vec<&str> = answer.rejected.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, vec!["invalid"], "{text}");
        assert_eq!(
            server.db.places_holding(text.as_bytes()).await,
            Vec::<String>::new(),
            "{text}"
        );
        assert!(sync_core::is_scrubbed(&sync_core::scrub_free_text(text)));
    }
}

async fn forms_asking_for_identifying_details_in_any_language_are_refused(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let dataset = api.create_dataset(&admin, "forms", "live").await;
    let question = |q: serde_json::Value| {
        serde_json::json!({
            "id": "probe", "version": 1, "title": "Probe", "areas": ["north"],
            "questions": [q],
        })
    };
    let asks = [
        serde_json::json!({ "id": "contact", "type": "text", "label": "Contact", "translations": { "es": "Número de teléfono" } }),
        serde_json::json!({ "id": "contact", "type": "text", "label": "Contact", "translations": { "th": "เบอร์โทรศัพท์" } }),
        serde_json::json!({ "id": "who", "type": "text", "label": "Who", "translations": { "es": "Nombre completo" } }),
        serde_json::json!({ "id": "q1", "type": "text", "label": "Phone?" }),
        serde_json::json!({ "id": "q2", "type": "text", "label": "Name:" }),
        serde_json::json!({ "id": "respondentname", "type": "text", "label": "Respondent" }),
        serde_json::json!({ "id": "q3", "type": "date", "label": "Date you were born" }),
        serde_json::json!({ "id": "year_born", "type": "integer", "label": "Year", "min": 1900, "max": 2026 }),
        serde_json::json!({ "id": "q4", "type": "text", "label": "Ph\u{03bf}ne number" }),
        serde_json::json!({ "id": "q5", "type": "text", "label": "E\u{2011}mail" }),
        serde_json::json!({ "id": "q6", "type": "single", "label": "Where", "options": [{ "id": "gps", "label": "Give GPS coordinates" }, "no"] }),
    ];
    for ask in asks {
        let reply = api
            .post_json(
                &format!("/v1/datasets/{dataset}/forms"),
                Some(&admin),
                &question(ask.clone()),
            )
            .await;
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (400, "identifying_question"),
            "{ask}"
        );
    }
    let listed = api
        .get(&format!("/v1/datasets/{dataset}/forms"), Some(&admin))
        .await;
    assert_eq!(listed.json(), serde_json::json!([]), "nothing published");
}

/// A tally document for `site_id` made by hand with `actor`: a first change as a phone makes it
/// (every metric of the site at 0) with `first` written into it as well, then `later` as a
/// second change (none if it writes nothing). A fresh id.
fn hand_made_tally(
    device: &Device,
    site_id: Uuid,
    actor: ActorId,
    first: &dyn Fn(&mut AutoCommit, &ObjId),
    later: &dyn Fn(&mut AutoCommit, &ObjId),
) -> DocEntry {
    let mut doc = AutoCommit::new().with_actor(actor);
    doc.put(ROOT, "schema", tally::SCHEMA).expect("put");
    doc.put(ROOT, "dataset", device.engine.dataset().to_string())
        .expect("put");
    doc.put(ROOT, "site", site_id.to_string()).expect("put");
    let tallies = doc.put_object(ROOT, "tallies", ObjType::Map).expect("map");
    for metric in site::DEFAULT_METRICS {
        doc.put(&tallies, *metric, ScalarValue::counter(0))
            .expect("counter");
    }
    first(&mut doc, &tallies);
    commit(&mut doc);
    later(&mut doc, &tallies);
    commit(&mut doc);
    DocEntry::new(
        Uuid::new_v4(),
        DocKind::Tally,
        &doc.get_heads(),
        changes_since(&mut doc, &[]),
    )
}

/// Counts a tally document made by hand must not carry, in its first change or a later one.
/// The same document without them is taken and counted, so each refusal is the attack's.
async fn hostile_tally_documents_are_refused_without_a_trace(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let mut device = enrolled(&server, &admin).await;
    let site_id = device.engine.create_site("pier-7", "Pier 7").expect("site");
    device.sync_fully(&server.api).await;
    let nothing = |_: &mut AutoCommit, _: &ObjId| {};

    let honest = hand_made_tally(&device, site_id, ActorId::random(), &nothing, &|d, t| {
        d.increment(t, "contacts", 7).expect("inc")
    });
    let answer = send(&server.api, &device, vec![honest]).await;
    assert!(answer.rejected.is_empty(), "{answer:?}");
    assert_eq!(server.db.site_total(site_id, "contacts").await, 7);

    // Each carries the needle it is searched for afterwards.
    let float = 8_123_456.78_f64;
    let with_needles: Vec<(&str, DocEntry, Vec<u8>)> = vec![
        (
            "text beside the counts",
            hand_made_tally(
                &device,
                site_id,
                ActorId::random(),
                &|d, _| {
                    d.put(ROOT, "note", format!("Jane Doe, call {PHONE}"))
                        .expect("put")
                },
                &nothing,
            ),
            PHONE.as_bytes().to_vec(),
        ),
        (
            "a text object written later",
            hand_made_tally(&device, site_id, ActorId::random(), &nothing, &|d, _| {
                let note = d.put_object(ROOT, "note", ObjType::Text).expect("text");
                d.splice_text(&note, 0, 0, "jane.doe@example.org").expect("type");
            }),
            b"jane.doe@example.org".to_vec(),
        ),
        (
            "a key that spells out a person",
            hand_made_tally(
                &device,
                site_id,
                ActorId::random(),
                &|d, t| {
                    d.put(t, format!("jane_doe_{PHONE}"), ScalarValue::counter(1))
                        .expect("counter")
                },
                &nothing,
            ),
            PHONE.as_bytes().to_vec(),
        ),
        (
            "a float over a counter",
            hand_made_tally(&device, site_id, ActorId::random(), &nothing, &|d, t| {
                d.put(t, "contacts", float).expect("put")
            }),
            float.to_le_bytes().to_vec(),
        ),
        (
            "an actor that spells out a person",
            hand_made_tally(
                &device,
                site_id,
                ActorId::from(b"worker:jane-doe:+66812345678".as_slice()),
                &nothing,
                &nothing,
            ),
            b"jane-doe".to_vec(),
        ),
    ];
    for (_, entry, needle) in with_needles {
        refused_without_a_trace(&server, &device, &admin, entry, "invalid", &needle).await;
    }

    // Counts beyond the rules carry no text to look for: the tally documents and the sums are
    // looked at instead.
    let counts_only: Vec<(&str, DocEntry)> = vec![
        (
            "a huge step",
            hand_made_tally(&device, site_id, ActorId::random(), &nothing, &|d, t| {
                d.increment(t, "contacts", 1_000_000).expect("inc")
            }),
        ),
        (
            "a huge start",
            hand_made_tally(
                &device,
                site_id,
                ActorId::random(),
                &|d, t| {
                    d.put(t, "kits", ScalarValue::counter(5_000_000))
                        .expect("counter")
                },
                &nothing,
            ),
        ),
        (
            "below zero",
            hand_made_tally(&device, site_id, ActorId::random(), &nothing, &|d, t| {
                d.increment(t, "contacts", -1).expect("inc")
            }),
        ),
        (
            "a counter made later",
            hand_made_tally(&device, site_id, ActorId::random(), &nothing, &|d, t| {
                d.put(t, "bribes", ScalarValue::counter(0)).expect("counter")
            }),
        ),
        (
            "a counter deleted",
            hand_made_tally(&device, site_id, ActorId::random(), &nothing, &|d, t| {
                d.delete(t, "kits").expect("delete")
            }),
        ),
    ];
    for (what, entry) in counts_only {
        let id = entry.id;
        let answer = send(&server.api, &device, vec![entry]).await;
        let refused: Vec<(Uuid, &str)> = answer.rejected.iter().map(|r| (r.id, r.code.as_str())).collect();
        assert_eq!(refused, vec![(id, "invalid")], "{what}: {answer:?}");
        let stored = "SELECT COUNT(*) FROM documents WHERE id = $1";
        assert_eq!(server.db.count(stored, id).await, 0, "{what}");
    }

    let tallies = "SELECT COUNT(*) FROM documents WHERE dataset = $1 AND kind = 'tally'";
    let dataset = device.engine.dataset();
    assert_eq!(server.db.count(tallies, dataset).await, 1, "the honest one only");
    let rows = "SELECT COUNT(*) FROM device_tallies WHERE dataset = $1";
    assert_eq!(
        server.db.count(rows, dataset).await,
        site::DEFAULT_METRICS.len() as i64
    );
    for metric in site::DEFAULT_METRICS {
        let honest = if *metric == "contacts" { 7 } else { 0 };
        assert_eq!(server.db.site_total(site_id, metric).await, honest, "{metric}");
    }
    let grown = "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM tally_days WHERE dataset = $1";
    assert_eq!(server.db.count(grown, dataset).await, 7, "the analysts' days");
}
