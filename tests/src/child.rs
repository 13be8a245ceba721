//! The real `switchyard` binary as a child process (so SIGKILL is a real kill).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// The `switchyard` binary built by this `cargo test` run (target/<profile>/switchyard).
pub fn switchyard_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test-binary> → target/<profile>/switchyard
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("switchyard");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo test --workspace` (which builds the daemon) or `cargo build -p switchyard` first",
        bin.display()
    );
    bin
}

/// A `switchyard run` child process with its own log file.
pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
}

impl Daemon {
    pub fn spawn(
        dir: &Path,
        db_url: &str,
        args: &[&str],
        env: &[(&str, &str)],
        log_name: &str,
    ) -> anyhow::Result<Self> {
        let log = dir.join(log_name);
        let file = std::fs::File::create(&log)?;
        let mut cmd = Command::new(switchyard_bin());
        cmd.arg("run")
            .args(args)
            .current_dir(dir)
            .env("SWITCHYARD_CONFIG", dir.join("switchyard.toml"))
            .env("SWITCHYARD_DATABASE__URL", db_url)
            .env("SWITCHYARD_LOG", "info,sqlx=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::from(file))
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Ok(Self {
            child: cmd.spawn()?,
            log,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("running child")
    }

    /// SIGKILL: no cleanup, no release of leases.
    pub async fn kill9(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &self.pid().to_string()])
            .status();
        let _ = self.child.wait().await;
    }

    /// SIGTERM and wait for a graceful exit.
    pub async fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .ok()
            .and_then(Result::ok)
    }

    /// The log so far, without the terminal colour codes tracing writes.
    pub fn log_text(&self) -> String {
        strip_ansi(&std::fs::read_to_string(&self.log).unwrap_or_default())
    }

    /// The API's address, once the daemon has logged `API listening addr=...` (its config
    /// binds `127.0.0.1:0`, so the port is known only from the log).
    pub async fn api_addr(&mut self, timeout: Duration) -> anyhow::Result<String> {
        let mut addr = None;
        crate::wait::eventually(timeout, "the daemon to log its API address", || {
            let exited = self.child.try_wait();
            let found = self.log_text().lines().find_map(|line| {
                let rest = line.split("API listening").nth(1)?;
                let value = rest.split("addr=").nth(1)?;
                Some(value.split_whitespace().next()?.to_owned())
            });
            let seen = found.is_some();
            if found.is_some() {
                addr = found;
            }
            async move {
                if let Some(status) = exited? {
                    anyhow::bail!("the daemon exited ({status}) before its API listened");
                }
                Ok(seen)
            }
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}\n--- daemon log ---\n{}", self.log_text()))?;
        let addr = addr.expect("eventually returns Ok only once the address was found");
        Ok(format!("http://{addr}"))
    }
}

/// `text` without ANSI escape sequences (`ESC [ ... letter`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
