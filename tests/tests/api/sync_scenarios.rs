//! Multi-device offline scenarios through the sync-core engine.

use survey_server::SyncSettings;
use sync_core::{Answer, Day, DocEntry, DocKind, ResponseEdit, decode_response, encode_request};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Backend, Device, TestServer};

on_both_backends!(
    three_offline_devices_converge_and_counters_add_up,
    replaying_a_raw_request_changes_nothing,
    missing_dependencies_are_recovered_with_need_all,
    a_stale_epoch_resets_the_device,
    a_write_checked_before_a_reset_is_not_stored,
    a_batch_stores_all_but_stale_documents_and_nothing_with_a_linked_actor,
    requests_committed_together_are_refused_alone,
    writes_building_on_each_other_in_one_group_store_the_last,
    unmentioned_documents_are_paged_with_more,
    a_site_with_many_heads_syncs,
    a_read_while_a_site_write_is_in_flight_sees_only_what_is_stored,
    a_read_catches_up_with_a_commit_the_loaded_copy_missed,
);

pub fn edit(seed: i64) -> ResponseEdit {
    ResponseEdit {
        area: Some(if seed % 2 == 0 { "north" } else { "south" }.into()),
        collected_on: Some(Day::parse("2026-11-20").expect("day")),
        answers: vec![
            (
                "gender".into(),
                Answer::Single(["f", "m", "x"][(seed % 3) as usize].into()),
            ),
            ("s1".into(), Answer::Likert(seed % 5 + 1)),
            ("help".into(), Answer::Multi(vec!["ngo".into(), "clinic".into()])),
            ("contacts".into(), Answer::Integer(seed % 50)),
            ("notes".into(), Answer::Text(format!("gave {seed} kits"))),
        ],
        cleared: Vec::new(),
        submit: true,
    }
}

fn tally(device: &Device, site: Uuid, metric: &str) -> i64 {
    let sites = device.engine.sites();
    let (_, view) = sites
        .iter()
        .find(|(id, _)| *id == site)
        .expect("device has the site");
    view.tallies.get(metric).copied().unwrap_or(0)
}

/// Three phones, one of each protocol: 1 and 2 bump the shared site, 3 its own tally document;
/// each sees every other's bumps, and so do the analysts.
async fn three_offline_devices_converge_and_counters_add_up(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 3).await;
    for (device, protocol) in devices.iter_mut().zip([1, 2]) {
        device.engine.set_protocol(protocol).expect("protocol");
    }

    let site = devices[0]
        .engine
        .create_site("market", "Central market")
        .expect("site");
    devices[0].sync_fully(api).await;
    for device in &mut devices[1..] {
        device.sync_fully(api).await;
        assert_eq!(tally(device, site, "contacts"), 0);
    }

    // Offline: every device bumps the shared tallies and collects responses.
    for (i, device) in devices.iter_mut().enumerate() {
        for _ in 0..(3 + 2 * i) {
            device.engine.bump_tally(site, "contacts", 1).expect("bump");
        }
        device.engine.bump_tally(site, "kits", 2).expect("bump");
        for seed in 0..2 {
            device
                .engine
                .create_response("outreach", &edit(seed + i as i64))
                .expect("response");
        }
    }
    for _ in 0..2 {
        for device in &mut devices {
            device.sync_fully(api).await;
        }
    }

    for device in &mut devices {
        assert_eq!(tally(device, site, "contacts"), 3 + 5 + 7);
        assert_eq!(tally(device, site, "kits"), 6);
        // A device never receives another device's responses.
        assert_eq!(device.engine.document_ids(DocKind::Response).len(), 2);
        assert!(
            device.engine.rejections().is_empty(),
            "{:?}",
            device.engine.rejections()
        );
    }
    let db = &server.db;
    assert_eq!(db.site_total(site, "contacts").await, 15);
    assert_eq!(db.site_total(site, "kits").await, 6);
    let tally_documents = "SELECT COUNT(*) FROM documents WHERE dataset = $1 AND kind = 'tally'";
    assert_eq!(
        db.count(tally_documents, dataset).await,
        1,
        "the protocol 3 phone's"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM responses WHERE dataset = $1", dataset)
            .await,
        6
    );
    let multi = "SELECT COUNT(*) FROM answers WHERE dataset = $1 AND question = 'help'";
    assert_eq!(db.count(multi, dataset).await, 12, "one row per selected option");
    let text = "SELECT COUNT(*) FROM answers WHERE dataset = $1 AND question = 'notes'";
    assert_eq!(
        db.count(text, dataset).await,
        0,
        "free text is never materialized"
    );
    let week =
        "SELECT COUNT(*) FROM responses WHERE dataset = $1 AND week = '2026-W47' AND month = '2026-11'";
    assert_eq!(db.count(week, dataset).await, 6);
}

