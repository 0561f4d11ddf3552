//! Request logs name the route, status and duration only: no address, token, id or payload.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;

use crate::support::{Backend, TestServer};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        if std::env::var("TEST_LOG").is_ok() {
            std::io::stderr().write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// Dotted quads, and the colon-hex shapes of IPv6 addresses (`::1`, `fe80::1`) with a digit
/// in them (so `survey_server::telemetry` is not one).
fn find_ip(text: &str) -> Option<String> {
    let words = text.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'));
    words
        .filter(|w| {
            let quads: Vec<&str> = w.split('.').collect();
            let ipv4 = quads.len() >= 4
                && quads
                    .iter()
                    .filter(|q| !q.is_empty() && q.len() <= 3 && q.bytes().all(|b| b.is_ascii_digit()))
                    .count()
                    >= 4;
            let ipv6 =
                (w.contains("::") || w.matches(':').count() >= 3) && w.bytes().any(|b| b.is_ascii_digit());
            ipv4 || ipv6
        })
        .map(str::to_owned)
        .next()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_no_address_token_id_or_payload() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(survey_server::telemetry::DEFAULT_FILTER)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("first subscriber of this test process");

    let server = TestServer::start(&Backend::Sqlite).await;
    let admin = server.admin_token().await;
    let api = &server.api;
    let (dataset, mut devices) = api.dataset_with_devices(&admin, "live", 2).await;
    let site = devices[0].engine.create_site("clinic", "Clinic").expect("site");
    devices[0].engine.bump_tally(site, "contacts", 3).expect("bump");
    devices[0]
        .engine
        .create_response("outreach", &crate::sync_scenarios::edit(5))
        .expect("response");
    devices[0].sync_fully(api).await;
    devices[1].sync_fully(api).await;
    // Failures too: bad token, bad body, bad path, unknown code.
    api.post_sync(Some("svt_wrong"), b"junk".to_vec()).await;
    api.post_sync(Some(&devices[0].token), b"junk".to_vec()).await;
    api.get("/v1/datasets/robert'); DROP TABLE x;--/forms", Some(&admin))
        .await;
    api.post_json("/v1/enroll", None, &json!({ "code": "SECRET-CODE-1234" }))
        .await;
    // A query string, and an answer gzipped on the way out.
    let query = format!("/v1/datasets/{dataset}/aggregates?form=outreach&by=QUERY-STRING-NEEDLE");
    api.get_with(&query, Some(&admin), &[("accept-encoding", "gzip")])
        .await;
    let device_tokens: Vec<String> = devices.iter().map(|d| d.token.clone()).collect();
    server.stop().await;

    let logs =
        String::from_utf8(captured.0.lock().unwrap_or_else(PoisonError::into_inner).clone()).expect("utf-8");
    assert!(
        logs.contains("route=/v3/sync") && logs.contains("status=200"),
        "{logs}"
    );
    assert!(
        logs.contains("method=GET route=/v1/datasets/{id}/aggregates"),
        "{logs}"
    );
    assert!(logs.contains("status=401") && logs.contains("status=400"));
    assert_eq!(find_ip(&logs), None, "an address in the logs:\n{logs}");
    for secret in device_tokens.iter().chain([&admin]) {
        assert!(!logs.contains(secret.as_str()), "a token in the logs");
    }
    for needle in [
        dataset.to_string(),
        site.to_string(),
        "SECRET".into(),
        "QUERY-STRING-NEEDLE".into(),
        "DROP TABLE".into(),
        "Clinic".into(),
        "gave 5 kits".into(),
    ] {
        assert!(!logs.contains(&needle), "{needle:?} in the logs:\n{logs}");
    }
    assert_eq!(
        find_ip("peer 10.0.0.12 said hi"),
        Some("10.0.0.12".into()),
        "the detector works"
    );
    assert_eq!(find_ip("from [::1]:443"), Some("::1".into()));
}
