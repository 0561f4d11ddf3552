//! A site bumped by many phones at once has more heads than sync-core's default limit per
//! document (64): the phones that hold it must keep syncing all the same, naming every head.
//! The phones speak protocol 2, whose phones bump the shared site itself; the coordinator's
//! `survey` speaks 3 and counts the site from the server's totals.

use survey_cli::http::Server;
use survey_cli::sync::{MAX_SYNC_ROUNDS, sync_until_done};
use survey_cli::{admin, admin::Admin};
use sync_core::ClientEngine;

use crate::end_to_end::{FORM, enrolled};
use crate::support::TestServer;

/// More phones than sync-core's default limit of 64 heads per document.
const WRITERS: usize = 70;

#[test]
fn a_site_bumped_by_many_phones_at_once_still_syncs() {
    let server = TestServer::start();
    let fixture = server.fixture(FORM, 2);
    let coordinator = enrolled(&server, &fixture.code);
    coordinator
        .run(&["site", "add", "market", "--name", "Market"])
        .ok();
    coordinator.run(&["sync"]).ok();

    let client = Server::new(&server.url).expect("url");
    let admin = Admin {
        server: &client,
        token: &server.admin_token,
    };
    let code = admin
        .enrollment_code(fixture.dataset, "crowd", WRITERS)
        .expect("code");
    // Every phone fetches the site, then all bump it from the same starting point.
    let mut phones: Vec<(String, ClientEngine)> = (0..WRITERS)
        .map(|_| {
            let device = admin::enroll(&client, &code).expect("enroll");
            let mut engine = ClientEngine::new(device.dataset, device.epoch);
            engine.set_protocol(2).expect("v2");
            sync_until_done(&client, &device.token, &mut engine, MAX_SYNC_ROUNDS, |_| Ok(()))
                .expect("first sync");
            (device.token, engine)
        })
        .collect();
    for (token, engine) in &mut phones {
        let (site, _) = engine.sites().into_iter().next().expect("the site");
        engine.bump_tally(site, "contacts", 1).expect("bump");
        sync_until_done(&client, token, engine, MAX_SYNC_ROUNDS, |_| Ok(())).expect("bump synced");
    }

    let run = coordinator.run(&["sync"]).ok();
    assert!(run.stdout.contains("Synced"), "{run:#?}");
    let run = coordinator.run(&["site", "list"]).ok();
    assert!(run.stdout.contains(&format!("contacts {WRITERS}")), "{run:#?}");
    // A phone's next sync names the site with every head it now holds.
    let (token, engine) = &mut phones[0];
    sync_until_done(&client, token, engine, MAX_SYNC_ROUNDS, |_| Ok(())).expect("read");
    let heads = engine.sites()[0].0;
    assert!(engine.document_mut(heads).expect("site").get_heads().len() > 64);
    sync_until_done(&client, token, engine, MAX_SYNC_ROUNDS, |_| Ok(())).expect("named every head");
    coordinator.run(&["sync"]).ok();
    let file = coordinator.answers_file("a.json", crate::end_to_end::GOOD_ANSWERS);
    coordinator
        .run(&["collect", "--form", "contact-log", "--answers", &file])
        .ok();
    coordinator
        .run(&["tally", "--site", "market", "--metric", "contacts"])
        .ok();
    coordinator.run(&["sync"]).ok();
    let status = coordinator.status();
    assert_eq!(status["pending"], 0, "{status}");
    assert_eq!(server.stored_responses(fixture.dataset, "contact-log").len(), 1);
    let run = coordinator.run(&["site", "list"]).ok();
    assert!(
        run.stdout.contains(&format!("contacts {}", WRITERS + 1)),
        "{run:#?}"
    );
}
