use sync_core::{
    ClientEngine, DocEntry, Limits, REPLY_LIMITS, REQUEST_CHANGE_BYTES, SyncRequest, SyncResponse,
    decode_response, encode_request,
};
use uuid::Uuid;

use super::Api;

/// An enrolled phone: the real sync-core engine plus its device token.
pub struct Device {
    pub engine: ClientEngine,
    pub token: String,
    /// The server's id of this phone.
    pub id: Uuid,
}

impl Device {
    pub async fn enroll(api: &Api, code: &str) -> Device {
        let reply = api
            .post_json("/v1/enroll", None, &serde_json::json!({ "code": code }))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text());
        let body = reply.json();
        let dataset: Uuid = body["dataset"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("dataset");
        let epoch = body["epoch"].as_u64().expect("epoch");
        Device {
            engine: ClientEngine::new(dataset, epoch),
            token: body["token"].as_str().expect("token").to_owned(),
            id: body["device_id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("device id"),
        }
    }

    /// One round trip; the engine takes the answer in.
    pub async fn sync_once(&mut self, api: &Api) -> SyncResponse {
        self.try_sync_once(api).await.expect("sync round")
    }

    /// One round trip that may fail (server killed mid-request); on failure the engine is
    /// untouched, so the next round resends the same changes.
    pub async fn try_sync_once(&mut self, api: &Api) -> Result<SyncResponse, String> {
        let request = encode_request(&self.engine.build_request(REQUEST_CHANGE_BYTES));
        let reply = api
            .send(
                reqwest::Method::POST,
                &format!("/v{}/sync", self.engine.protocol()),
                Some(&self.token),
                Some("application/cbor"),
                request,
            )
            .await
            .map_err(|e| format!("transport: {e}"))?;
        if reply.status != 200 {
            return Err(format!("status {}: {}", reply.status, reply.text()));
        }
        let answer = decode_response(&reply.body, &REPLY_LIMITS).map_err(|e| e.to_string())?;
        self.engine.apply_response(&answer).map_err(|e| e.to_string())?;
        Ok(answer)
    }

    /// A request of `docs` made by hand, as a client other than the engine may send it, over
    /// `protocol`; the answer, which must be a 200. The engine takes nothing in.
    pub async fn send_entries(&self, api: &Api, protocol: u64, docs: Vec<DocEntry>) -> SyncResponse {
        let request = SyncRequest {
            v: protocol,
            dataset: self.engine.dataset(),
            epoch: self.engine.epoch(),
            docs,
            totals_seen: None,
        };
        let reply = api
            .send(
                reqwest::Method::POST,
                &format!("/v{protocol}/sync"),
                Some(&self.token),
                Some("application/cbor"),
                encode_request(&request),
            )
            .await
            .expect("transport");
        assert_eq!(reply.status, 200, "{}", reply.text());
        decode_response(&reply.body, &Limits::default()).expect("answer")
    }

    /// Syncs (at least once, to hear of others' changes) until nothing is pending either way.
    pub async fn sync_fully(&mut self, api: &Api) {
        for _ in 0..50 {
            self.sync_once(api).await;
            if !self.engine.needs_sync() {
                return;
            }
        }
        panic!("device still needs sync after 50 rounds");
    }
}
