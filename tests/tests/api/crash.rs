//! Crash safety: the server binary is SIGKILLed at random moments while devices sync; every
//! acknowledged change must be there after a restart, nothing twice. Two devices speak protocol
//! 3 (tally documents, summed by the server) and one protocol 2 (bumping the shared site, to
//! which the server adds the others' tallies), so the sums and what the server added to the
//! site must survive the kills too.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sync_core::{ChangeHash, DocKind, Form, check_document, load_document};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::process::{ServerProcess, run};
use crate::support::{Api, Backend, Device, Rng, TestDb};
use crate::sync_scenarios::edit;

on_both_backends!(acknowledged_documents_survive_sigkill);

const KILLS: usize = 20;

/// What a device did and what the server acknowledged to it.
#[derive(Default)]
struct Ledger {
    responses_created: usize,
    bumps: i64,
    acknowledged: HashMap<Uuid, Vec<ChangeHash>>,
}

async fn keep_syncing(
    mut device: Device,
    api: Api,
    site: Uuid,
    stop: Arc<AtomicBool>,
    mut ledger: Ledger,
    seed: u64,
) -> (Device, Ledger) {
    let mut n = seed;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        if n.is_multiple_of(2) {
            device
                .engine
                .create_response("outreach", &edit(n as i64))
                .expect("response");
            ledger.responses_created += 1;
        } else {
            device.engine.bump_tally(site, "contacts", 1).expect("bump");
            ledger.bumps += 1;
        }
        match device.try_sync_once(&api).await {
            Ok(answer) => {
                for entry in &answer.docs {
                    ledger.acknowledged.insert(entry.id, entry.head_hashes());
                }
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
    (device, ledger)
}

async fn acknowledged_documents_survive_sigkill(backend: Backend) {
    let db = TestDb::create(&backend).await;
    // The command line issues the first admin token, as an operator would.
    let (ok, stdout, stderr) = run(&[
        "token",
        "create",
        "--role",
        "admin",
        "--name",
        "ops",
        "--database",
        &db.url,
    ]);
    assert!(ok, "{stderr}");
    let admin = stdout.trim().to_owned();
    assert_eq!(stdout.lines().count(), 1, "only the token on stdout");
    assert!(!stderr.contains(&admin), "the token is never logged");

    let server = ServerProcess::start(&db.url);
    let (dataset, mut devices) = server.api.dataset_with_devices(&admin, "live", 3).await;
    devices[2].engine.set_protocol(2).expect("v2");
    let site = devices[0].engine.create_site("depot", "Bus depot").expect("site");
    for device in &mut devices {
        device.sync_fully(&server.api).await;
    }
    server.kill();

    let mut rng = Rng::from_env();
    let mut ledgers: Vec<Ledger> = devices.iter().map(|_| Ledger::default()).collect();
    for round in 0..KILLS {
        let server = ServerProcess::start(&db.url);
        let stop = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = devices
            .drain(..)
            .zip(ledgers.drain(..))
            .enumerate()
            .map(|(i, (device, ledger))| {
                tokio::spawn(keep_syncing(
                    device,
                    server.api.clone(),
                    site,
                    stop.clone(),
                    ledger,
                    (round * 1000 + i * 100) as u64,
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20 + rng.below(250))).await;
        server.kill();
        stop.store(true, Ordering::SeqCst);
        for task in tasks {
            let (device, ledger) = task.await.expect("device task");
            devices.push(device);
            ledgers.push(ledger);
        }
    }

    // Every acknowledged change is stored and the document loads.
    let stored: HashMap<Uuid, Vec<u8>> = db.documents().await.into_iter().collect();
    let form = Form::from_json(crate::support::FORM_JSON).expect("form");
    let mut checked = 0;
    for ledger in &ledgers {
        for (id, heads) in &ledger.acknowledged {
            let bytes = stored
                .get(id)
                .unwrap_or_else(|| panic!("acknowledged document {id} is missing"));
            let mut doc = load_document(bytes).expect("stored document loads");
            for head in heads {
                assert!(
                    doc.get_change_by_hash(head).is_some(),
                    "acknowledged change of {id} is missing"
                );
            }
            // Intact: the stored document passes every check a fresh upload would.
            if let Err(err) = check_document(&mut doc, Some(&form)) {
                panic!("stored document {id} no longer validates: {err}");
            }
            checked += 1;
        }
    }
    assert!(checked > 3, "the devices got acknowledgements ({checked})");

    // Once everyone has synced on a healthy server, nothing is lost and nothing counted twice.
    let server = ServerProcess::start(&db.url);
    for _ in 0..2 {
        for device in &mut devices {
            device.sync_fully(&server.api).await;
            assert!(
                device.engine.rejections().is_empty(),
                "{:?}",
                device.engine.rejections()
            );
        }
    }
    let status = server.terminate();
    assert!(status.success(), "SIGTERM ends the server cleanly: {status:?}");

    let created: usize = ledgers.iter().map(|l| l.responses_created).sum();
    let bumps: i64 = ledgers.iter().map(|l| l.bumps).sum();
    eprintln!(
        "{KILLS} kills; {created} responses, {bumps} increments, {checked} acknowledged documents checked"
    );
    let responses = "SELECT COUNT(*) FROM responses WHERE dataset = $1";
    assert_eq!(db.count(responses, dataset).await, created as i64);
    let documents = "SELECT COUNT(*) FROM documents WHERE dataset = $1 AND kind = 'response'";
    assert_eq!(db.count(documents, dataset).await, created as i64);
    let genders = "SELECT COUNT(*) FROM answers WHERE dataset = $1 AND question = 'gender'";
    assert_eq!(
        db.count(genders, dataset).await,
        created as i64,
        "one materialized row per single answer"
    );
    assert_eq!(db.site_total(site, "contacts").await, bumps);
    for device in &devices {
        let sites = device.engine.sites();
        assert_eq!(
            sites
                .iter()
                .find(|(id, _)| *id == site)
                .map(|(_, v)| v.tallies["contacts"]),
            Some(bumps)
        );
        assert!(device.engine.document_ids(DocKind::Response).len() <= created);
    }
}
