//! The server binary as a child process, for crash and multi-process tests.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};

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
        let mut child = Command::new(binary())
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

/// Runs the binary with `args` to completion; returns (success, stdout, stderr).
pub fn run(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(binary())
        .args(args)
        .env("RUST_LOG", "info")
        .output()
        .expect("run server binary");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
