//! Configuration: `switchyard.toml` (path overridable) layered under `SWITCHYARD_*` environment
//! variables with figment (`SWITCHYARD_DATABASE__URL` sets `database.url`).
//!
//! The hub's own sections (`database`, `api`, `queue`, `retention`, `paths`, `secrets`,
//! `jobs`, `webhooks`) are strict: an unknown key is an error naming it. `[partners.NAME]` tables belong to
//! the integration that owns their `kind`, and any other top-level section to the integration
//! that declares it (`Integration::sections`); each integration parses its own strictly
//! through [`crate::section`], and a section nobody owns is reported by the start-up and
//! `check` loops.

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchyard_core::diag::{Diagnostic, SourceFile};
use switchyard_store::queue::{RetryPolicy, RetrySpec};

/// The top-level keys the hub itself reads; everything else is an integration's section.
pub const HUB_SECTIONS: [&str; 12] = [
    "database",
    "api",
    "queue",
    "retention",
    "paths",
    "secrets",
    "jobs",
    "partners",
    "sync",
    "pull",
    "suppliers",
    "webhooks",
];

/// The whole configuration. Deserialized by hand (see the `Deserialize` impl below) rather
/// than with `#[serde(flatten)]`, because flattening buffers the input and loses the spans
/// that locate a typo in `[queue]` at its line and column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub database: DatabaseConfig,
    pub api: ApiSection,
    pub queue: QueueConfig,
    pub retention: RetentionConfig,
    pub paths: PathsConfig,
    pub secrets: SecretsConfig,
    /// Retry policy per job kind (`[jobs."partner.push"]`).
    pub jobs: BTreeMap<String, RetryConfig>,
    /// One table per partner instance.
    pub partners: BTreeMap<String, PartnerConfig>,
    /// The syncs of the sync engine: `[sync.PARTNER.ENTITY]` (entity `catalog`, `inventory`
    /// or `prices`), see [`crate::sync::config`].
    pub sync: crate::sync::config::SyncSection,
    /// The scheduled pulls from partners into the core catalog: `[pull.PARTNER.ENTITY]`
    /// (entity `products`, `inventory` or `prices`), see [`crate::pull::config`].
    pub pull: crate::pull::config::PullSection,
    /// Which supplier serves each organization: `[suppliers.ORG]`, see
    /// [`crate::supplier::config`].
    pub suppliers: crate::supplier::config::SuppliersSection,
    /// Outbound webhooks: `allow_http_hosts`, `allow_private` (the SSRF guard's exceptions),
    /// `secret_overlap_secs`, `timeout_ms`.
    pub webhooks: switchyard_api::outbound::WebhookSettings,
    /// Every other top-level table, kept for the integration that declares it.
    pub sections: BTreeMap<String, toml::Value>,
}

impl<'de> Deserialize<'de> for Config {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Tables;
        impl<'de> serde::de::Visitor<'de> for Tables {
            type Value = Config;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table of configuration sections")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Config, A::Error> {
                let mut c = Config::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "database" => c.database = map.next_value()?,
                        "api" => c.api = map.next_value()?,
                        "queue" => c.queue = map.next_value()?,
                        "retention" => c.retention = map.next_value()?,
                        "paths" => c.paths = map.next_value()?,
                        "secrets" => c.secrets = map.next_value()?,
                        "jobs" => c.jobs = map.next_value()?,
                        "partners" => c.partners = map.next_value()?,
                        "sync" => c.sync = map.next_value()?,
                        "pull" => c.pull = map.next_value()?,
                        "suppliers" => c.suppliers = map.next_value()?,
                        "webhooks" => c.webhooks = map.next_value()?,
                        _ => {
                            let value = map.next_value::<toml::Value>()?;
                            c.sections.insert(key, value);
                        }
                    }
                }
                Ok(c)
            }
        }
        deserializer.deserialize_map(Tables)
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub url: String,
    pub max_connections: u32,
    /// How long a query waits for a connection (connecting included) before it fails; while
    /// the database is unreachable every retry of the worker waits this long.
    pub acquire_timeout_ms: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: std::env::var("DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/switchyard".into()),
            max_connections: 16,
            acquire_timeout_ms: 10_000,
        }
    }
}

impl DatabaseConfig {
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.acquire_timeout_ms.max(1))
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ApiSection {
    /// Where the REST API listens (`127.0.0.1:0` picks a free port).
    #[serde(deserialize_with = "socket_address")]
    pub bind: String,
    pub body_limit_bytes: usize,
    /// An import upload (`POST /api/v1/imports`) may be this large (10 MiB by default).
    pub import_limit_bytes: usize,
    /// Requests per minute and burst per key tier (basic, standard, premium), and per client
    /// address for requests without a valid key (unauthenticated).
    pub rate_limits: switchyard_api::RateLimits,
    /// Field names masked in logged bodies on top of the built-in ones.
    pub sensitive_fields: Vec<String>,
    /// A connection whose request headers take longer is closed.
    pub header_read_timeout_ms: u64,
    /// A request body that pauses longer is answered 408.
    pub body_read_timeout_ms: u64,
    /// A request not answered within this (body included) is answered 408.
    pub request_timeout_ms: u64,
}

