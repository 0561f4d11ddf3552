//! Protocol v3 beside v1 and v2: phones count into tally documents of their own, the server
//! adds them up, and a phone downloads a few numbers per site instead of every other phone's
//! bumps; phones of every protocol see the same totals, and so do analysts. Then the attacks on
//! the new document kind and the new fields, each refused with its code and leaving no trace.

use automerge::transaction::Transactable;
use automerge::{ActorId, ROOT, ReadDoc, ScalarValue};
use reqwest::Method;
use sync_core::{DocEntry, DocKind, SyncResponse, tally};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Backend, Device, TestServer};

on_both_backends!(
    a_v3_phone_downloads_totals_and_the_site_stops_growing,
    older_phones_see_device_tallies_added_to_the_site_once,
    tally_documents_are_their_devices_and_count_for_a_site_of_their_dataset,
    device_tallies_are_checked_change_by_change,
    bad_v3_bodies_are_refused_whole_and_apply_nothing,
    a_reset_forgets_the_device_tallies,
    totals_are_sent_again_only_once_they_moved,
);

fn tally_of(device: &Device, site: Uuid, metric: &str) -> i64 {
    let sites = device.engine.sites();
    let (_, view) = sites.iter().find(|(id, _)| *id == site).expect("site");
    view.tallies[metric]
}

/// The version a site document is stored at: it moves with every write.
async fn site_version(server: &TestServer, site: Uuid) -> i64 {
    server
        .db
        .count("SELECT version FROM documents WHERE id = $1", site)
        .await
}

async fn a_v3_phone_downloads_totals_and_the_site_stops_growing(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 5).await;
    let site = devices[0].engine.create_site("market", "Market").expect("site");
    for device in &mut devices {
        device.sync_fully(api).await;
    }
    let created = site_version(&server, site).await;

    let mut expected = 0;
    for round in 1..=3 {
        for device in &mut devices[1..] {
            for _ in 0..round {
                device.engine.bump_tally(site, "contacts", 2).expect("bump");
                expected += 2;
            }
            device.sync_fully(api).await;
        }
        devices[0]
            .engine
            .create_response("outreach", &crate::sync_scenarios::edit(round))
            .expect("response");
        let answer: SyncResponse = devices[0].sync_once(api).await;
        // The reply: the new response confirmed and one line of totals, nothing of the site.
        assert_eq!(answer.docs.len(), 1, "{answer:?}");
        assert_eq!(answer.docs[0].kind, DocKind::Response);
        let totals = answer.totals.expect("the others counted since: totals");
        assert_eq!(totals.sites.len(), 1);
        assert_eq!(totals.sites[0].site, site);
        assert_eq!(totals.sites[0].tallies["contacts"], expected);
        assert_eq!(tally_of(&devices[0], site, "contacts"), expected);
    }
    assert_eq!(
        site_version(&server, site).await,
        created,
        "the shared site is not written for phones counting in their own documents"
    );
    let tallies =
        "SELECT COUNT(*) FROM documents WHERE dataset = $1 AND kind = 'tally' AND owner IS NOT NULL";
    assert_eq!(
        server.db.count(tallies, dataset).await,
        4,
        "one per bumping phone"
    );
    assert_eq!(server.db.site_total(site, "contacts").await, expected);
    for device in &mut devices {
        device.sync_fully(api).await;
        assert_eq!(tally_of(device, site, "contacts"), expected);
    }
}

