//! The server binary as a child process, for crash and multi-process tests; and the ingest
//! benchmark's.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use super::Api;

/// A running server child. Dropping it (a test that fails half-way) kills the child, so no
/// server outlives its test.
pub struct ServerProcess {
    child: Child,
    pub api: Api,
    /// `/metrics`, served apart from the API (on a free loopback port here).
    pub metrics: Api,
    reaped: bool,
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_survey-server-e2e")
}

impl ServerProcess {
    /// Starts `survey-server serve` on a free port and waits for its "listening on" line.
    pub fn start(database: &str) -> ServerProcess {
        ServerProcess::start_with(database, &[]).0
    }

    /// Like [`ServerProcess::start`] with extra `serve` arguments; also returns what the
    /// server printed before "listening on".
    pub fn start_with(database: &str, extra: &[&str]) -> (ServerProcess, Vec<String>) {
        ServerProcess::spawn(database, extra, None)
    }

    /// Like [`ServerProcess::start`], with the server's pause points under `pauses`' control.
    pub fn start_pausable(database: &str, pauses: &Pauses) -> ServerProcess {
        ServerProcess::spawn(database, &[], Some(pauses.folder.path())).0
    }

    fn spawn(database: &str, extra: &[&str], pauses: Option<&Path>) -> (ServerProcess, Vec<String>) {
        let mut command = Command::new(binary());
        if let Some(folder) = pauses {
            command.env("SURVEY_PAUSE_DIR", folder);
        }
        let mut child = command
            .args(["serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"])
            .args(["--database", database])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn server binary");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut printed = Vec::new();
        let base = loop {
            match lines.next() {
                Some(Ok(line)) => match line.strip_prefix("listening on ") {
                    Some(url) => break url.to_owned(),
                    None => printed.push(line),
                },
                other => panic!("server exited before listening: {other:?}"),
            }
        };
        let metrics = printed
            .iter()
            .find_map(|line| line.strip_prefix("metrics on "))
            .and_then(|url| url.strip_suffix("/metrics"))
            .expect("the server says where its metrics are")
            .to_owned();
        let server = ServerProcess {
            child,
            api: Api::new(base),
            metrics: Api::new(metrics),
            reaped: false,
        };
        (server, printed)
    }

    /// SIGKILL: no shutdown code runs, like a power cut for the process.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
        self.reaped = true;
    }

    /// SIGTERM, then wait for the process to exit by itself.
    pub fn terminate(mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        let exit = self.child.wait().expect("wait");
        self.reaped = true;
        exit
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs the server binary with `args` to completion; returns (success, stdout, stderr).
pub fn run(args: &[&str]) -> (bool, String, String) {
    run_program(binary(), args)
}

/// Runs `survey-bench-ingest` with `args` to completion, as [`run`] does the server.
pub fn run_bench_ingest(args: &[&str]) -> (bool, String, String) {
    run_program(env!("CARGO_BIN_EXE_survey-bench-ingest-e2e"), args)
}

fn run_program(program: &str, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(program)
        .args(args)
        .env("RUST_LOG", "info")
        .output()
        .expect("run binary");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The pause points of server processes (`survey_server::pause_points`): a step armed here
/// stops the next request that reaches it until [`Pauses::resume`], or until the process is
/// killed there.
pub struct Pauses {
    folder: TempDir,
}

impl Pauses {
    pub fn new() -> Pauses {
        Pauses {
            folder: tempfile::tempdir().expect("pause folder"),
        }
    }

    pub fn arm(&self, step: &str) {
        std::fs::write(self.folder.path().join(step), b"").expect("arm a pause point");
    }

    /// Waits until a request has stopped at `step`.
    pub async fn wait_until_paused(&self, step: &str) {
        let reached = self.folder.path().join(format!("{step}.reached"));
        // A guard against a hang only: a step that is reached at all is reached in seconds.
        for _ in 0..60_000 {
            if reached.exists() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("no request reached the pause point {step}");
    }

    pub fn resume(&self, step: &str) {
        std::fs::remove_file(self.folder.path().join(format!("{step}.reached"))).expect("resume");
    }
}