impl Default for ApiSection {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            body_limit_bytes: 1024 * 1024,
            import_limit_bytes: 10 * 1024 * 1024,
            rate_limits: switchyard_api::RateLimits::default(),
            sensitive_fields: Vec::new(),
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 15_000,
            request_timeout_ms: 60_000,
        }
    }
}

impl ApiSection {
    pub fn api_config(&self) -> switchyard_api::ApiConfig {
        switchyard_api::ApiConfig {
            body_limit_bytes: self.body_limit_bytes,
            import_limit_bytes: self.import_limit_bytes,
            rate_limits: self.rate_limits,
            sensitive_fields: self.sensitive_fields.clone(),
            timeouts: switchyard_api::Timeouts {
                header_read: Duration::from_millis(self.header_read_timeout_ms),
                body_read: Duration::from_millis(self.body_read_timeout_ms),
                request: Duration::from_millis(self.request_timeout_ms),
            },
            // The `[webhooks]` section, not `[api]`: the daemon sets it from `Config::webhooks`.
            webhooks: switchyard_api::outbound::WebhookSettings::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// Jobs executing at once in one process.
    #[serde(deserialize_with = "at_least_one")]
    pub concurrency: usize,
    /// Jobs claimed per round trip.
    #[serde(deserialize_with = "at_least_one")]
    pub claim_batch: i64,
    pub lease_secs: u64,
    /// Fallback poll when no NOTIFY arrives (retries coming due, lost notifications).
    pub poll_interval_ms: u64,
    /// How long in-flight jobs may finish after SIGTERM before they are released.
    pub shutdown_grace_secs: u64,
    /// How often expired leases are looked for.
    pub rescue_interval_ms: u64,
    pub default_retry: RetryPolicy,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            concurrency: 256,
            claim_batch: 256,
            lease_secs: 30,
            poll_interval_ms: 250,
            shutdown_grace_secs: 20,
            rescue_interval_ms: 1000,
            default_retry: RetryPolicy::Exponential,
        }
    }
}

impl QueueConfig {
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs.max(1))
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    // At least a day each: 0 or less would put the cut-off at or after now, and the next
    // cleanup would delete every row, the dead letter that failed a second ago included.
    #[serde(deserialize_with = "at_least_one")]
    pub dead_letter_days: i64,
    #[serde(deserialize_with = "at_least_one")]
    pub log_days: i64,
    #[serde(deserialize_with = "at_least_one")]
    pub succeeded_job_days: i64,
    /// Inbound webhook deliveries (their raw bodies), and the outbound events and delivery
    /// attempts.
    #[serde(deserialize_with = "at_least_one")]
    pub webhook_delivery_days: i64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            dead_letter_days: 30,
            log_days: 90,
            succeeded_job_days: 7,
            webhook_delivery_days: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PathsConfig {
    pub mappings: PathBuf,
    pub schedules: PathBuf,
    /// The one directory job payloads may name input files in (`catalog.sync`'s `source` is
    /// relative to it); nothing outside it is read on an API caller's behalf.
    pub inbox: PathBuf,
    /// The largest input file a job reads.
    #[serde(deserialize_with = "at_least_one")]
    pub inbox_max_bytes: u64,
    /// How long reading one input file may take.
    #[serde(deserialize_with = "at_least_one")]
    pub inbox_read_timeout_secs: u64,
    /// Where `export.run` writes export files (created when missing); every process that
    /// serves downloads must see the same directory.
    pub exports: PathBuf,
}

impl Default for PathsConfig {
    fn default() -> Self {
        Self {
            mappings: "mappings".into(),
            schedules: "schedules".into(),
            inbox: "var/inbox".into(),
            inbox_max_bytes: 256 * 1024 * 1024,
            inbox_read_timeout_secs: 60,
            exports: "var/exports".into(),
        }
    }
}

