//! The survey server in this process, on a free port, over a fresh SQLite file.

use axum::response::IntoResponse;
use survey_cli::admin::Admin;
use survey_cli::http::Server;
use survey_server::storage::{AuditEntry, ResponseFact, Role};
use survey_server::tokens::issue_token;
use survey_server::{AppState, SyncSettings};
use sync_core::Form;
use tempfile::TempDir;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use uuid::Uuid;

pub struct TestServer {
    pub url: String,
    pub admin_token: String,
    database: String,
    state: AppState,
    runtime: Runtime,
    shutdown: Option<oneshot::Sender<()>>,
    _folder: TempDir,
}

/// A dataset with one published form and an enrollment code, as an admin sets one up.
pub struct Fixture {
    pub dataset: Uuid,
    pub code: String,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_serving(|app| app)
    }

    /// A server from before protocol `newest + 1`: the same server, with `/vN/sync` above
    /// `newest` answered 404 as a router without that route answers it.
    pub fn start_speaking_up_to(newest: u64) -> TestServer {
        TestServer::start_serving(move |app| {
            app.layer(axum::middleware::from_fn(
                move |request: axum::extract::Request, next: axum::middleware::Next| async move {
                    let newer = (newest + 1..=sync_core::PROTOCOL_VERSION)
                        .any(|version| request.uri().path() == format!("/v{version}/sync"));
                    if newer {
                        let body = r#"{"error":"not_found","message":"route not found"}"#;
                        return (axum::http::StatusCode::NOT_FOUND, body).into_response();
                    }
                    next.run(request).await
                },
            ))
        })
    }

    fn start_serving(wrap: impl FnOnce(axum::Router) -> axum::Router + Send + 'static) -> TestServer {
        let folder = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/survey.db", folder.path().display());
        // Two workers: the test thread blocks on `survey` child processes meanwhile.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (state, addr, shutdown, admin_token) = runtime.block_on(async {
            let storage = survey_server::storage::connect(&url).await.expect("storage");
            let mut state = AppState::new(storage, SyncSettings::default());
            // Exact counts, so a load test can verify every response exactly once.
            state.disclosure = survey_server::disclosure::Disclosure::SuppressOnly;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let addr = listener.local_addr().expect("addr");
            let (tx, rx) = oneshot::channel::<()>();
            let app = wrap(survey_server::app(state.clone()));
            tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
            });
            let audit = AuditEntry {
                actor_name: "cli test".into(),
                actor_role: "admin".into(),
                action: "create_token:admin".into(),
                dataset: None,
            };
            let (token, _) = issue_token(
                state.storage.as_ref(),
                Role::Admin,
                "cli test",
                None,
                None,
                &audit,
            )
            .await
            .expect("admin token");
            let token = token.expose().to_owned();
            (state, addr, tx, token)
        });
        TestServer {
            url: format!("http://{addr}"),
            admin_token,
            database: url,
            state,
            runtime,
            shutdown: Some(shutdown),
            _folder: folder,
        }
    }

    pub fn client(&self) -> Server {
        Server::new(&self.url).expect("server url")
    }

    /// A live dataset with `form`, and a code for `uses` devices.
    pub fn fixture(&self, form_json: &str, uses: usize) -> Fixture {
        self.fixture_in("live", form_json, uses)
    }

    /// Like [`TestServer::fixture`] in a dataset of `mode` (`live` or `demo`).
    pub fn fixture_in(&self, mode: &str, form_json: &str, uses: usize) -> Fixture {
        let client = self.client();
        let admin = Admin {
            server: &client,
            token: &self.admin_token,
        };
        let form = Form::from_json(form_json).expect("form");
        let dataset = admin.create_dataset("cli test", mode, None).expect("dataset");
        admin.publish_form(dataset.id, &form).expect("form published");
        let code = admin.enrollment_code(dataset.id, "cli test", uses).expect("code");
        Fixture {
            dataset: dataset.id,
            code,
        }
    }

    /// Runs one SQL statement on the server's database (`$1` bound to `arg`), for a state no
    /// API call makes (a token past its expiry).
    pub fn execute(&self, sql: &'static str, arg: Uuid) {
        let database = self.database.clone();
        self.runtime.block_on(async move {
            use sqlx::Connection as _;
            let mut db = sqlx::SqliteConnection::connect(&database)
                .await
                .expect("open sqlite");
            sqlx::query(sql)
                .bind(arg)
                .execute(&mut db)
                .await
                .expect("statement");
        });
    }

    /// The responses the server has stored and materialized for a form.
    pub fn stored_responses(&self, dataset: Uuid, form: &str) -> Vec<ResponseFact> {
        let storage = self.state.storage.clone();
        self.runtime
            .block_on(async move { storage.response_facts(dataset, form).await })
            .expect("response facts")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
