//! The client's HTTP: JSON for enrollment and the admin API, CBOR for sync. Blocking calls on
//! a shared connection pool; the server's `{ error, message }` bodies become [`Error::Server`].

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use ureq::Agent;

use crate::{Error, Result};

const CBOR: &str = "application/cbor";
/// A sync answer carries at most about 1 MiB of unrequested documents plus what the request
/// mentioned; anything far beyond that is not a sane answer.
const MAX_ANSWER_BYTES: u64 = 256 << 20;

/// One server, reached through a pool of connections that threads may share.
#[derive(Clone)]
pub struct Server {
    agent: Agent,
    base: String,
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    error: String,
    message: String,
}

impl Server {
    /// A server at `base` (`http://host:port` or `https://…`, no path needed).
    pub fn new(base: &str) -> Result<Server> {
        Server::with_pool(base, 4, Duration::from_secs(120))
    }

    /// Like [`Server::new`], keeping up to `connections` idle connections for concurrent
    /// callers, and failing any call that takes longer than `timeout`.
    pub fn with_pool(base: &str, connections: usize, timeout: Duration) -> Result<Server> {
        let base = base.trim().trim_end_matches('/');
        let is_http = base.starts_with("http://") || base.starts_with("https://");
        if !is_http || base.len() <= "https://".len() {
            return Err(Error::Usage(format!(
                "the server address {base:?} must start with http:// or https://"
            )));
        }
        if base.starts_with("https://") && !cfg!(feature = "tls") {
            return Err(Error::Usage(
                "this build of survey has no TLS support: rebuild with the `tls` feature".into(),
            ));
        }
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(timeout))
            .max_idle_connections(connections.max(1))
            .max_idle_connections_per_host(connections.max(1))
            .user_agent(concat!("survey-cli/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Server {
            agent: Agent::new_with_config(config),
            base: base.to_owned(),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Plain HTTP to anything but this machine exposes the token and the answers on the way.
    pub fn is_plaintext_remote(&self) -> bool {
        let Some(rest) = self.base.strip_prefix("http://") else {
            return false;
        };
        let host = rest.split('/').next().unwrap_or_default();
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        !matches!(host, "localhost" | "127.0.0.1" | "[::1]")
    }

    pub fn post_json<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        bearer: Option<&str>,
        body: &B,
    ) -> Result<R> {
        let mut request = self.agent.post(format!("{}{path}", self.base));
        if let Some(token) = bearer {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let response = request.send_json(body).map_err(|e| self.transport(e))?;
        self.json_answer(response)
    }

    pub fn get_json<R: DeserializeOwned>(&self, path_and_query: &str, bearer: Option<&str>) -> Result<R> {
        let mut request = self.agent.get(format!("{}{path_and_query}", self.base));
        if let Some(token) = bearer {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let response = request.call().map_err(|e| self.transport(e))?;
        self.json_answer(response)
    }

    pub fn delete_json<R: DeserializeOwned>(&self, path: &str, bearer: &str) -> Result<R> {
        let response = self
            .agent
            .delete(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {bearer}"))
            .call()
            .map_err(|e| self.transport(e))?;
        self.json_answer(response)
    }

    /// One sync round trip: CBOR bytes out, CBOR bytes back.
    pub fn post_cbor(&self, path: &str, bearer: &str, body: &[u8]) -> Result<Vec<u8>> {
        let response = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {bearer}"))
            .content_type(CBOR)
            .send(body)
            .map_err(|e| self.transport(e))?;
        let status = response.status().as_u16();
        let bytes = read_body(response).map_err(|e| self.transport(e))?;
        if !(200..300).contains(&status) {
            return Err(refusal(status, &bytes));
        }
        Ok(bytes)
    }

    fn json_answer<R: DeserializeOwned>(&self, response: ureq::http::Response<ureq::Body>) -> Result<R> {
        let status = response.status().as_u16();
        if status == 429 {
            let wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(60);
            return Err(Error::Throttled(wait));
        }
        let bytes = read_body(response).map_err(|e| self.transport(e))?;
        if !(200..300).contains(&status) {
            return Err(refusal(status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| Error::BadAnswer(e.to_string()))
    }

    /// Failures below HTTP: the server was not reached, or the connection broke.
    fn transport(&self, err: ureq::Error) -> Error {
        match err {
            ureq::Error::BadUri(uri) => Error::Usage(format!("the server address is not valid: {uri}")),
            ureq::Error::BodyExceedsLimit(limit) => {
                Error::BadAnswer(format!("the answer is larger than {limit} bytes"))
            }
            other => Error::Unreachable {
                server: self.base.clone(),
                detail: plain_transport_error(&other),
            },
        }
    }
}

fn read_body(response: ureq::http::Response<ureq::Body>) -> Result<Vec<u8>, ureq::Error> {
    response
        .into_body()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_vec()
}

fn refusal(status: u16, bytes: &[u8]) -> Error {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => Error::Server {
            status,
            code: body.error,
            message: body.message,
        },
        // Not our server's error shape: a proxy page, a different service on that port.
        Err(_) => Error::Server {
            status,
            code: "unexpected".into(),
            message: format!(
                "the answer was not from a survey server: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).trim()
            ),
        },
    }
}

fn plain_transport_error(err: &ureq::Error) -> String {
    match err {
        ureq::Error::HostNotFound => "the host name is not known".into(),
        ureq::Error::ConnectionFailed => "the connection was refused".into(),
        ureq::Error::Timeout(_) => "it did not answer in time".into(),
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            "the connection was refused".into()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_addresses_without_a_scheme() {
        assert!(matches!(Server::new("example.org"), Err(Error::Usage(_))));
        assert!(matches!(Server::new("http://"), Err(Error::Usage(_))));
        assert_eq!(
            Server::new("http://127.0.0.1:9/").expect("ok").base(),
            "http://127.0.0.1:9"
        );
    }

    #[test]
    fn knows_plain_http_to_another_machine() {
        assert!(
            !Server::new("http://127.0.0.1:8080")
                .expect("ok")
                .is_plaintext_remote()
        );
        assert!(!Server::new("http://localhost").expect("ok").is_plaintext_remote());
        assert!(
            Server::new("http://10.0.0.5:8080")
                .expect("ok")
                .is_plaintext_remote()
        );
    }

    #[test]
    fn error_bodies_become_server_errors() {
        let err = refusal(401, br#"{"error":"invalid_code","message":"nope"}"#);
        assert!(matches!(err, Error::Server { status: 401, ref code, .. } if code == "invalid_code"));
        let err = refusal(502, b"<html>Bad gateway</html>");
        assert!(matches!(err, Error::Server { status: 502, ref code, .. } if code == "unexpected"));
    }
}
