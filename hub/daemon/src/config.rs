//! Configuration: `switchyard.toml` (path overridable) layered under `SWITCHYARD_*` environment
//! variables with figment (`SWITCHYARD_DATABASE__URL` sets `database.url`).
//!
//! Unknown keys are errors everywhere except inside a partner's table, whose extra keys belong
//! to its adapter and are validated by that adapter's factory (also strictly).

use crate::diag::{Diagnostic, SourceFile};
use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchyard_store::queue::{RetryPolicy, RetrySpec};

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
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
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub url: String,
    pub max_connections: u32,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: std::env::var("DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/switchyard".into()),
            max_connections: 16,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ApiSection {
    /// Where the REST API listens (`127.0.0.1:0` picks a free port).
    pub bind: String,
    pub body_limit_bytes: usize,
    /// Requests per minute and burst per key tier (basic, standard, premium).
    pub rate_limits: switchyard_api::RateLimits,
    /// Field names masked in logged bodies on top of the built-in ones.
    pub sensitive_fields: Vec<String>,
}

impl Default for ApiSection {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            body_limit_bytes: 1024 * 1024,
            rate_limits: switchyard_api::RateLimits::default(),
            sensitive_fields: Vec::new(),
        }
    }
}

impl ApiSection {
    pub fn api_config(&self) -> switchyard_api::ApiConfig {
        switchyard_api::ApiConfig {
            body_limit_bytes: self.body_limit_bytes,
            rate_limits: self.rate_limits,
            sensitive_fields: self.sensitive_fields.clone(),
            edi_partners: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// Jobs executing at once in one process.
    pub concurrency: usize,
    /// Jobs claimed per round trip.
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
    pub dead_letter_days: i64,
    pub log_days: i64,
    pub succeeded_job_days: i64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            dead_letter_days: 30,
            log_days: 90,
            succeeded_job_days: 7,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PathsConfig {
    pub mappings: PathBuf,
    pub schedules: PathBuf,
}

impl Default for PathsConfig {
    fn default() -> Self {
        Self {
            mappings: "mappings".into(),
            schedules: "schedules".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SecretsConfig {
    /// Environment variable holding the base64 AES-256 key.
    pub key_env: String,
    /// Or a file holding it.
    pub key_file: Option<PathBuf>,
}

impl Default for SecretsConfig {
    fn default() -> Self {
        Self {
            key_env: "SWITCHYARD_SECRET_KEY".into(),
            key_file: None,
        }
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

/// A partner instance: its adapter kind, an optional retry override, and the adapter's own
/// settings (everything else in the table).
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
    pub fn settings_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.settings).unwrap_or(serde_json::Value::Null)
    }
}

impl Config {
    /// Names of the configured EDI trading partners (`[partners.NAME]` with `kind = "edi"`),
    /// for the API's `POST /edi/send`.
    pub fn edi_partner_names(&self) -> Vec<String> {
        self.partners
            .iter()
            .filter(|(_, p)| p.kind == "edi")
            .map(|(name, _)| name.clone())
            .collect()
    }

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
            .map_err(|e| Diagnostic::new(path, None, format!("{e}")))
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
        .map_err(|e| source.diagnostic_at(e.span().map(|s| s.start), e.message()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> SourceFile {
        SourceFile {
            path: "switchyard.toml".into(),
            text: text.into(),
        }
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
    fn edi_partner_names_are_the_partners_of_kind_edi() {
        let cfg = parse_str(&src(
            "[partners.shop]\nkind = \"http\"\n[partners.acme]\nkind = \"edi\"\n[partners.eurobuy]\nkind = \"edi\"\n",
        ))
        .unwrap();
        assert_eq!(cfg.edi_partner_names(), ["acme", "eurobuy"]);
    }

    #[test]
    fn partner_tables_keep_adapter_settings() {
        let cfg = parse_str(&src(
            "[partners.shop]\nkind = \"http\"\nbase_url = \"http://x\"\nretry = { policy = \"immediate\" }\n",
        ))
        .unwrap();
        let shop = &cfg.partners["shop"];
        assert_eq!(shop.kind, "http");
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
