//! [`TestDaemon`]: the one way an end-to-end test gets a daemon — a fresh database, a temp
//! directory holding the config file (and mailboxes, mappings, schedules), fake partners
//! declared as partners, and the daemon started in-process ([`TestDaemonBuilder::start`]) or as
//! `switchyard run` child processes ([`TestDaemonBuilder::prepare`] then
//! [`Prepared::spawn`]). The config is always a real `switchyard.toml` on disk, so both kinds
//! read it the same way and problems are located in it.

use crate::child::Daemon;
use crate::db::TestDb;
use anyhow::Context;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchyard_adapter_http::fake::FakePartner;
use switchyard_core::clock::Clock;
use switchyard_core::ids::OrgId;
use switchyard_daemon::app::{self, Overrides, Roles, Running};
use switchyard_runtime::config::Config;
use switchyard_runtime::integration::Integration;
use switchyard_runtime::secrets::SameForAll;
use switchyard_runtime::testkit::doubles::MapSecrets;
use switchyard_store::keys::{Scope, Tier};
use switchyard_store::queue::Queue;
use tempfile::TempDir;

/// The repository root (mappings, fixtures, schedules).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The inbox (`[paths] inbox`) of a test daemon's directory.
fn inbox_of(dir: &Path) -> PathBuf {
    dir.join("inbox")
}

/// Builds a [`TestDaemon`].
pub struct TestDaemonBuilder {
    toml: String,
    roles: Roles,
    secrets: MapSecrets,
    integrations: Vec<Arc<dyn Integration>>,
    mappings: Option<PathBuf>,
    schedules: Vec<(String, String)>,
    clock: Option<Arc<dyn Clock>>,
    /// (organization, name, value): stored sealed before start, resolved by the daemon's
    /// own `SecretsByOrg` (the map-backed `secret` references are then unused).
    stored: Vec<(String, String, String)>,
}

/// A started in-process daemon with its database and directory.
pub struct TestDaemon {
    pub db: TestDb,
    pub dir: TempDir,
    pub config_path: PathBuf,
    pub queue: Queue,
    pub running: Running,
    pub http: reqwest::Client,
}

/// A database and a directory with the config written, for `switchyard run` child processes.
pub struct Prepared {
    pub db: TestDb,
    pub dir: TempDir,
    pub config_path: PathBuf,
}

impl TestDaemon {
    pub fn builder() -> TestDaemonBuilder {
        TestDaemonBuilder {
            toml: String::new(),
            roles: Roles::worker_only(),
            secrets: MapSecrets::new(),
            integrations: Vec::new(),
            mappings: None,
            schedules: Vec::new(),
            clock: None,
            stored: Vec::new(),
        }
    }

    /// The API's base URL (`http://127.0.0.1:PORT`); the API role must be on.
    /// The directory `catalog.sync` payloads name their files in.
    pub fn inbox(&self) -> PathBuf {
        inbox_of(self.dir.path())
    }

    pub fn api(&self) -> String {
        let addr: SocketAddr = self.running.api_addr.expect("the API role is on");
        format!("http://{addr}")
    }

    /// An organization (created on first use).
    pub async fn org(&self, slug: &str) -> anyhow::Result<OrgId> {
        Ok(switchyard_store::orgs::ensure(&self.db.pool, slug)
            .await?
            .id)
    }

    /// An API key of `org` holding `scopes`.
    pub async fn key(&self, org: &str, scopes: &[&str]) -> anyhow::Result<String> {
        let scopes = scopes
            .iter()
            .map(|s| Scope::parse(s))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(
            switchyard_store::keys::create_key(&self.db.pool, org, "e2e", &scopes, Tier::Premium)
                .await?
                .1,
        )
    }

    /// `method path` on the API with `key`; the status and the JSON body (`null` if none).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut req = self.http.request(method, format!("{}{path}", self.api()));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).with_context(|| format!("not JSON: {text}"))?
        };
        Ok((status, body))
    }

    /// Stop the daemon (in-flight jobs finish) and drop the database.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.running.stop().await?;
        self.db.drop_db().await;
        Ok(())
    }
}