async fn replaying_a_raw_request_changes_nothing(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let device = &mut devices[0];
    let site = device.engine.create_site("port", "Harbour").expect("site");
    device.engine.bump_tally(site, "contacts", 4).expect("bump");
    let response = device
        .engine
        .create_response("outreach", &edit(1))
        .expect("response");

    // Raw bodies go to /v1/sync, the contract's first version (devices speak v2 by default).
    device.engine.set_protocol(1).expect("v1");
    let raw = encode_request(&device.engine.build_request(1 << 20));
    let db = &server.db;
    let version = "SELECT version FROM documents WHERE id = $1";
    let first = api.post_sync(Some(&device.token), raw.clone()).await;
    let stored = (db.count(version, site).await, db.count(version, response).await);
    let second = api.post_sync(Some(&device.token), raw).await;
    assert_eq!((first.status, second.status), (200, 200));
    let limits = sync_core::Limits::default();
    let first = decode_response(&first.body, &limits).expect("first answer");
    let second = decode_response(&second.body, &limits).expect("second answer");
    assert!(first.rejected.is_empty() && second.rejected.is_empty());
    let heads = |answer: &sync_core::SyncResponse, id: Uuid| {
        answer
            .docs
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.heads.clone())
            .expect("doc answered")
    };
    assert_eq!(heads(&first, site), heads(&second, site));
    assert_eq!(heads(&first, response), heads(&second, response));

    assert_eq!(
        (db.count(version, site).await, db.count(version, response).await),
        stored,
        "replay wrote nothing"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM responses WHERE dataset = $1", dataset)
            .await,
        1
    );
    let total = "SELECT total FROM site_tallies WHERE document = $1 AND metric = 'contacts'";
    assert_eq!(db.count(total, site).await, 4);

    device.engine.apply_response(&second).expect("apply");
    device.sync_fully(api).await;
    assert_eq!(tally(device, site, "contacts"), 4);
}

