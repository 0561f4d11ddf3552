//! A site bumped by many phones at once, then synced by a phone with the CLI, twice.

use survey_cli::http::Server;
use survey_cli::sync::{MAX_ROUNDS, sync_until_done};
use survey_cli::{admin, admin::Admin};
use sync_core::ClientEngine;

use crate::end_to_end::{FORM, enrolled};
use crate::support::TestServer;

/// More phones than sync-core's default limit of 64 heads per document.
const WRITERS: usize = 70;

#[test]
#[ignore = "needs sync-core/server: a site bumped concurrently by more than 64 phones has more than 64 heads, \
            and the server refuses any request naming them (Limits::max_heads = 64)"]
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
            sync_until_done(&client, &device.token, &mut engine, MAX_ROUNDS, |_| Ok(())).expect("first sync");
            (device.token, engine)
        })
        .collect();
    for (token, engine) in &mut phones {
        let (site, _) = engine.sites().into_iter().next().expect("the site");
        engine.bump_tally(site, "contacts", 1).expect("bump");
        sync_until_done(&client, token, engine, MAX_ROUNDS, |_| Ok(())).expect("bump synced");
    }

    let run = coordinator.run(&["sync"]).ok();
    assert!(run.stdout.contains("Synced"), "{run:#?}");
    let run = coordinator.run(&["site", "list"]).ok();
    assert!(run.stdout.contains(&format!("contacts {WRITERS}")), "{run:#?}");
    // The next sync names the site with every head it now holds.
    coordinator.run(&["sync"]).ok();
}