async fn older_phones_see_device_tallies_added_to_the_site_once(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (_, mut devices) = api.dataset_with_devices(&admin, "live", 3).await;
    devices[2].engine.set_protocol(2).expect("v2");
    let site = devices[0].engine.create_site("pier", "Pier").expect("site");
    for device in &mut devices {
        device.sync_fully(api).await;
    }
    for device in &mut devices[..2] {
        device.engine.bump_tally(site, "kits", 4).expect("bump");
        device.sync_fully(api).await;
    }
    let before = site_version(&server, site).await;

    // The older phone reads the site: the 8 the tally documents counted are added to it.
    devices[2].sync_fully(api).await;
    assert_eq!(tally_of(&devices[2], site, "kits"), 8);
    let folded = site_version(&server, site).await;
    assert_ne!(folded, before, "the server wrote the site once");
    devices[2].sync_fully(api).await;
    assert_eq!(
        site_version(&server, site).await,
        folded,
        "and not again with nothing new"
    );

    // Its own bump goes into the site; the others see it, and nothing counts twice.
    devices[2].engine.bump_tally(site, "kits", 1_000).expect("bump");
    devices[2]
        .engine
        .bump_tally(site, "kits", -3)
        .expect("correction");
    devices[2].sync_fully(api).await;
    devices[1].engine.bump_tally(site, "kits", 1).expect("bump");
    for _ in 0..2 {
        for device in &mut devices {
            device.sync_fully(api).await;
        }
    }
    let expected = 8 + 1_000 - 3 + 1;
    for device in &devices {
        assert_eq!(tally_of(device, site, "kits"), expected);
    }
    assert_eq!(server.db.site_total(site, "kits").await, expected);
    let counted = "SELECT total FROM site_tallies WHERE document = $1 AND metric = 'kits'";
    assert_eq!(
        server.db.count(counted, site).await,
        expected,
        "the site document itself carries everything an older phone reads"
    );
}

/// A tally document `device` writes by hand for `site`, with `start` already counted in
/// `metric`, under a fresh id.
fn forged_tally(device: &Device, site: Uuid, metric: &str, start: i64) -> DocEntry {
    let mut doc = sync_core::AutoCommit::new().with_actor(ActorId::random());
    doc.put(ROOT, "schema", tally::SCHEMA).expect("put");
    doc.put(ROOT, "dataset", device.engine.dataset().to_string())
        .expect("put");
    doc.put(ROOT, "site", site.to_string()).expect("put");
    let counts = doc
        .put_object(ROOT, "tallies", automerge::ObjType::Map)
        .expect("map");
    doc.put(&counts, metric, ScalarValue::counter(start))
        .expect("put");
    doc.commit();
    let changes = doc
        .get_changes(&[])
        .into_iter()
        .map(|mut c| c.bytes().into_owned())
        .collect();
    DocEntry::new(Uuid::new_v4(), DocKind::Tally, &doc.get_heads(), changes)
}

fn refused(answer: &SyncResponse, id: Uuid) -> &str {
    answer
        .rejected
        .iter()
        .find(|r| r.id == id)
        .map(|r| r.code.as_str())
        .unwrap_or_else(|| panic!("{id} was not refused: {answer:?}"))
}

