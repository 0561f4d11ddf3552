//! The admin and enrollment calls of the server's JSON API (DESIGN section 4) that the load
//! generator and the tests drive: datasets, forms, enrollment codes, enrollment, aggregates.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sync_core::Form;
use uuid::Uuid;

use crate::http::Server;
use crate::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
pub struct Dataset {
    pub id: Uuid,
    pub name: String,
    pub k: i64,
    pub epoch: u64,
}

/// What `POST /v1/enroll` hands a new device.
#[derive(Clone, Deserialize)]
pub struct Enrollment {
    pub device_id: Uuid,
    pub token: String,
    pub dataset: Uuid,
    pub epoch: u64,
}

impl std::fmt::Debug for Enrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrollment")
            .field("device_id", &self.device_id)
            .field("token", &"<redacted>")
            .field("dataset", &self.dataset)
            .field("epoch", &self.epoch)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct AggregateTable {
    pub k: i64,
    /// How far a shown count may be from the true one (cell-key perturbation; 0 when exact).
    #[serde(default)]
    pub max_adjustment: u64,
    pub cells: Vec<AggregateCell>,
}

/// One cell of an aggregate table; `n` is absent when the cell is suppressed.
#[derive(Debug, Clone, Deserialize)]
pub struct AggregateCell {
    pub key: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub n: Option<u64>,
    #[serde(default)]
    pub suppressed: bool,
}

#[derive(Serialize)]
struct CodeRequest<'a> {
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_token: Option<&'a str>,
}

/// Waits on a 429 (`Retry-After`) at most this many times, and this long each, before giving
/// up: a load test enrolling thousands of phones at once can briefly fill the server's budget.
const THROTTLED_TRIES: usize = 5;
const LONGEST_WAIT_S: u64 = 60;

#[derive(Deserialize)]
struct IssuedCode {
    code: String,
}

/// Trades an enrollment code for a device token. An unknown, used-up or expired code is
/// [`Error::BadCode`].
pub fn enroll(server: &Server, code: &str) -> Result<Enrollment> {
    enroll_with(
        server,
        &CodeRequest {
            code,
            device_token: None,
        },
    )
}

/// Trades a code for a new token of the device that holds `device_token` (expired, or revoked
/// alone): the same device, so the responses it sent stay its own to change.
pub fn enroll_again(server: &Server, code: &str, device_token: &str) -> Result<Enrollment> {
    enroll_with(
        server,
        &CodeRequest {
            code,
            device_token: Some(device_token),
        },
    )
}

fn enroll_with(server: &Server, request: &CodeRequest<'_>) -> Result<Enrollment> {
    let mut tries = 0;
    loop {
        tries += 1;
        match server.post_json("/v1/enroll", None, request) {
            Err(Error::Throttled(wait)) if tries < THROTTLED_TRIES && wait <= LONGEST_WAIT_S => {
                std::thread::sleep(std::time::Duration::from_secs(wait));
            }
            Err(Error::Server { status: 401, .. }) => return Err(Error::BadCode),
            other => return other,
        }
    }
}

/// Admin calls, authorized by an admin token.
pub struct Admin<'a> {
    pub server: &'a Server,
    pub token: &'a str,
}

impl Admin<'_> {
    pub fn create_dataset(&self, name: &str, mode: &str, k: Option<i64>) -> Result<Dataset> {
        let mut body = json!({ "name": name, "mode": mode });
        if let Some(k) = k {
            body["k"] = json!(k);
        }
        self.server.post_json("/v1/datasets", Some(self.token), &body)
    }

    pub fn publish_form(&self, dataset: Uuid, form: &Form) -> Result<()> {
        let _: serde_json::Value =
            self.server
                .post_json(&format!("/v1/datasets/{dataset}/forms"), Some(self.token), form)?;
        Ok(())
    }

    /// A code that enrolls up to `uses` devices (the server allows at most 1,000 per code).
    pub fn enrollment_code(&self, dataset: Uuid, label: &str, uses: usize) -> Result<String> {
        let issued: IssuedCode = self.server.post_json(
            &format!("/v1/datasets/{dataset}/enrollments"),
            Some(self.token),
            &json!({ "label": label, "uses": uses, "expires_in_hours": 24 }),
        )?;
        Ok(issued.code)
    }

    /// `GET /v1/datasets/{id}/aggregates?form=F&by=BY&metric=count`.
    pub fn count_by(&self, dataset: Uuid, form: &str, by: &str) -> Result<AggregateTable> {
        self.server.get_json(
            &format!("/v1/datasets/{dataset}/aggregates?form={form}&by={by}&metric=count"),
            Some(self.token),
        )
    }
}