impl PathsConfig {
    /// The inbox with its limits.
    pub fn inbox(&self) -> crate::inbox::Inbox {
        crate::inbox::Inbox::new(
            self.inbox.clone(),
            self.inbox_max_bytes,
            Duration::from_secs(self.inbox_read_timeout_secs),
        )
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SecretsConfig {
    /// Environment variable holding the base64 AES-256 key.
    pub key_env: String,
    /// Or a file holding it.
    pub key_file: Option<PathBuf>,
    /// Environment variable holding keys that were current before (base64, comma separated):
    /// webhook endpoints' secrets sealed with them still open, and the daemon re-seals them
    /// with the current key at start. Rotating: make the new key current, the old one
    /// previous, start, then drop the old one.
    pub previous_key_env: String,
    /// Or files holding such keys, one per file.
    pub previous_key_files: Vec<PathBuf>,
}

impl Default for SecretsConfig {
    fn default() -> Self {
        Self {
            key_env: "SWITCHYARD_SECRET_KEY".into(),
            key_file: None,
            previous_key_env: "SWITCHYARD_SECRET_KEY_PREVIOUS".into(),
            previous_key_files: Vec::new(),
        }
    }
}

/// A number that must be 1 or more: `concurrency = 0` is refused where it is written rather
/// than quietly run as 1. The error is raised inside the value's deserializer, so the parser
/// locates it at the value.
fn at_least_one<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + TryFrom<u8> + PartialOrd + std::fmt::Display,
{
    let value = T::deserialize(d)?;
    match T::try_from(1) {
        Ok(one) if value >= one => Ok(value),
        _ => Err(serde::de::Error::custom(format!(
            "must be at least 1, not {value}"
        ))),
    }
}

/// `host:port` with a numeric port: an IP address (`127.0.0.1:8080`, `[::1]:8080`), or a host
/// name that is resolved when the API binds. Checked when the file is read, so `check` and
/// start refuse `bind = "not an address"` at its line instead of at bind time.
fn socket_address<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    if text.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(text);
    }
    let host_name_ok = |h: &str| {
        !h.is_empty()
            && h.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    };
    match text.rsplit_once(':') {
        Some((host, port)) if host_name_ok(host) && port.parse::<u16>().is_ok() => Ok(text),
        _ => Err(serde::de::Error::custom(format!(
            "`{text}` is not a socket address: write host:port, e.g. `127.0.0.1:8080` or `[::1]:8080`"
        ))),
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    pub policy: RetryPolicy,
    pub max_attempts: Option<i32>,
}

impl RetryConfig {
    pub fn spec(&self) -> RetrySpec {
        RetrySpec {
            policy: self.policy,
            max_attempts: self
                .max_attempts
                .unwrap_or(self.policy.default_max_attempts()),
        }
    }
}

/// A partner instance: the kind of partner system it is (which integration owns it), an
/// optional retry override, the organization whose secrets it uses, and the integration's
/// own settings (everything else in the table).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct PartnerConfig {
    pub kind: String,
    #[serde(default)]
    pub retry: Option<RetryConfig>,
    /// The organization whose stored secrets this partner's `secret:` references name.
    #[serde(default = "default_org")]
    pub org: String,
    #[serde(flatten)]
    pub settings: BTreeMap<String, toml::Value>,
}

fn default_org() -> String {
    "default".into()
}

impl PartnerConfig {
    /// A partner of `kind` with `settings` (tests and the demo build configs in code).
    pub fn new(kind: &str, settings: toml::Table) -> Self {
        Self {
            kind: kind.to_owned(),
            retry: None,
            org: default_org(),
            settings: settings.into_iter().collect(),
        }
    }

    pub fn org(mut self, org: &str) -> Self {
        self.org = org.to_owned();
        self
    }

    pub fn settings_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.settings).unwrap_or(serde_json::Value::Null)
    }

    pub fn settings_toml(&self) -> toml::Value {
        toml::Value::Table(self.settings.clone().into_iter().collect())
    }
}

impl Config {
    /// Load from `path` (if it exists) and the environment. A missing file is fine: defaults
    /// and environment variables alone make a valid config.
    pub fn load(path: &Path) -> Result<Config, Diagnostic> {
        if path.exists() {
            // Parse the file alone first so syntax errors come with line and column.
            let source = SourceFile::read(path)?;
            parse_str(&source)?;
        }
        Figment::new()
            .merge(Toml::file(path))
            .merge(Env::prefixed("SWITCHYARD_").split("__").ignore(&[
                "secret_key",
                "config",
                "log",
            ]))
            .extract()
            .map_err(|e| {
                let text = e.to_string();
                let first = text.lines().next().unwrap_or_default().to_owned();
                Diagnostic::in_file(path, first)
            })
    }

    /// The retry spec for a job kind sent to a partner: partner override, then kind, then default.
    pub fn retry_for(&self, kind: &str, partner: Option<&str>) -> RetrySpec {
        if let Some(r) = partner
            .and_then(|p| self.partners.get(p))
            .and_then(|p| p.retry)
        {
            return r.spec();
        }
        if let Some(r) = self.jobs.get(kind) {
            return r.spec();
        }
        RetrySpec::of(self.queue.default_retry)
    }
}