async fn missing_dependencies_are_recovered_with_need_all(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (_, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    let device = &mut devices[0];
    let response = device
        .engine
        .create_response("outreach", &edit(2))
        .expect("response");
    let mut second = edit(3);
    second.answers.truncate(1);
    device.engine.edit_response(response, &second).expect("edit");

    // Send only the second change: it depends on one the server never saw (over v1).
    device.engine.set_protocol(1).expect("v1");
    let mut request = device.engine.build_request(1 << 20);
    let entry = request.docs.iter_mut().find(|d| d.id == response).expect("entry");
    assert_eq!(entry.changes.len(), 2);
    entry.changes.remove(0);
    // And a read of a document the server does not have.
    let unknown = Uuid::new_v4();
    request.docs.push(DocEntry::new(
        unknown,
        DocKind::Site,
        &[sync_core::ChangeHash([7; 32])],
        Vec::new(),
    ));
    let reply = api.post_sync(Some(&device.token), encode_request(&request)).await;
    assert_eq!(reply.status, 200);
    let answer = decode_response(&reply.body, &sync_core::Limits::default()).expect("answer");
    assert!(answer.need_all.contains(&response), "{answer:?}");
    assert!(answer.need_all.contains(&unknown));
    assert!(answer.rejected.is_empty());
    assert_eq!(
        server
            .db
            .count("SELECT COUNT(*) FROM documents WHERE id = $1", response)
            .await,
        0
    );

    device.engine.apply_response(&answer).expect("apply");
    device.sync_fully(api).await;
    assert_eq!(
        server
            .db
            .count("SELECT COUNT(*) FROM responses WHERE document = $1", response)
            .await,
        1
    );
    assert_eq!(device.engine.pending_count(), 0);
}

async fn a_stale_epoch_resets_the_device(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "demo", 1).await;
    let trainer = api.token(&admin, "trainer", Some(dataset)).await;
    let device = &mut devices[0];
    device
        .engine
        .create_response("outreach", &edit(1))
        .expect("response");
    let park = device.engine.create_site("park", "Park").expect("site");
    device.sync_fully(api).await;
    let responses = "SELECT COUNT(*) FROM responses WHERE dataset = $1";
    assert_eq!(server.db.count(responses, dataset).await, 1);

    let reset = api
        .post_json(
            &format!("/v1/datasets/{dataset}/reset"),
            Some(&trainer),
            &serde_json::json!({ "seed": 1, "responses": 0 }),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.text());
    assert_eq!(reset.json()["epoch"], 2);
    assert_eq!(server.db.count(responses, dataset).await, 0);

    // Offline work made before the device learned of the reset must not come back.
    device
        .engine
        .create_response("outreach", &edit(2))
        .expect("stale response");
    let answer = device.sync_once(api).await;
    assert!(answer.reset);
    assert_eq!(answer.epoch, 2);
    assert!(answer.docs.is_empty());
    assert_eq!(
        server.db.count(responses, dataset).await,
        0,
        "nothing applied on a stale epoch"
    );
    device.sync_fully(api).await;
    assert_eq!(device.engine.epoch(), 2);
    assert!(device.engine.document_ids(DocKind::Response).is_empty());
    // The reset may seed site documents of its own; the device's old one is gone.
    assert!(!device.engine.document_ids(DocKind::Site).contains(&park));
    assert_eq!(device.engine.forms().len(), 1, "forms survive a reset");
    assert_eq!(server.db.count(responses, dataset).await, 0);
}

async fn unmentioned_documents_are_paged_with_more(backend: Backend) {
    let settings = SyncSettings {
        reply_budget_bytes: 1,
        ..SyncSettings::default()
    };
    let server = TestServer::start_with(&backend, settings).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 1).await;
    for i in 0..4 {
        devices[0]
            .engine
            .create_site(&format!("site-{i}"), "A site")
            .expect("site");
    }
    devices[0].sync_fully(api).await;

    let code = api.enrollment_code(&admin, dataset, 1).await;
    let mut late = Device::enroll(api, &code).await;
    let first = late.sync_once(api).await;
    assert!(first.more, "five shared documents do not fit a one-byte budget");
    assert_eq!(first.docs.len(), 1);
    let mut rounds = 1;
    while late.engine.needs_sync() {
        late.sync_once(api).await;
        rounds += 1;
        assert!(rounds < 20);
    }
    assert!(rounds >= 5);
    assert_eq!(late.engine.sites().len(), 4);
    assert_eq!(late.engine.forms().len(), 1);
}

/// The race a reset can lose without the in-transaction epoch check: a sync checked epoch 1,
/// then a trainer reset the dataset, then the sync's write arrives. Played here against the
/// storage directly, since the interleaving cannot be forced over HTTP.
async fn a_write_checked_before_a_reset_is_not_stored(backend: Backend) {
    use survey_server::storage::BatchOutcome;

    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, _) = api.dataset_with_devices(&admin, "demo", 1).await;
    let reset = api
        .post_json(
            &format!("/v1/datasets/{dataset}/reset"),
            Some(&admin),
            &serde_json::json!({ "seed": 1, "responses": 0 }),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.text());
    let write = site_write(dataset, "late", None);
    let storage = &server.state.storage;
    assert_eq!(
        storage
            .save_documents(std::slice::from_ref(&write), 1)
            .await
            .expect("save"),
        BatchOutcome::EpochMoved
    );
    let stored = "SELECT COUNT(*) FROM documents WHERE id = $1";
    assert_eq!(server.db.count(stored, write.id).await, 0);
    assert_eq!(
        storage
            .save_documents(std::slice::from_ref(&write), 2)
            .await
            .expect("save"),
        BatchOutcome::Saved { stale: vec![false] }
    );
    assert_eq!(server.db.count(stored, write.id).await, 1);
}