impl TestDaemonBuilder {
    /// Append config text (tables of `switchyard.toml`).
    pub fn toml(mut self, text: &str) -> Self {
        self.toml.push_str(text);
        self.toml.push('\n');
        self
    }

    /// An HTTP partner at `fake`, in `org`, its bearer token resolved in-process from
    /// `secret:NAME-token`.
    pub fn http_partner(self, name: &str, fake: &FakePartner, org: &str) -> Self {
        let reference = format!("secret:{name}-token");
        let token = fake.token().unwrap_or_default().to_owned();
        self.secret(&reference, &token)
            .http_partner_with(name, fake, org, &reference)
    }

    /// An HTTP partner whose token comes from `token_ref` (`env:VAR` for child processes).
    pub fn http_partner_with(
        self,
        name: &str,
        fake: &FakePartner,
        org: &str,
        token_ref: &str,
    ) -> Self {
        let auth = match fake.token() {
            Some(_) => format!("{{ type = \"bearer\", token_ref = \"{token_ref}\" }}"),
            None => "{ type = \"none\" }".to_owned(),
        };
        self.toml(&format!(
            "[partners.{name}]\nkind = \"http\"\norg = \"{org}\"\nbase_url = \"{}\"\nauth = {auth}\ntimeout_ms = 5000\n",
            fake.base_url()
        ))
    }

    /// An EDI partner in `org`: `profile` holds its `standard`, `version`, `us`, `them`, `acks`
    /// lines; its mailbox is the local directory `mailbox`.
    pub fn edi_partner(self, name: &str, org: &str, profile: &str, mailbox: &Path) -> Self {
        self.toml(&format!(
            "[partners.{name}]\nkind = \"edi\"\norg = \"{org}\"\n{profile}\nmailbox = {{ path = {:?} }}\n",
            mailbox.to_string_lossy()
        ))
    }

    /// A credential the in-process daemon resolves for `reference` (`secret:NAME`).
    pub fn secret(mut self, reference: &str, value: &str) -> Self {
        self.secrets = self.secrets.with(reference, value);
        self
    }

    /// A secret stored sealed in the database for `org` (as `switchyard secret set` does),
    /// resolved at start by the daemon's own per-organization resolver with a key made for the
    /// test: what production does, which the map-backed [`Self::secret`] stands in for.
    pub fn stored_secret(mut self, org: &str, name: &str, value: &str) -> Self {
        self.stored.push((org.into(), name.into(), value.into()));
        self
    }

    /// An integration beyond this build's list.
    pub fn integration(mut self, integration: Arc<dyn Integration>) -> Self {
        self.integrations.push(integration);
        self
    }

    /// The repository's mapping files (default: an empty directory of the test's own).
    pub fn repo_mappings(self) -> Self {
        self.mappings(&repo().join("mappings"))
    }

    pub fn mappings(mut self, dir: &Path) -> Self {
        self.mappings = Some(dir.to_owned());
        self
    }

    /// A schedule file `schedules/NAME.toml`.
    pub fn schedule(mut self, name: &str, text: &str) -> Self {
        self.schedules.push((name.to_owned(), text.to_owned()));
        self
    }

