//! The real `survey` binary, run as a child process with its own state file.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_survey")
}

/// What one `survey` command did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "survey failed: {self:#?}");
        self
    }

    /// Fails with `code`, saying `words` on stderr.
    #[track_caller]
    pub fn fails(self, code: i32, words: &str) -> Run {
        assert_eq!(self.code, code, "unexpected exit: {self:#?}");
        assert!(
            self.stderr.contains(words),
            "stderr does not say {words:?}: {self:#?}"
        );
        assert!(self.stderr.starts_with("error: "), "{self:#?}");
        self
    }
}

/// One phone: a state file in its own folder.
pub struct Device {
    folder: TempDir,
}

impl Device {
    pub fn new() -> Device {
        Device {
            folder: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn state_path(&self) -> PathBuf {
        self.folder.path().join("survey").join("state")
    }

    pub fn folder(&self) -> &Path {
        self.folder.path()
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_input(args, None)
    }

    pub fn run_with_input(&self, args: &[&str], input: Option<&str>) -> Run {
        let mut child = Command::new(binary())
            .arg("--state")
            .arg(self.state_path())
            .args(args)
            .env_remove("SURVEY_STATE")
            .env_remove("SURVEY_ADMIN_TOKEN")
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn survey");
        if let Some(input) = input {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("write stdin");
        }
        let output = child.wait_with_output().expect("survey runs");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs a command with its pause point `step` armed (`survey_cli::pause_points`), waits
    /// until it stops there and SIGKILLs it: a battery pulled at a known moment. Panics if the
    /// command ends without reaching the step.
    pub fn kill_at(&self, args: &[&str], step: &str) {
        let pauses = tempfile::tempdir().expect("pause folder");
        std::fs::write(pauses.path().join(step), b"").expect("arm the pause point");
        let mut child = Command::new(binary())
            .arg("--state")
            .arg(self.state_path())
            .args(args)
            .env("SURVEY_PAUSE_DIR", pauses.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn survey");
        let reached = pauses.path().join(format!("{step}.reached"));
        while !reached.exists() {
            if let Some(status) = child.try_wait().expect("wait") {
                panic!(
                    "`survey {}` ended ({status}) before reaching {step}",
                    args.join(" ")
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
    }

    /// Writes an answers file in the device's folder and returns its path.
    pub fn answers_file(&self, name: &str, json: &str) -> String {
        let path = self.folder.path().join(name);
        std::fs::write(&path, json).expect("write answers");
        path.display().to_string()
    }

    /// `survey status --json`, parsed.
    pub fn status(&self) -> serde_json::Value {
        let run = self.run(&["status", "--json"]).ok();
        serde_json::from_str(run.stdout.trim()).expect("status JSON")
    }
}
