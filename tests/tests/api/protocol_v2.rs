//! Protocol v2 beside v1: a device far behind on a busy site gets it saved whole, ends with
//! exactly what a v1 device gets, and keeps writing to it as itself.

use sync_core::{DocKind, SyncResponse};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Backend, Device, TestServer};

on_both_backends!(a_device_far_behind_gets_the_site_saved_whole_and_ends_like_a_v1_device,);

const WRITERS: usize = 4;
const BUMPS: usize = 15;

fn entry(answer: &SyncResponse, id: Uuid) -> &sync_core::DocEntry {
    answer
        .docs
        .iter()
        .find(|d| d.id == id)
        .expect("document answered")
}

fn tally(device: &Device, site: Uuid) -> i64 {
    let sites = device.engine.sites();
    let (_, view) = sites.iter().find(|(id, _)| *id == site).expect("site");
    view.tallies.get("contacts").copied().unwrap_or(0)
}

async fn a_device_far_behind_gets_the_site_saved_whole_and_ends_like_a_v1_device(backend: Backend) {
    let server = TestServer::start(&backend).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api
        .dataset_with_devices_speaking(&admin, "live", WRITERS + 2, 2)
        .await;
    let mut late_v2 = devices.pop().expect("device");
    let mut late_v1 = devices.pop().expect("device");
    late_v1.engine.set_protocol(1).expect("v1");
    let site = devices[0].engine.create_site("market", "Market").expect("site");
    for device in &mut devices {
        device.sync_fully(api).await;
    }
    late_v1.sync_fully(api).await;
    late_v2.sync_fully(api).await;

    // While the two late phones are offline, the others bump the site one change at a time.
    for _ in 0..BUMPS {
        for device in &mut devices {
            device.engine.bump_tally(site, "contacts", 1).expect("bump");
            device.sync_fully(api).await;
        }
    }
    for late in [&mut late_v1, &mut late_v2] {
        late.engine.bump_tally(site, "contacts", 2).expect("bump");
    }
    let v1 = late_v1.sync_once(api).await;
    let v2 = late_v2.sync_once(api).await;
    assert_eq!(v1.v, 1);
    assert_eq!(v2.v, 2);
    let (over_v1, over_v2) = (entry(&v1, site), entry(&v2, site));
    assert!(over_v1.state.is_none());
    assert_eq!(over_v1.changes.len(), WRITERS * BUMPS, "the others' bumps");
    let state = over_v2.state.as_ref().expect("v2 sends the site saved whole");
    assert!(over_v2.changes.is_empty());
    let change_bytes: usize = over_v1.changes.iter().map(|c| c.len()).sum();
    assert!(
        state.len() < change_bytes,
        "{} bytes saved against {change_bytes} of changes",
        state.len()
    );

    late_v1.sync_fully(api).await;
    late_v2.sync_fully(api).await;
    let expected = (WRITERS * BUMPS + 2 * 2) as i64;
    assert_eq!(tally(&late_v1, site), expected);
    assert_eq!(tally(&late_v2, site), expected);
    let heads = |device: &mut Device| {
        let mut heads = device.engine.document_mut(site).expect("site").get_heads();
        heads.sort();
        heads
    };
    assert_eq!(heads(&mut late_v1), heads(&mut late_v2));

    // The v2 phone keeps its actor for the site: its next bump is its own, and lands.
    late_v2.engine.bump_tally(site, "contacts", 5).expect("bump");
    late_v2.sync_fully(api).await;
    assert!(
        late_v2.engine.rejections().is_empty(),
        "{:?}",
        late_v2.engine.rejections()
    );
    let total = "SELECT total FROM site_tallies WHERE document = $1 AND metric = 'contacts'";
    assert_eq!(server.db.count(total, site).await, expected + 5);
    let actors = "SELECT COUNT(*) FROM doc_actors WHERE document = $1";
    assert_eq!(
        server.db.count(actors, site).await,
        (WRITERS + 2) as i64,
        "one actor per phone"
    );

    // A phone enrolled now (speaking v3) gets the form and the site saved whole on its first
    // sync, and the site's count from the totals.
    let code = api.enrollment_code(&admin, dataset, 1).await;
    let mut fresh = Device::enroll(api, &code).await;
    let first = fresh.sync_once(api).await;
    assert!(
        first
            .docs
            .iter()
            .all(|d| d.state.is_some() && d.changes.is_empty()),
        "{first:?}"
    );
    assert_eq!(first.docs.len(), 2);
    assert_eq!(tally(&fresh, site), expected + 5);
    assert_eq!(fresh.engine.document_ids(DocKind::Form).len(), 1);
    fresh.sync_fully(api).await;
    assert!(!fresh.engine.needs_sync());
}