/// Parse a config file's text strictly, reporting the first problem with its line and column.
pub fn parse_str(source: &SourceFile) -> Result<Config, Diagnostic> {
    toml::from_str::<Config>(&source.text)
        .map_err(|e| source.diagnostic_at(e.span().map(|s| s.start), e.message().trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> SourceFile {
        SourceFile::new("switchyard.toml", text)
    }

    #[test]
    fn unknown_keys_are_errors_with_line_and_column() {
        let err = parse_str(&src("[queue]\nconcurrency = 4\nconcurency = 5\n")).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("switchyard.toml:3:1: "), "{text}");
        assert!(text.contains("concurency"), "{text}");
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = parse_str(&src("[database]\nurl = \"postgres://x\n")).unwrap_err();
        assert!(err.to_string().starts_with("switchyard.toml:2:"), "{err}");
    }

    #[test]
    fn wrong_types_are_located() {
        let err = parse_str(&src("[queue]\nlease_secs = \"thirty\"\n")).unwrap_err();
        assert!(err.to_string().starts_with("switchyard.toml:2:"), "{err}");
    }

    #[test]
    fn values_the_daemon_cannot_use_are_located_errors() {
        for (text, at, says) in [
            (
                "[api]\nbind = \"not an address\"\n",
                "switchyard.toml:2:8: ",
                "`not an address` is not a socket address",
            ),
            (
                "[queue]\nconcurrency = 0\n",
                "switchyard.toml:2:15: ",
                "must be at least 1, not 0",
            ),
            (
                "[retention]\nlog_days = 90\ndead_letter_days = -1\n",
                "switchyard.toml:3:20: ",
                "must be at least 1, not -1",
            ),
            (
                "[paths]\ninbox_max_bytes = 0\n",
                "switchyard.toml:2:19: ",
                "must be at least 1, not 0",
            ),
        ] {
            let err = parse_str(&src(text)).unwrap_err().to_string();
            assert!(err.starts_with(at), "{text}: {err}");
            assert!(err.contains(says), "{text}: {err}");
        }
        for bind in [
            "127.0.0.1:0",
            "[::1]:8080",
            "localhost:8080",
            "api.internal:443",
        ] {
            let cfg = parse_str(&src(&format!("[api]\nbind = {bind:?}\n"))).unwrap();
            assert_eq!(cfg.api.bind, bind);
        }
    }

    #[test]
    fn the_inbox_has_a_default_and_limits() {
        let cfg = parse_str(&src("[paths]\ninbox = \"/srv/in\"\n")).unwrap();
        assert_eq!(cfg.paths.inbox, Path::new("/srv/in"));
        assert_eq!(cfg.paths.inbox_max_bytes, 256 * 1024 * 1024);
        assert_eq!(Config::default().paths.inbox, Path::new("var/inbox"));
    }

    #[test]
    fn other_top_level_tables_are_kept_for_their_integration() {
        let cfg = parse_str(&src(
            "[queue]\nconcurrency = 4\n[probe]\ngreeting = \"hi\"\n",
        ))
        .unwrap();
        assert_eq!(cfg.queue.concurrency, 4);
        assert_eq!(cfg.sections["probe"]["greeting"].as_str(), Some("hi"));
        assert!(!cfg.sections.contains_key("queue"));
    }

    #[test]
    fn partner_tables_keep_their_settings() {
        let cfg = parse_str(&src(
            "[partners.shop]\nkind = \"http\"\nbase_url = \"http://x\"\nretry = { policy = \"immediate\" }\n",
        ))
        .unwrap();
        let shop = &cfg.partners["shop"];
        assert_eq!(shop.kind, "http");
        assert_eq!(shop.org, "default");
        assert_eq!(shop.settings_json()["base_url"], "http://x");
        assert_eq!(
            cfg.retry_for("partner.push", Some("shop")),
            RetrySpec::of(RetryPolicy::Immediate)
        );
        assert_eq!(
            cfg.retry_for("partner.push", None),
            RetrySpec::of(RetryPolicy::Exponential)
        );
    }

    #[test]
    fn job_kind_retry_overrides_the_default() {
        let cfg = parse_str(&src("[jobs.\"catalog.sync\"]\npolicy = \"manual\"\n")).unwrap();
        assert_eq!(
            cfg.retry_for("catalog.sync", None).policy,
            RetryPolicy::Manual
        );
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own (large) error type
    fn environment_overrides_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("switchyard.toml", "[queue]\nconcurrency = 4\n")?;
            jail.set_env("SWITCHYARD_QUEUE__CONCURRENCY", "9");
            jail.set_env("SWITCHYARD_DATABASE__URL", "postgres://elsewhere/db");
            let cfg = Config::load(Path::new("switchyard.toml")).map_err(|e| e.to_string())?;
            assert_eq!(cfg.queue.concurrency, 9);
            assert_eq!(cfg.database.url, "postgres://elsewhere/db");
            Ok(())
        });
    }
}
