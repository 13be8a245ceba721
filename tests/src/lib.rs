//! Harness for the end-to-end tests: [`TestDaemon`] (a fresh database per test, the config
//! written per test, fake partners, the daemon in-process or the real `switchyard` binary as
//! child processes, so SIGKILL is a real kill), the SFTP server the mailbox tests talk to, the
//! test integration that proves the seam, and small readers for what tests check.

pub mod daemon;
pub mod edi;
pub mod probe;
pub mod sshd;

pub use daemon::{repo, Prepared, TestDaemon, TestDaemonBuilder};

use anyhow::Context;
use sqlx::{Connection, PgConnection, PgPool};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
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

fn base_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn with_db(url: &str, db: &str) -> String {
    match url.rsplit_once('/') {
        Some((server, rest)) => {
            let query = rest
                .split_once('?')
                .map(|(_, q)| format!("?{q}"))
                .unwrap_or_default();
            format!("{server}/{db}{query}")
        }
        None => format!("{url}/{db}"),
    }
}

/// A database created for one test and dropped when it ends. Fails (never skips) when
/// Postgres is unreachable.
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

impl TestDb {
    pub async fn create() -> anyhow::Result<Self> {
        let server = base_url();
        let admin = with_db(&server, "postgres");
        let mut conn = PgConnection::connect(&admin).await.with_context(|| {
            format!("Postgres must be running for the end-to-end tests ({admin}); start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`")
        })?;
        let name = format!("sy_e2e_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await?;
        let url = with_db(&server, &name);
        let pool = switchyard_store::connect(&url, 8).await?;
        switchyard_store::MIGRATOR.run(&pool).await?;
        Ok(Self { name, url, pool })
    }

    pub async fn drop_db(self) {
        self.pool.close().await;
        if let Ok(mut conn) = PgConnection::connect(&with_db(&base_url(), "postgres")).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn)
            .await;
        }
    }
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

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Poll `f` until it returns true or the timeout passes.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut f: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if f().await? {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn count(pool: &PgPool, sql: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await?)
}