async fn tally_documents_are_their_devices_and_count_for_a_site_of_their_dataset(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (_, mut devices) = api.dataset_with_devices(&admin, "live", 2).await;
    let site = devices[0].engine.create_site("depot", "Depot").expect("site");
    for device in &mut devices {
        device.sync_fully(api).await;
    }
    devices[0].engine.bump_tally(site, "contacts", 5).expect("bump");
    devices[0].sync_fully(api).await;
    let victims = devices[0].engine.document_ids(DocKind::Tally);
    let (_, mut strangers) = api.dataset_with_devices(&admin, "live", 1).await;
    let elsewhere = strangers[0].engine.create_site("far", "Far away").expect("site");
    strangers[0].sync_fully(api).await;
    let form = devices[1].engine.document_ids(DocKind::Form)[0];
    let attacker = &mut devices[1];

    // Another device's tally document, read or written.
    let mut theirs = sync_core::load_document(
        &server
            .db
            .bytes("SELECT bytes FROM documents WHERE id = $1", victims[0])
            .await,
    )
    .expect("load");
    let heads = theirs.get_heads();
    let counts = theirs.get(ROOT, "tallies").expect("get").expect("tallies").1;
    theirs.increment(&counts, "contacts", 500).expect("increment");
    theirs.commit();
    let changes = theirs
        .get_changes(&heads)
        .into_iter()
        .map(|mut c| c.bytes().into_owned())
        .collect();
    let write = DocEntry::new(victims[0], DocKind::Tally, &theirs.get_heads(), changes);
    let read = DocEntry::new(victims[0], DocKind::Tally, &heads, Vec::new());
    let answer = attacker.send_entries(api, 3, vec![write]).await;
    assert_eq!(refused(&answer, victims[0]), "forbidden");
    let answer = attacker.send_entries(api, 3, vec![read]).await;
    assert_eq!(refused(&answer, victims[0]), "forbidden");

    // A huge count, a site of another dataset, a document that is not a site, no site at
    // all, a metric the site does not have, and a tally document over v2.
    let cases = [
        (forged_tally(attacker, site, "contacts", 1_000_000), 3, "invalid"),
        (forged_tally(attacker, site, "contacts", -1), 3, "invalid"),
        (forged_tally(attacker, elsewhere, "contacts", 1), 3, "forbidden"),
        (forged_tally(attacker, form, "contacts", 1), 3, "invalid"),
        (
            forged_tally(attacker, Uuid::new_v4(), "contacts", 1),
            3,
            "invalid",
        ),
        (forged_tally(attacker, site, "bribes", 1), 3, "invalid"),
        (forged_tally(attacker, site, "contacts", 1), 2, "invalid"),
        (forged_tally(attacker, site, "contacts", 1), 1, "invalid"),
    ];
    for (entry, protocol, code) in cases {
        let id = entry.id;
        let answer = attacker.send_entries(api, protocol, vec![entry]).await;
        assert_eq!(refused(&answer, id), code, "v{protocol}: {answer:?}");
        let stored = "SELECT COUNT(*) FROM documents WHERE id = $1";
        assert_eq!(server.db.count(stored, id).await, 0);
    }

    // A response id named as a tally document is what it is: a response.
    attacker
        .engine
        .create_response("outreach", &crate::sync_scenarios::edit(1))
        .expect("response");
    attacker.sync_fully(api).await;
    let response = attacker.engine.document_ids(DocKind::Response)[0];
    let mut disguised = forged_tally(attacker, site, "contacts", 1);
    disguised.id = response;
    let answer = attacker.send_entries(api, 3, vec![disguised]).await;
    assert_eq!(refused(&answer, response), "invalid");

    let rows = "SELECT COUNT(*) FROM device_tallies WHERE dataset = $1";
    assert_eq!(
        server.db.count(rows, attacker.engine.dataset()).await,
        5,
        "the honest document's"
    );
    assert_eq!(server.db.site_total(site, "contacts").await, 5);
    assert_eq!(server.db.site_total(elsewhere, "contacts").await, 0);
    attacker.sync_fully(api).await;
    assert_eq!(tally_of(attacker, site, "contacts"), 5);
}

