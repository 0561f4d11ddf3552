use std::path::Path;
use std::sync::Arc;

use survey_server::storage::{AuditEntry, Role};
use survey_server::tokens::issue_token;
use survey_server::{AppState, SyncSettings};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{Api, Backend, TestDb};

/// The server running in this process on 127.0.0.1:0 against a fresh database.
pub struct TestServer {
    pub api: Api,
    /// The metrics listener (`/metrics`), apart from the API.
    pub metrics: Api,
    pub state: AppState,
    pub db: TestDb,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start(backend: &Backend) -> TestServer {
        TestServer::start_with(backend, SyncSettings::default()).await
    }

    pub async fn start_with(backend: &Backend, settings: SyncSettings) -> TestServer {
        let db = TestDb::create(backend).await;
        TestServer::start_on(db, settings).await
    }

    pub async fn start_on(db: TestDb, settings: SyncSettings) -> TestServer {
        TestServer::start_configured(db, settings, |_| {}).await
    }

    /// A server whose aggregates only suppress small cells and show exact counts otherwise
    /// (`Disclosure::SuppressOnly`, which no flag reaches): for tests of what is counted, and
    /// as the plainly suppressing server the disclosure attacks are first shown to beat.
    pub async fn start_suppressing_only(backend: &Backend) -> TestServer {
        let db = TestDb::create(backend).await;
        TestServer::start_configured(db, SyncSettings::default(), |state| {
            state.disclosure = survey_server::disclosure::Disclosure::SuppressOnly;
        })
        .await
    }

    /// Serves the field app from `root` instead of the source tree's `clients/web`.
    pub async fn start_with_web_root(backend: &Backend, root: &Path) -> TestServer {
        let db = TestDb::create(backend).await;
        TestServer::start_configured(db, SyncSettings::default(), |state| {
            state.web_root = Arc::new(root.to_owned());
        })
        .await
    }

    /// A server on `db` with `configure` applied to its state before it starts.
    pub async fn start_configured(
        db: TestDb,
        settings: SyncSettings,
        configure: impl FnOnce(&mut AppState),
    ) -> TestServer {
        let storage = survey_server::storage::connect(&db.url)
            .await
            .expect("connect storage");
        let mut state = AppState::new(storage, settings);
        configure(&mut state);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let metrics = TcpListener::bind("127.0.0.1:0").await.expect("bind metrics");
        let metrics_addr = metrics.local_addr().expect("metrics addr");
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(survey_server::router::serve(
            listener,
            Some(metrics),
            state.clone(),
            async {
                let _ = rx.await;
            },
        ));
        TestServer {
            api: Api::new(format!("http://{addr}")),
            metrics: Api::new(format!("http://{metrics_addr}")),
            state,
            db,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// An unscoped admin token, issued the way `survey-server token create` does.
    pub async fn admin_token(&self) -> String {
        let audit = AuditEntry {
            actor_name: "test".into(),
            actor_role: "admin".into(),
            action: "create_token:admin".into(),
            dataset: None,
        };
        let storage: Arc<_> = self.state.storage.clone();
        let (token, _) = issue_token(storage.as_ref(), Role::Admin, "test admin", None, None, &audit)
            .await
            .expect("admin token");
        token.expose().to_owned()
    }

    /// Stops the server gracefully and hands back its database, e.g. to restart on it.
    pub async fn stop(self) -> TestDb {
        let TestServer {
            db, shutdown, task, ..
        } = self;
        if let Some(tx) = shutdown {
            let _ = tx.send(());
        }
        if let Some(task) = task {
            task.await.expect("server task").expect("server stops cleanly");
        }
        db
    }
}
