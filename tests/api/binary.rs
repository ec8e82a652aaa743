//! The real `localtwilio` binary as a child process on a database of the test's choosing: for
//! what only a process can show (resource limits, locks, start-up refusals, exit codes).

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::Duration,
};

use crate::helpers::{MAIN_SID, MAIN_TOKEN};

pub struct Binary {
    pub child: Child,
    pub base: String,
    /// Everything the process printed on stdout (the log) and stderr.
    pub output: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `localtwilio serve` on `db` with the test's main account; `adjust` may add environment or
/// process settings. Returns once the process runs (see `ready` to wait for it to answer).
pub fn spawn(db: &Path, adjust: impl FnOnce(&mut Command)) -> Binary {
    // The test's own reqwest clients need it.
    localtwilio::install_tls_provider();
    let port = free_port();
    let output = db.with_extension(format!("{port}.out"));
    let log = std::fs::File::create(&output).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_localtwilio"));
    command
        .env("LOCALTWILIO_DATABASE", db)
        .env("LOCALTWILIO_LISTEN", format!("127.0.0.1:{port}"))
        .env("LOCALTWILIO_ACCOUNT_SID", MAIN_SID)
        .env("LOCALTWILIO_AUTH_TOKEN", MAIN_TOKEN)
        .env("LOCALTWILIO_LOG", "error")
        .env_remove("LOCALTWILIO_SECRET_KEY")
        .env_remove("LOCALTWILIO_CONFIG")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    adjust(&mut command);
    Binary {
        child: command.spawn().unwrap(),
        base: format!("http://127.0.0.1:{port}"),
        output,
    }
}

impl Binary {
    /// Waits until `/healthz` answers 200; panics (with the output) if the process exits or
    /// never answers.
    pub async fn ready(mut self) -> Self {
        let client = reqwest::Client::new();
        for _ in 0..500 {
            if client
                .get(format!("{}/healthz", self.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return self;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("localtwilio exited ({status}): {}", self.output());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = self.child.kill();
        panic!("localtwilio did not start: {}", self.output());
    }

    /// Waits for the process to exit by itself (a generous bound, not a timing check); `None`
    /// if it is still running then (it is killed).
    pub async fn exit(&mut self) -> Option<ExitStatus> {
        for _ in 0..1000 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }

    /// SIGTERM, then waits for the graceful shutdown to finish.
    pub async fn stop(mut self) {
        // SAFETY: kill(2) on our own child's pid; no memory is touched.
        let sent = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(sent, 0);
        let status = self.exit().await.expect("no exit after SIGTERM");
        assert!(status.success(), "{status}: {}", self.output());
    }

    /// SIGKILL: the process ends without any clean-up of its own.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGKILL, then everything it printed (its log included).
    pub fn kill_and_read_output(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.output()
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