/// A device's own tally document, changed later by hand: each change is checked on its own.
async fn device_tallies_are_checked_change_by_change(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (_, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let device = &mut devices[0];
    let site = device.engine.create_site("gate", "Gate").expect("site");
    let other = device.engine.create_site("yard", "Yard").expect("site");
    device.sync_fully(api).await;
    device.engine.bump_tally(site, "contacts", 3).expect("bump");
    device.sync_fully(api).await;
    let id = device.engine.document_ids(DocKind::Tally)[0];

    let edit = |device: &mut Device, change: &dyn Fn(&mut sync_core::AutoCommit)| {
        let mut doc = device.engine.document_mut(id).expect("doc").fork();
        let heads = doc.get_heads();
        change(&mut doc);
        doc.commit();
        let changes = doc
            .get_changes(&heads)
            .into_iter()
            .map(|mut c| c.bytes().into_owned())
            .collect();
        DocEntry::new(id, DocKind::Tally, &doc.get_heads(), changes)
    };
    let counts = |doc: &sync_core::AutoCommit| doc.get(ROOT, "tallies").expect("get").expect("map").1;
    let moved = edit(device, &|doc| {
        doc.put(ROOT, "site", other.to_string()).expect("put")
    });
    let huge = edit(device, &|doc| {
        doc.increment(counts(doc), "kits", 5_000).expect("increment")
    });
    let below = edit(device, &|doc| {
        doc.increment(counts(doc), "contacts", -4).expect("increment")
    });
    let note = edit(device, &|doc| {
        doc.put(ROOT, "note", "call 0812345678").expect("put")
    });
    for entry in [moved, huge, below, note] {
        let answer = device.send_entries(api, 3, vec![entry]).await;
        assert_eq!(refused(&answer, id), "invalid", "{answer:?}");
    }
    assert_eq!(server.db.site_total(site, "contacts").await, 3);
    assert_eq!(server.db.site_total(other, "contacts").await, 0);
    assert_eq!(
        server.db.places_holding(b"0812345678").await,
        Vec::<String>::new()
    );
}

async fn bad_v3_bodies_are_refused_whole_and_apply_nothing(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let device = &mut devices[0];
    device
        .engine
        .create_response("outreach", &crate::sync_scenarios::edit(1))
        .expect("response");
    let request = device.engine.build_request(1 << 20);
    assert_eq!(request.v, 3);
    let encoded: ciborium::Value =
        ciborium::de::from_reader(&sync_core::encode_request(&request)[..]).expect("cbor");
    let with = |key: &str, value: ciborium::Value| {
        let mut map = encoded.as_map().expect("map").clone();
        map.push((ciborium::Value::Text(key.into()), value));
        let mut out = Vec::new();
        ciborium::ser::into_writer(&ciborium::Value::Map(map), &mut out).expect("encode");
        out
    };
    let site_totals = ciborium::Value::Array(vec![ciborium::Value::Map(vec![
        (
            ciborium::Value::Text("site".into()),
            ciborium::Value::Text(Uuid::new_v4().to_string()),
        ),
        (
            ciborium::Value::Text("tallies".into()),
            ciborium::Value::Map(vec![(
                ciborium::Value::Text("contacts".into()),
                ciborium::Value::Integer(1_000_000.into()),
            )]),
        ),
    ])]);
    let mut kinds = encoded.as_map().expect("map").clone();
    for (key, value) in &mut kinds {
        if key.as_text() == Some("docs") {
            for entry in value.as_array_mut().expect("docs") {
                for (k, v) in entry.as_map_mut().expect("entry") {
                    if k.as_text() == Some("kind") {
                        *v = ciborium::Value::Text("tallies".into());
                    }
                }
            }
        }
    }
    let mut unknown_kind = Vec::new();
    ciborium::ser::into_writer(&ciborium::Value::Map(kinds), &mut unknown_kind).expect("encode");
    for body in [
        with("totals", site_totals),
        with("totals", ciborium::Value::Text("all of them".into())),
        with("totals", ciborium::Value::Null),
        with("totals_seen", ciborium::Value::Bytes(vec![0; 15])),
        with("totals_seen", ciborium::Value::Bytes(vec![0; 1 << 16])),
        with("totals_seen", ciborium::Value::Text("0".repeat(16))),
        unknown_kind,
    ] {
        let reply = api
            .send(
                Method::POST,
                "/v3/sync",
                Some(&device.token),
                Some("application/cbor"),
                body,
            )
            .await
            .expect("transport");
        assert_eq!(reply.status, 400, "{}", reply.text());
        assert_eq!(reply.error_code(), "malformed");
    }
    // A v3 body posted to /v2/sync, and the other way round.
    let v3 = sync_core::encode_request(&request);
    let reply = api
        .send(
            Method::POST,
            "/v2/sync",
            Some(&device.token),
            Some("application/cbor"),
            v3,
        )
        .await
        .expect("transport");
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (400, "unsupported_version")
    );
    let responses = "SELECT COUNT(*) FROM responses WHERE dataset = $1";
    assert_eq!(server.db.count(responses, dataset).await, 0, "nothing applied");
    device.sync_fully(api).await;
    assert_eq!(server.db.count(responses, dataset).await, 1);
}

