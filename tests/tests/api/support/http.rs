use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use super::Device;

/// A thin HTTP client for one server.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    client: reqwest::Client,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("status {} body is not JSON ({e}): {}", self.status, self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `error` code of a JSON error body; also checks the body has the error shape.
    pub fn error_code(&self) -> String {
        let body = self.json();
        assert!(body["message"].is_string(), "error body without message: {body}");
        body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {body}"))
            .to_owned()
    }
}

impl Api {
    pub fn new(base: String) -> Api {
        // Bounded, so a request that never completes fails the test that made it, with the
        // reason, instead of hanging it (the crash test hung twice in one session, its server
        // killed and no socket left open; the cause is not found).
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .expect("HTTP client");
        Api { base, client }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Reply, reqwest::Error> {
        let mut request = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.body(body).send().await?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        Ok(Reply {
            status,
            content_type,
            headers,
            body,
        })
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::GET, path, token, None, Vec::new())
            .await
            .expect("GET")
    }

    /// A GET asking for another representation (e.g. `text/csv`).
    pub async fn get_as(&self, path: &str, token: Option<&str>, accept: &str) -> Reply {
        self.get_with(path, token, &[("accept", accept)]).await
    }

    /// A GET with extra request headers.
    pub async fn get_with(&self, path: &str, token: Option<&str>, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.client.get(format!("{}{}", self.base, path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("body").to_vec();
        Reply {
            status,
            content_type,
            headers,
            body,
        }
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send(
            Method::POST,
            path,
            token,
            Some("application/json"),
            body.to_string().into_bytes(),
        )
        .await
        .expect("POST")
    }

    pub async fn post_sync(&self, token: Option<&str>, bytes: Vec<u8>) -> Reply {
        self.send(Method::POST, "/v1/sync", token, Some("application/cbor"), bytes)
            .await
            .expect("POST /v1/sync")
    }

    // --- admin flows ----------------------------------------------------------------------

    pub async fn create_dataset(&self, admin: &str, name: &str, mode: &str) -> Uuid {
        let reply = self
            .post_json(
                "/v1/datasets",
                Some(admin),
                &serde_json::json!({ "name": name, "mode": mode }),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text());
        reply.json()["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("dataset id")
    }

    pub async fn publish_form(&self, admin: &str, dataset: Uuid, form: &str) {
        let body: Value = serde_json::from_str(form).expect("form JSON");
        let reply = self
            .post_json(&format!("/v1/datasets/{dataset}/forms"), Some(admin), &body)
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text());
    }

    pub async fn enrollment_code(&self, token: &str, dataset: Uuid, uses: i64) -> String {
        let reply = self
            .post_json(
                &format!("/v1/datasets/{dataset}/enrollments"),
                Some(token),
                &serde_json::json!({ "label": "test phones", "uses": uses, "expires_in_hours": 1 }),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text());
        reply.json()["code"].as_str().expect("code").to_owned()
    }

    pub async fn token(&self, admin: &str, role: &str, dataset: Option<Uuid>) -> String {
        self.token_with_id(admin, role, dataset).await.0
    }

    /// A new token and its id (to list or revoke it by).
    pub async fn token_with_id(&self, admin: &str, role: &str, dataset: Option<Uuid>) -> (String, Uuid) {
        let reply = self
            .post_json(
                "/v1/tokens",
                Some(admin),
                &serde_json::json!({ "role": role, "name": format!("test {role}"), "dataset": dataset }),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text());
        let body = reply.json();
        let token = body["token"].as_str().expect("token").to_owned();
        let id = body["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("token id");
        (token, id)
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::DELETE, path, token, None, Vec::new())
            .await
            .expect("DELETE")
    }

    /// A live dataset with the test form, and `devices` enrolled devices that synced once.
    pub async fn dataset_with_devices(&self, admin: &str, mode: &str, devices: usize) -> (Uuid, Vec<Device>) {
        self.dataset_with_devices_speaking(admin, mode, devices, sync_core::PROTOCOL_VERSION)
            .await
    }

    /// [`Api::dataset_with_devices`] whose devices speak `protocol`: 1 and 2 bump the shared
    /// site documents themselves.
    pub async fn dataset_with_devices_speaking(
        &self,
        admin: &str,
        mode: &str,
        devices: usize,
        protocol: u64,
    ) -> (Uuid, Vec<Device>) {
        let dataset = self.create_dataset(admin, "field test", mode).await;
        self.publish_form(admin, dataset, super::FORM_JSON).await;
        let code = self.enrollment_code(admin, dataset, devices as i64 + 1).await;
        let mut out = Vec::new();
        for _ in 0..devices {
            let mut device = Device::enroll(self, &code).await;
            device.engine.set_protocol(protocol).expect("protocol");
            device.sync_fully(self).await;
            out.push(device);
        }
        (dataset, out)
    }
}