    pub fn roles(mut self, roles: Roles) -> Self {
        self.roles = roles;
        self
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// A fresh database and a directory holding `switchyard.toml` (the database and paths
    /// filled in), `schedules/`, `mappings/` and `inbox/` (`[paths] inbox`, where job payloads
    /// name their input files); export files go to `exports/`.
    pub async fn prepare(&self) -> anyhow::Result<Prepared> {
        let db = TestDb::create().await?;
        let dir = tempfile::tempdir()?;
        let schedules = dir.path().join("schedules");
        std::fs::create_dir_all(&schedules)?;
        for (name, text) in &self.schedules {
            std::fs::write(schedules.join(format!("{name}.toml")), text)?;
        }
        let mappings = match &self.mappings {
            Some(m) => m.clone(),
            None => {
                let m = dir.path().join("mappings");
                std::fs::create_dir_all(&m)?;
                m
            }
        };
        let inbox = inbox_of(dir.path());
        std::fs::create_dir_all(&inbox)?;
        let config_path = dir.path().join("switchyard.toml");
        let text = format!(
            "[database]\nurl = {:?}\n\n[paths]\nmappings = {:?}\nschedules = {:?}\ninbox = {:?}\nexports = {:?}\n\n{}",
            db.url,
            mappings.to_string_lossy(),
            schedules.to_string_lossy(),
            inbox.to_string_lossy(),
            dir.path().join("exports").to_string_lossy(),
            self.toml
        );
        std::fs::write(&config_path, text)?;
        Ok(Prepared {
            db,
            dir,
            config_path,
        })
    }

    /// Start the daemon in-process with this builder's roles (the worker only by default).
    pub async fn start(self) -> anyhow::Result<TestDaemon> {
        let prepared = self.prepare().await?;
        let mut config = Config::load(&prepared.config_path).map_err(|d| anyhow::anyhow!("{d}"))?;
        // Quick fallback polling: tests wait on what they observe, not on timers, but a
        // job that comes due (a retry) should not wait 250 ms for nothing.
        config.queue.poll_interval_ms = 50;
        config.api.bind = "127.0.0.1:0".into();
        // A key made for the test, from a file only (an ambient SWITCHYARD_SECRET_KEY must
        // not win): it seals stored partner secrets and webhook endpoints' secrets, as in
        // production.
        let key = switchyard_runtime::secrets::SecretBox::generate_key_base64();
        let key_file = prepared.dir.path().join("secret.key");
        std::fs::write(&key_file, &key)?;
        config.secrets.key_env = "SWITCHYARD_E2E_NO_SUCH_KEY_VARIABLE".into();
        config.secrets.previous_key_env = "SWITCHYARD_E2E_NO_SUCH_KEY_VARIABLE".into();
        config.secrets.key_file = Some(key_file);
        let secrets: Option<Arc<dyn switchyard_runtime::secrets::OrgSecrets>> =
            if self.stored.is_empty() {
                Some(Arc::new(SameForAll(self.secrets)))
            } else {
                let sbox = switchyard_runtime::secrets::SecretBox::from_base64(&key)?;
                for (org, name, value) in &self.stored {
                    let id = prepared.org(org).await?;
                    switchyard_runtime::secrets::put(&prepared.db.pool, &sbox, id, name, value)
                        .await?;
                }
                None
            };
        let running = app::start(
            config,
            prepared.config_path.clone(),
            self.roles,
            Overrides {
                clock: self.clock,
                secrets,
                integrations: self.integrations,
            },
        )
        .await?;
        Ok(TestDaemon {
            queue: running.queue.clone(),
            db: prepared.db,
            dir: prepared.dir,
            config_path: prepared.config_path,
            running,
            http: reqwest::Client::new(),
        })
    }
}

impl Prepared {
    /// The directory `catalog.sync` payloads name their files in.
    pub fn inbox(&self) -> PathBuf {
        inbox_of(self.dir.path())
    }

    /// `switchyard run ARGS` on this config, logging to `log_name` in the directory.
    pub fn spawn(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        log_name: &str,
    ) -> anyhow::Result<Daemon> {
        Daemon::spawn(self.dir.path(), &self.db.url, args, env, log_name)
    }

    pub fn queue(&self) -> Queue {
        Queue::new(
            self.db.pool.clone(),
            Arc::new(switchyard_core::clock::SystemClock),
        )
    }

    pub async fn org(&self, slug: &str) -> anyhow::Result<OrgId> {
        Ok(switchyard_store::orgs::ensure(&self.db.pool, slug)
            .await?
            .id)
    }
}