async fn a_reset_forgets_the_device_tallies(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "demo", 1).await;
    let site = devices[0].engine.create_site("park", "Park").expect("site");
    devices[0].sync_fully(api).await;
    devices[0].engine.bump_tally(site, "contacts", 7).expect("bump");
    devices[0].sync_fully(api).await;
    assert_eq!(server.db.site_total(site, "contacts").await, 7);

    let trainer = api.token(&admin, "trainer", Some(dataset)).await;
    let reset = api
        .post_json(
            &format!("/v1/datasets/{dataset}/reset"),
            Some(&trainer),
            &serde_json::json!({ "seed": 1, "responses": 0 }),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.text());
    let counted = "SELECT COUNT(*) FROM device_tallies WHERE dataset = $1";
    assert_eq!(server.db.count(counted, dataset).await, 0);
    let sums = "SELECT COUNT(*) FROM site_totals WHERE dataset = $1";
    assert_eq!(server.db.count(sums, dataset).await, 0);
    devices[0].sync_fully(api).await;
    assert!(devices[0].engine.document_ids(DocKind::Tally).is_empty());
    let totals = survey_server::site_totals::site_totals(server.state.storage.as_ref(), dataset)
        .await
        .expect("totals");
    for (id, view) in devices[0].engine.sites() {
        let counted = totals
            .iter()
            .find(|t| t.document == id)
            .expect("the reset's site");
        assert_eq!(view.tallies, counted.tallies, "{}", view.site);
    }
}

/// `device`'s next request, naming `seen` as the totals it holds, posted by hand; the answer,
/// which the engine does not take in.
async fn sync_naming(api: &crate::support::Api, device: &mut Device, seen: Option<[u8; 16]>) -> SyncResponse {
    let mut request = device.engine.build_request(1 << 20);
    request.totals_seen = seen.map(serde_bytes::ByteArray::new);
    let reply = api
        .send(
            Method::POST,
            "/v3/sync",
            Some(&device.token),
            Some("application/cbor"),
            sync_core::encode_request(&request),
        )
        .await
        .expect("transport");
    assert_eq!(reply.status, 200, "{}", reply.text());
    sync_core::decode_response(&reply.body, &sync_core::Limits::default()).expect("answer")
}

fn seen(device: &mut Device) -> Option<[u8; 16]> {
    let request = device.engine.build_request(1 << 20);
    request.totals_seen.map(|digest| digest.into_array())
}

async fn totals_are_sent_again_only_once_they_moved(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (_, mut devices) = api.dataset_with_devices(&admin, "live", 2).await;
    let site = devices[0].engine.create_site("ferry", "Ferry").expect("site");
    for device in &mut devices {
        device.sync_fully(api).await;
    }
    let answer = devices[1].sync_once(api).await;
    assert_eq!(answer.totals, None, "nothing moved: nothing sent");
    assert_eq!(tally_of(&devices[1], site, "contacts"), 0);

    // Both phones hold the same numbers, but a digest names them for one device only.
    let first = seen(&mut devices[0]).expect("device 0 holds totals");
    let second = seen(&mut devices[1]).expect("device 1 holds totals");
    assert_ne!(first, second);
    let answer = sync_naming(api, &mut devices[1], Some(first)).await;
    assert!(
        answer.totals.is_some(),
        "another device's digest costs bytes only"
    );
    for forged in [None, Some([0; 16]), Some([0xff; 16])] {
        let answer = sync_naming(api, &mut devices[1], forged).await;
        let totals = answer
            .totals
            .expect("a digest the server never gave: totals whole");
        assert_eq!(totals.sites[0].tallies["contacts"], 0);
        assert_eq!(totals.digest, second);
    }

    // Another phone counts: the totals come again, once.
    devices[0].engine.bump_tally(site, "contacts", 3).expect("bump");
    devices[0].sync_fully(api).await;
    let answer = devices[1].sync_once(api).await;
    let totals = answer.totals.expect("moved");
    assert_eq!(totals.sites[0].tallies["contacts"], 3);
    assert_eq!(devices[1].sync_once(api).await.totals, None);
    assert_eq!(tally_of(&devices[1], site, "contacts"), 3);

    // The phone's own counting does not move what it is sent, which leaves its own out.
    devices[1].engine.bump_tally(site, "contacts", 2).expect("bump");
    let answer = devices[1].sync_once(api).await;
    assert_eq!(answer.totals, None);
    assert_eq!(tally_of(&devices[1], site, "contacts"), 5);

    // The digest it held before is stale now for the other phone: it gets the new totals.
    let answer = sync_naming(api, &mut devices[0], Some(first)).await;
    assert_eq!(answer.totals.expect("stale").sites[0].tallies["contacts"], 2);
    devices[0].sync_fully(api).await;
    assert_eq!(tally_of(&devices[0], site, "contacts"), 5);
}