/// A new site document's write, as the sync endpoint prepares it.
pub fn site_write(
    dataset: Uuid,
    site: &str,
    actor: Option<Vec<u8>>,
) -> survey_server::storage::DocumentWrite {
    use survey_server::storage::{DocumentWrite, Materialized, SiteRow, TallyDays};
    let mut doc =
        sync_core::site::create(dataset, site, "A site", sync_core::site::DEFAULT_METRICS).expect("site");
    DocumentWrite {
        id: Uuid::new_v4(),
        dataset,
        kind: DocKind::Site,
        owner: None,
        base_version: None,
        version: 1,
        heads: Vec::new(),
        bytes: doc.save(),
        actors: actor.into_iter().collect(),
        record_key: None,
        rows: Materialized::Site(SiteRow {
            site: site.into(),
            tallies: vec![("contacts".into(), 3)],
            folded: None,
            counted: TallyDays::GrowthOn(sync_core::Day::from_days(20_600)),
        }),
        conflicts: Vec::new(),
    }
}

/// One sync request's documents are stored in one transaction: a document someone else stored
/// first is left out (the endpoint merges it again), the rest commit; a document reusing
/// another document's actor stops the whole batch, so nothing of it is half-written.
async fn a_batch_stores_all_but_stale_documents_and_nothing_with_a_linked_actor(backend: Backend) {
    use survey_server::storage::BatchOutcome;

    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let (dataset, _) = server.api.dataset_with_devices(&admin, "live", 1).await;
    let storage = &server.state.storage;
    let tallies = "SELECT COUNT(*) FROM site_tallies WHERE document = $1";

    let taken = site_write(dataset, "taken", Some(vec![1; 16]));
    assert_eq!(
        storage
            .save_documents(std::slice::from_ref(&taken), 1)
            .await
            .expect("save"),
        BatchOutcome::Saved { stale: vec![false] }
    );
    // Written again as new (another request created it first) and as an outdated version.
    let mut outdated = taken.clone();
    outdated.base_version = Some(0);
    let batch = vec![
        site_write(dataset, "a", Some(vec![2; 16])),
        taken.clone(),
        outdated,
        site_write(dataset, "b", Some(vec![3; 16])),
    ];
    assert_eq!(
        storage.save_documents(&batch, 1).await.expect("save"),
        BatchOutcome::Saved {
            stale: vec![false, true, true, false]
        }
    );
    for write in [&batch[0], &batch[3]] {
        assert_eq!(server.db.count(tallies, write.id).await, 1);
    }
    assert_eq!(
        server.db.count(tallies, taken.id).await,
        1,
        "the stale writes added nothing"
    );

    // A second document with an actor already stored, and two documents of one batch with
    // one actor: the second is the culprit each time, and nothing of the batch is written.
    let fresh = site_write(dataset, "c", Some(vec![4; 16]));
    let linked = site_write(dataset, "d", Some(vec![1; 16]));
    let first = site_write(dataset, "e", Some(vec![5; 16]));
    let twin = site_write(dataset, "f", Some(vec![5; 16]));
    for batch in [[fresh.clone(), linked], [first, twin]] {
        assert_eq!(
            storage.save_documents(&batch, 1).await.expect("save"),
            BatchOutcome::LinkedActor(1)
        );
        for write in &batch {
            let stored = "SELECT COUNT(*) FROM documents WHERE id = $1";
            assert_eq!(server.db.count(stored, write.id).await, 0);
        }
    }
    assert_eq!(
        server
            .db
            .count("SELECT COUNT(*) FROM doc_actors WHERE document = $1", fresh.id)
            .await,
        0
    );
}

