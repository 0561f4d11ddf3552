//! Two server processes on one database, many devices bumping one site tally through both at
//! once: every increment must count, whether the devices bump the shared site document
//! (protocol 2: the optimistic version check retries the merge, which a pause point forces
//! once) or their own tally documents (protocol 3: both servers move the same running sums).

use uuid::Uuid;

use crate::on_both_backends;
use crate::support::process::{Pauses, ServerProcess, run};
use crate::support::{Api, Backend, Device, TestDb};

on_both_backends!(
    two_servers_lose_no_concurrent_increment,
    a_read_through_one_server_sees_what_the_other_stored
);

const DEVICES: usize = 4;
const BUMPS: i64 = 12;

async fn bump_and_sync(mut device: Device, servers: [Api; 2], site: Uuid, first: usize) -> Device {
    for i in 0..BUMPS as usize {
        device.engine.bump_tally(site, "contacts", 1).expect("bump");
        device.sync_fully(&servers[(first + i) % 2]).await;
    }
    device
}

/// A migrated database, an admin token for it, and two server processes on it.
pub async fn two_servers(backend: &Backend) -> (TestDb, String, ServerProcess, ServerProcess) {
    two_servers_first_pausable(backend, &Pauses::new()).await
}

/// [`two_servers`], the first one stopping at the steps `pauses` arms.
async fn two_servers_first_pausable(
    backend: &Backend,
    pauses: &Pauses,
) -> (TestDb, String, ServerProcess, ServerProcess) {
    let db = TestDb::create(backend).await;
    let (ok, stdout, stderr) = run(&["token", "create", "--role", "admin", "--database", &db.url]);
    assert!(ok, "{stderr}");
    let (ok, _, migrate_err) = run(&["migrate", "--database", &db.url]);
    assert!(ok, "{migrate_err}");
    let a = ServerProcess::start_pausable(&db.url, pauses);
    let b = ServerProcess::start(&db.url);
    (db, stdout.trim().to_owned(), a, b)
}

/// `survey_sync_merge_retries_total` of one server process.
async fn merge_retries(server: &ServerProcess) -> u64 {
    let metrics = server.metrics.get("/metrics", None).await.text();
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("survey_sync_merge_retries_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no merge retry counter in {metrics}"))
}

async fn two_servers_lose_no_concurrent_increment(backend: Backend) {
    for protocol in [2, 3] {
        lose_no_concurrent_increment(&backend, protocol).await;
    }
}

async fn lose_no_concurrent_increment(backend: &Backend, protocol: u64) {
    let pauses = Pauses::new();
    let (db, admin, a, b) = two_servers_first_pausable(backend, &pauses).await;
    let (_, mut devices) = a
        .api
        .dataset_with_devices_speaking(&admin, "live", DEVICES, protocol)
        .await;
    let site = devices[0].engine.create_site("square", "Square").expect("site");
    devices[0].sync_fully(&a.api).await;
    for device in &mut devices[1..] {
        device.sync_fully(&b.api).await;
    }
    // Protocol 2, forced once: A has merged a bump and is about to store it when B stores
    // another bump of the same site. A's write is then stale, and A must merge again on B's
    // version. (Protocol 3 phones bump tally documents of their own: there is no such race.)
    let mut forced = 0;
    if protocol == 2 {
        pauses.arm("sync-merged");
        let mut through_a = devices.remove(0);
        through_a.engine.bump_tally(site, "contacts", 1).expect("bump");
        let api = a.api.clone();
        let paused = tokio::spawn(async move {
            through_a.sync_fully(&api).await;
            through_a
        });
        pauses.wait_until_paused("sync-merged").await;
        devices[0].engine.bump_tally(site, "contacts", 1).expect("bump");
        devices[0].sync_fully(&b.api).await;
        assert_eq!(merge_retries(&a).await, 0);
        pauses.resume("sync-merged");
        devices.insert(0, paused.await.expect("sync through A"));
        assert_eq!(merge_retries(&a).await, 1, "A merged again on B's newer version");
        forced = 2;
        assert_eq!(
            db.site_total(site, "contacts").await,
            forced,
            "neither bump was lost"
        );
    }

    let servers = [a.api.clone(), b.api.clone()];
    let tasks: Vec<_> = devices
        .into_iter()
        .enumerate()
        .map(|(i, device)| tokio::spawn(bump_and_sync(device, servers.clone(), site, i)))
        .collect();
    let mut devices = Vec::new();
    for task in tasks {
        devices.push(task.await.expect("device task"));
    }
    for device in &mut devices {
        device.sync_fully(&a.api).await;
    }
    let expected = forced + DEVICES as i64 * BUMPS;
    assert_eq!(
        db.site_total(site, "contacts").await,
        expected,
        "protocol {protocol}"
    );
    for device in &devices {
        let sites = device.engine.sites();
        assert_eq!(
            sites
                .iter()
                .find(|(id, _)| *id == site)
                .map(|(_, v)| v.tallies["contacts"]),
            Some(expected)
        );
    }
    a.kill();
    b.kill();
}

fn tally(device: &Device, site: Uuid) -> i64 {
    let sites = device.engine.sites();
    let (_, view) = sites.iter().find(|(id, _)| *id == site).expect("site");
    view.tallies["contacts"]
}

/// Server A keeps a busy site loaded; server B then stores a newer version of it. A phone that
/// only reads, through A, must get B's version, not A's loaded copy (protocol 2: a protocol 3
/// phone does not read the site's changes).
async fn a_read_through_one_server_sees_what_the_other_stored(backend: Backend) {
    let (db, admin, a, b) = two_servers(&backend).await;
    let (_, mut devices) = a.api.dataset_with_devices_speaking(&admin, "live", 3, 2).await;
    let site = devices[0].engine.create_site("pier", "Pier").expect("site");
    for device in &mut devices {
        device.sync_fully(&a.api).await;
    }
    devices[0].engine.bump_tally(site, "contacts", 1).expect("bump");
    devices[0].sync_fully(&a.api).await;
    assert_eq!(tally(&devices[2], site), 0);
    devices[2].sync_fully(&a.api).await;
    assert_eq!(tally(&devices[2], site), 1, "A has the site loaded now");

    devices[1].engine.bump_tally(site, "contacts", 10).expect("bump");
    devices[1].sync_fully(&b.api).await;
    devices[2].sync_fully(&a.api).await;
    assert_eq!(tally(&devices[2], site), 11, "the read went past A's loaded copy");
    // And A's next write builds on what B stored.
    devices[2].engine.bump_tally(site, "contacts", 100).expect("bump");
    devices[2].sync_fully(&a.api).await;
    let total = "SELECT total FROM site_tallies WHERE document = $1 AND metric = 'contacts'";
    assert_eq!(db.count(total, site).await, 111);
    a.kill();
    b.kill();
}

/// PostgreSQL only: SQLite runs one writer at a time, so there a batch always sees a claim.
mod claim_race {
    pub mod postgres {
        use uuid::Uuid;

        use crate::support::{Backend, TestServer};
        use crate::sync_scenarios::site_write;

        /// Another server's transaction on the same PostgreSQL database claims an actor after a batch
        /// checked its actors and before it claimed them (SQLite has one writer at a time, so there
        /// the batch would simply see the claim). The batch has written its documents by then, so it
        /// must fail as a whole rather than store a document whose actor wrote another one.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[ignore = "needs PostgreSQL: run through scripts/with-postgres with --run-ignored"]
        async fn an_actor_claimed_by_another_transaction_meanwhile_links_nothing() {
            let backend = Backend::postgres();
            let server = TestServer::start(&backend).await;
            let admin = server.admin_token().await;
            let (dataset, _) = server.api.dataset_with_devices(&admin, "live", 1).await;
            let other = sqlx::PgPool::connect(&server.db.url).await.expect("connect");
            let mut claiming = other.begin().await.expect("begin");
            let elsewhere = Uuid::new_v4();
            sqlx::query("INSERT INTO doc_actors (actor, document) VALUES ($1, $2)")
                .bind(vec![9u8; 16])
                .bind(elsewhere)
                .execute(&mut *claiming)
                .await
                .expect("claim");

            let write = site_write(dataset, "raced", Some(vec![9; 16]));
            let storage = server.state.storage.clone();
            let batch = vec![write.clone()];
            let saving = tokio::spawn(async move { storage.save_documents(&batch, 1).await });
            // The batch's claim waits for the open transaction's row lock.
            let waiting = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'";
            let mut blocked = false;
            for _ in 0..200 {
                let n: i64 = sqlx::query_scalar(waiting)
                    .fetch_one(&other)
                    .await
                    .expect("activity");
                if n > 0 {
                    blocked = true;
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            assert!(blocked, "the batch never reached its claim");
            claiming.commit().await.expect("commit");

            match saving.await.expect("join").map_err(survey_server::ApiError::from) {
                Err(survey_server::ApiError::Conflict { code, .. }) => assert_eq!(code, "linked_actor"),
                other => panic!("expected a linked_actor conflict, got {other:?}"),
            }
            let stored = "SELECT COUNT(*) FROM documents WHERE id = $1";
            assert_eq!(server.db.count(stored, write.id).await, 0);
            let owned = "SELECT COUNT(*) FROM doc_actors WHERE document = $1";
            assert_eq!(server.db.count(owned, elsewhere).await, 1);
            other.close().await;
        }
    }
}