/// The SQLite writer leaves checkpoints (copying the write-ahead log into the database file)
/// to a background task, off the path every sync waits on; without that task the log would
/// grow for as long as the server runs and the database file would never see the data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writes_reach_the_database_file_through_background_checkpoints() {
    let server = TestServer::start(&Backend::Sqlite).await;
    let admin = server.admin_token().await;
    let (dataset, _) = server.api.dataset_with_devices(&admin, "live", 1).await;
    let file = server
        .db
        .url
        .strip_prefix("sqlite://")
        .expect("a SQLite URL")
        .to_owned();
    let size = || std::fs::metadata(&file).expect("database file").len();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let before = size();
    let writes: Vec<_> = (0..400)
        .map(|i| {
            site_write(
                dataset,
                &format!("site-{i}"),
                Some(Uuid::new_v4().as_bytes().to_vec()),
            )
        })
        .collect();
    server
        .state
        .storage
        .save_documents(&writes, 1)
        .await
        .expect("save");
    let mut grown = false;
    for _ in 0..100 {
        if size() > before + 100_000 {
            grown = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(grown, "the database file stayed at {} bytes", size());
}

/// Group commit stores several requests in one transaction: a request refused for a linked
/// actor or a moved epoch writes nothing (not even the actors it would have claimed), and the
/// requests around it still commit.
async fn requests_committed_together_are_refused_alone(backend: Backend) {
    use survey_server::storage::{BatchOutcome, WriteBatch};

    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let (dataset, _) = server.api.dataset_with_devices(&admin, "live", 1).await;
    let storage = &server.state.storage;
    let taken = site_write(dataset, "taken", Some(vec![1; 16]));
    storage
        .save_documents(std::slice::from_ref(&taken), 1)
        .await
        .expect("save");

    let first = [site_write(dataset, "a", Some(vec![2; 16]))];
    let linked = [
        site_write(dataset, "b", Some(vec![3; 16])),
        site_write(dataset, "c", Some(vec![1; 16])),
    ];
    let late = [site_write(dataset, "d", Some(vec![4; 16]))];
    let last = [site_write(dataset, "e", Some(vec![5; 16]))];
    let batches = [(&first[..], 1), (&linked[..], 1), (&late[..], 2), (&last[..], 1)]
        .map(|(writes, epoch)| WriteBatch { writes, epoch });
    let outcomes = storage.save_batches(&batches).await.expect("save");
    assert_eq!(
        outcomes,
        vec![
            BatchOutcome::Saved { stale: vec![false] },
            BatchOutcome::LinkedActor(1),
            BatchOutcome::EpochMoved,
            BatchOutcome::Saved { stale: vec![false] },
        ]
    );
    let stored = "SELECT COUNT(*) FROM documents WHERE id = $1";
    for (write, count) in [
        (&first[0], 1),
        (&linked[0], 0),
        (&linked[1], 0),
        (&late[0], 0),
        (&last[0], 1),
    ] {
        assert_eq!(server.db.count(stored, write.id).await, count);
    }
    let claimed = "SELECT COUNT(*) FROM doc_actors WHERE document = $1";
    assert_eq!(server.db.count(claimed, linked[0].id).await, 0, "rolled back");
}

/// Requests committed together that write one site one after the other (each on the state
/// the one before left) store the site once, as the last of them left it, with every
/// request's actors; a write naming any other version is stale, and so is a whole chain whose
/// first write's base moved.
async fn writes_building_on_each_other_in_one_group_store_the_last(backend: Backend) {
    use survey_server::storage::{BatchOutcome, Materialized, SiteRow, WriteBatch};

    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let (dataset, _) = server.api.dataset_with_devices(&admin, "live", 1).await;
    let storage = &server.state.storage;
    let next = |write: &survey_server::storage::DocumentWrite, actor: u8, contacts: i64| {
        let mut next = write.clone();
        next.base_version = Some(write.version);
        next.version = write.version + 1;
        next.bytes.push(actor);
        next.actors = vec![vec![actor; 16]];
        next.rows = Materialized::Site(SiteRow {
            site: "busy".into(),
            tallies: vec![("contacts".into(), contacts)],
            folded: None,
            counted: survey_server::storage::TallyDays::GrowthOn(sync_core::Day::from_days(20_600)),
        });
        next
    };
    let created = site_write(dataset, "busy", Some(vec![10; 16]));
    let bumped = next(&created, 11, 5);
    let bumped_again = next(&bumped, 12, 9);
    let behind = next(&created, 13, 4);
    let moved = site_write(dataset, "moved", Some(vec![20; 16]));
    storage
        .save_documents(std::slice::from_ref(&moved), 1)
        .await
        .expect("save");
    let mut outdated = next(&moved, 21, 1);
    outdated.base_version = Some(99);
    let on_outdated = next(&outdated, 22, 2);

    let batches = [
        vec![created.clone()],
        vec![bumped.clone(), outdated],
        vec![behind, on_outdated],
        vec![bumped_again.clone()],
    ];
    let batches = batches.each_ref().map(|writes| WriteBatch { writes, epoch: 1 });
    assert_eq!(
        storage.save_batches(&batches).await.expect("save"),
        vec![
            BatchOutcome::Saved { stale: vec![false] },
            BatchOutcome::Saved {
                stale: vec![false, true]
            },
            BatchOutcome::Saved {
                stale: vec![true, true]
            },
            BatchOutcome::Saved { stale: vec![false] },
        ]
    );
    let db = &server.db;
    let version = "SELECT version FROM documents WHERE id = $1";
    assert_eq!(db.count(version, created.id).await, bumped_again.version);
    let bytes = "SELECT bytes FROM documents WHERE id = $1";
    assert_eq!(db.bytes(bytes, created.id).await, bumped_again.bytes);
    let total = "SELECT total FROM site_tallies WHERE document = $1";
    assert_eq!(db.count(total, created.id).await, 9);
    let rows = "SELECT COUNT(*) FROM site_tallies WHERE document = $1";
    assert_eq!(db.count(rows, created.id).await, 1);
    let actors = "SELECT COUNT(*) FROM doc_actors WHERE document = $1";
    assert_eq!(db.count(actors, created.id).await, 3, "10, 11 and 12, not 13");
    assert_eq!(
        db.count(version, moved.id).await,
        moved.version,
        "the moved chain wrote nothing"
    );
    assert_eq!(db.count(actors, moved.id).await, 1);
}

/// A site bumped concurrently by many phones has one head per phone; 70 of them (more than the
/// 64 an earlier limit allowed) must not make the request (or the answer) unreadable.
async fn a_site_with_many_heads_syncs(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (_, mut devices) = api.dataset_with_devices(&admin, "live", 2).await;
    let site = devices[0].engine.create_site("stadium", "Stadium").expect("site");
    devices[0].sync_fully(api).await;
    devices[1].sync_fully(api).await;
    // 70 concurrent increments, as if from 70 phones (each fork has its own actor).
    let doc = devices[0].engine.document_mut(site).expect("site doc");
    let mut forks: Vec<_> = (0..70).map(|_| doc.fork()).collect();
    for fork in &mut forks {
        sync_core::site::increment(fork, "contacts", 1).expect("bump");
    }
    for fork in &mut forks {
        doc.merge(fork).expect("merge");
    }
    assert_eq!(doc.get_heads().len(), 70);
    devices[0].sync_fully(api).await;
    devices[1].sync_fully(api).await;
    assert!(devices[0].engine.rejections().is_empty());
    assert_eq!(tally(&devices[1], site, "contacts"), 70);
    let total = "SELECT total FROM site_tallies WHERE document = $1 AND metric = 'contacts'";
    assert_eq!(server.db.count(total, site).await, 70);
}

/// A busy site's loaded copy goes back to the cache before its write commits. A read in that
/// window is answered from what the database holds, not from the copy; a write merged onto
/// the copy is caught by the version guard if the in-flight write never lands. The window is
/// made here by hand: a change merged into the cached copy with a version no write stores.
/// (Protocol 2: a protocol 3 phone neither bumps nor reads the site's changes.)
async fn a_read_while_a_site_write_is_in_flight_sees_only_what_is_stored(backend: Backend) {
    use survey_server::sync::hot_sites::{Snapshot, Stored};

    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (_, mut devices) = api.dataset_with_devices_speaking(&admin, "live", 3, 2).await;
    let site = devices[0].engine.create_site("port", "Harbour").expect("site");
    for device in &mut devices {
        device.sync_fully(api).await;
    }
    devices[0].engine.bump_tally(site, "contacts", 2).expect("bump");
    devices[0].sync_fully(api).await;

    // Device 1's bump, merged into the cached copy as if its write were in flight.
    devices[1].engine.bump_tally(site, "contacts", 100).expect("bump");
    let request = devices[1].engine.build_request(1 << 20);
    let phantom = &request.docs.iter().find(|d| d.id == site).expect("site").changes;
    let hot = &server.state.hot_sites;
    let mut copy = hot.take(site, 1).expect("the site is loaded");
    assert!(matches!(copy.stored, Stored::Latest));
    let loaded = std::mem::replace(
        &mut copy.doc,
        sync_core::LoadedDocument::new(sync_core::AutoCommit::new()),
    );
    let sync_core::MergeOutcome::Merged(mut merged) = sync_core::merge_into(loaded, phantom).expect("merge")
    else {
        panic!("complete")
    };
    let in_flight = Snapshot {
        version: i64::MIN,
        heads: merged.heads(),
        saved: merged.save().into(),
    };
    copy.doc = merged.into_loaded();
    copy.stored = Stored::Latest.after_writing(Some(std::mem::replace(&mut copy.latest, in_flight)));
    hot.put(site, copy);

    let total = "SELECT total FROM site_tallies WHERE document = $1 AND metric = 'contacts'";
    let reader = &mut devices[2];
    let answer = reader.sync_once(api).await;
    assert!(answer.docs.iter().any(|d| d.id == site));
    assert_eq!(
        tally(reader, site, "contacts"),
        2,
        "the read saw only what is stored"
    );

    // A bump merged onto the copy names the phantom version: caught, merged again, stored.
    reader.engine.bump_tally(site, "contacts", 5).expect("bump");
    reader.sync_fully(api).await;
    assert_eq!(server.db.count(total, site).await, 7);
    assert_eq!(tally(reader, site, "contacts"), 7);

    devices[1].sync_fully(api).await;
    assert_eq!(server.db.count(total, site).await, 107);
    for device in &mut devices {
        device.sync_fully(api).await;
        assert_eq!(tally(device, site, "contacts"), 107);
    }
}

/// A loaded copy taken out of the cache (by a merge or a read) misses the notice that its
/// write committed, and would go on answering reads from the state before. A read checks the
/// stored version and catches up. Made here by hand: the copy is told its latest write is still
/// in flight, on top of the site's first state. (Protocol 2, as above.)
async fn a_read_catches_up_with_a_commit_the_loaded_copy_missed(backend: Backend) {
    use survey_server::sync::hot_sites::{Snapshot, Stored};

    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (_, mut devices) = api.dataset_with_devices_speaking(&admin, "live", 2, 2).await;
    let site = devices[0].engine.create_site("port", "Harbour").expect("site");
    for device in &mut devices {
        device.sync_fully(api).await;
    }
    let first = devices[1].engine.document_mut(site).expect("site");
    let mut first_heads = first.get_heads();
    first_heads.sort();
    let first = Snapshot {
        version: i64::MIN,
        heads: first_heads,
        saved: first.save().into(),
    };
    devices[0].engine.bump_tally(site, "contacts", 3).expect("bump");
    devices[0].sync_fully(api).await;

    let hot = &server.state.hot_sites;
    let mut copy = hot.take(site, 1).expect("the site is loaded");
    assert!(matches!(copy.stored, Stored::Latest));
    copy.stored = Stored::Latest.after_writing(Some(first));
    hot.put(site, copy);
    devices[1].sync_fully(api).await;
    assert_eq!(
        tally(&devices[1], site, "contacts"),
        3,
        "the read saw the committed bump"
    );
    let copy = hot.take(site, 1).expect("still loaded");
    assert!(
        matches!(copy.stored, Stored::Latest),
        "and the copy knows it is stored"
    );
}
