//! The partner's config section (`[partners.NAME]` with `kind = "http"`): parsed strictly,
//! validated once, and turned into a [`ValidatedConfig`] whose credentials are already
//! resolved. Everything after this module works with typed, checked values.

use crate::secret::{redact_ref, Secret};
use base64::Engine as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;
use switchyard_core::adapter::{ConfigError, SecretResolver};
use switchyard_core::ids::PartnerName;

/// The adapter kind in `[partners.NAME] kind = "http"`.
pub const KIND: &str = "http";

pub const DEFAULT_PUSH_PATH: &str = "/v1/documents";
pub const DEFAULT_HEALTH_PATH: &str = "/healthz";
pub const DEFAULT_IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// Upper bound for `timeout_ms`: a job holds a 30 s lease by default, and a request that may
/// outlive several leases is a config mistake rather than a choice.
pub const MAX_TIMEOUT_MS: u64 = 300_000;

/// Headers the adapter sets itself; a static header may not override them.
const RESERVED_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "content-length",
    "host",
    "x-correlation-id",
];

/// The config section as written by the operator.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpAdapterConfig {
    /// Accepted so the daemon may pass the whole partner table; must be `http` when present.
    #[serde(default)]
    pub kind: Option<String>,
    /// Scheme, host, port and an optional path prefix, e.g. `https://api.partner.example/erp`.
    pub base_url: String,
    /// Where documents are sent, appended to `base_url`.
    #[serde(default = "default_push_path")]
    pub push_path: String,
    /// Where records are listed (`GET` with `cursor`); pulling is disabled without it.
    #[serde(default)]
    pub pull_path: Option<String>,
    /// Where `health` looks; `GET`, any 2xx is healthy.
    #[serde(default = "default_health_path")]
    pub health_path: String,
    #[serde(default)]
    pub method: PushMethod,
    #[serde(default)]
    pub auth: AuthConfig,
    /// The header carrying the job's idempotency key.
    #[serde(default = "default_idempotency_header")]
    pub idempotency_header: String,
    /// Whole-request timeout (connect, send, wait, read).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Static headers sent with every request (e.g. an API version).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Webhooks the partner sends to `POST /webhooks/{partner}`, signed the Standard Webhooks
    /// way; receiving is off without this table.
    #[serde(default)]
    pub webhooks: Option<WebhookConfig>,
    /// Client-side pacing below the partner's limit (`rate_limit = { per_second = 450,
    /// burst = 40 }`); without it requests go out as fast as jobs make them.
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
}

/// `[partners.NAME] rate_limit = { ... }`: how fast this process may call the partner.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained requests per second (a fraction for slower partners: 0.5 is one every 2 s).
    pub per_second: f64,
    /// Requests that may go out at once after a quiet spell; 1 (the default) paces every
    /// request evenly.
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// How many times a request answered 429 with `Retry-After` is sent again in the adapter,
    /// after the pause the partner asked for, before the job gets `RateLimited`.
    #[serde(default = "default_rate_limit_retries")]
    pub retries: u32,
    /// The longest `Retry-After` waited out in the adapter; a partner asking for more gets the
    /// job back in the queue at that time instead of a worker held waiting.
    #[serde(default = "default_max_wait_secs")]
    pub max_wait_secs: u64,
}

pub const DEFAULT_RATE_LIMIT_RETRIES: u32 = 3;
pub const MAX_RATE_LIMIT_RETRIES: u32 = 10;
pub const DEFAULT_MAX_WAIT_SECS: u64 = 60;
pub const MAX_MAX_WAIT_SECS: u64 = 3600;
/// Bounds of `per_second`: one request per 1,000 s up to a million a second (past that a
/// limiter is not what holds the client back).
pub const MIN_PER_SECOND: f64 = 0.001;
pub const MAX_PER_SECOND: f64 = 1_000_000.0;
pub const MAX_BURST: u32 = 100_000;

fn default_burst() -> u32 {
    1
}
fn default_rate_limit_retries() -> u32 {
    DEFAULT_RATE_LIMIT_RETRIES
}
fn default_max_wait_secs() -> u64 {
    DEFAULT_MAX_WAIT_SECS
}

/// The pacing settings, checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValidatedRateLimit {
    /// One request per `period` sustained.
    pub period: Duration,
    pub burst: NonZeroU32,
    pub retries: u32,
    pub max_wait: Duration,
}

/// `[partners.NAME.webhooks]`.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// A credential reference (`secret:NAME`, `env:VAR`) to the `whsec_…` signing secret.
    pub secret_ref: String,
    /// How far a delivery's timestamp may be from now (replay protection).
    #[serde(default = "default_tolerance_secs")]
    pub tolerance_secs: u64,
}

pub const DEFAULT_WEBHOOK_TOLERANCE_SECS: u64 = 300;

fn default_tolerance_secs() -> u64 {
    DEFAULT_WEBHOOK_TOLERANCE_SECS
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("secret_ref", &redact_ref(&self.secret_ref))
            .field("tolerance_secs", &self.tolerance_secs)
            .finish()
    }
}

/// The webhook settings, checked, with the key resolved.
#[derive(Clone, Debug)]
pub struct ValidatedWebhooks {
    pub key: crate::webhook::WebhookKey,
    pub tolerance: Duration,
}

fn default_push_path() -> String {
    DEFAULT_PUSH_PATH.to_owned()
}
fn default_health_path() -> String {
    DEFAULT_HEALTH_PATH.to_owned()
}
fn default_idempotency_header() -> String {
    DEFAULT_IDEMPOTENCY_HEADER.to_owned()
}
fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}

impl fmt::Debug for HttpAdapterConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpAdapterConfig")
            .field("base_url", &self.base_url)
            .field("push_path", &self.push_path)
            .field("pull_path", &self.pull_path)
            .field("health_path", &self.health_path)
            .field("method", &self.method)
            .field("auth", &self.auth)
            .field("idempotency_header", &self.idempotency_header)
            .field("timeout_ms", &self.timeout_ms)
            // Static headers may carry an API key someone pasted in; show names only.
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("webhooks", &self.webhooks)
            .field("rate_limit", &self.rate_limit)
            .finish()
    }
}

/// The HTTP method used to push documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum PushMethod {
    #[default]
    #[serde(rename = "POST", alias = "post")]
    Post,
    #[serde(rename = "PUT", alias = "put")]
    Put,
}

impl PushMethod {
    pub fn as_method(self) -> Method {
        match self {
            PushMethod::Post => Method::POST,
            PushMethod::Put => Method::PUT,
        }
    }
}

/// How the adapter authenticates. `*_ref` fields are credential references (`secret:NAME`,
/// `env:VAR`) resolved through the daemon's [`SecretResolver`] when the adapter is built.
#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthConfig {
    #[default]
    None,
    /// `Authorization: Bearer <token>`.
    Bearer { token_ref: String },
    /// `Authorization: Basic base64(username:password)`.
    Basic {
        username: String,
        password_ref: String,
    },
    /// A custom header such as `X-Api-Key: <value>`.
    Header { name: String, value_ref: String },
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthConfig::None => f.write_str("None"),
            AuthConfig::Bearer { token_ref } => f
                .debug_struct("Bearer")
                .field("token_ref", &redact_ref(token_ref))
                .finish(),
            AuthConfig::Basic {
                username,
                password_ref,
            } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password_ref", &redact_ref(password_ref))
                .finish(),
            AuthConfig::Header { name, value_ref } => f
                .debug_struct("Header")
                .field("name", name)
                .field("value_ref", &redact_ref(value_ref))
                .finish(),
        }
    }
}

/// The auth header to send, with its credential resolved. Marked sensitive so hyper/reqwest
/// never print it either.
#[derive(Clone)]
pub struct ResolvedAuth {
    header: Option<(HeaderName, HeaderValue)>,
    /// The raw credential, kept only so tests and the conformance suite can assert it never
    /// reaches an exchange record.
    secret: Option<Secret>,
}

impl ResolvedAuth {
    pub fn header(&self) -> Option<(&HeaderName, &HeaderValue)> {
        self.header.as_ref().map(|(n, v)| (n, v))
    }

    pub fn secret(&self) -> Option<&Secret> {
        self.secret.as_ref()
    }
}

impl fmt::Debug for ResolvedAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.header {
            None => f.write_str("ResolvedAuth(none)"),
            Some((name, _)) => write!(f, "ResolvedAuth({name}: <redacted>)"),
        }
    }
}

/// Everything the adapter needs, checked and resolved.
#[derive(Clone, Debug)]
pub struct ValidatedConfig {
    pub base_url: Url,
    pub push_url: Url,
    pub pull_url: Option<Url>,
    pub health_url: Url,
    pub method: PushMethod,
    pub auth: ResolvedAuth,
    pub idempotency_header: HeaderName,
    pub timeout: Duration,
    /// Static headers; values marked sensitive because they may hold keys.
    pub headers: HeaderMap,
    pub webhooks: Option<ValidatedWebhooks>,
    pub rate_limit: Option<ValidatedRateLimit>,
}

/// Builds [`ConfigError`]s that name the partner and the field.
struct Problem<'a> {
    partner: &'a PartnerName,
}

impl Problem<'_> {
    fn at(&self, field: &str, message: impl fmt::Display) -> ConfigError {
        ConfigError::new(self.partner.to_string(), format!("{field}: {message}")).at_key(field)
    }
}

impl HttpAdapterConfig {
    /// Parse the partner's section strictly: unknown keys are errors naming the key and where.
    pub fn from_json(
        partner: &PartnerName,
        value: &serde_json::Value,
    ) -> Result<Self, ConfigError> {
        switchyard_runtime::partner_config::parse_strict(partner, "http adapter config", value)
    }

    /// Check every field and resolve credentials. Pure apart from the resolver.
    pub fn validate(
        &self,
        partner: &PartnerName,
        secrets: &dyn SecretResolver,
    ) -> Result<ValidatedConfig, ConfigError> {
        let p = Problem { partner };
        if let Some(kind) = &self.kind {
            if kind != "http" {
                return Err(p.at("kind", format!("expected `http`, found `{kind}`")));
            }
        }
        let base_url = parse_base_url(&self.base_url).map_err(|m| p.at("base_url", m))?;
        let push_url = join(&base_url, &self.push_path).map_err(|m| p.at("push_path", m))?;
        let pull_url = match &self.pull_path {
            Some(path) => Some(join(&base_url, path).map_err(|m| p.at("pull_path", m))?),
            None => None,
        };
        let health_url = join(&base_url, &self.health_path).map_err(|m| p.at("health_path", m))?;

        one_to(MAX_TIMEOUT_MS, self.timeout_ms, "timeout_ms", &p)?;

        let idempotency_header = HeaderName::from_bytes(self.idempotency_header.as_bytes())
            .map_err(|_| {
                p.at(
                    "idempotency_header",
                    format!("`{}` is not a valid header name", self.idempotency_header),
                )
            })?;
        if RESERVED_HEADERS.contains(&idempotency_header.as_str()) {
            return Err(p.at(
                "idempotency_header",
                format!("`{idempotency_header}` is set by the adapter itself"),
            ));
        }

        let auth = resolve_auth(&self.auth, secrets, &p)?;

        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let field = format!("headers.{name}");
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| p.at(&field, "not a valid header name"))?;
            if RESERVED_HEADERS.contains(&header.as_str()) || header == idempotency_header {
                return Err(p.at(
                    &field,
                    "this header is set by the adapter itself (use `auth` for credentials)",
                ));
            }
            if auth.header().is_some_and(|(n, _)| *n == header) {
                return Err(p.at(&field, "this header is the auth header"));
            }
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| p.at(&field, "value has characters not allowed in a header"))?;
            value.set_sensitive(true);
            headers.insert(header, value);
        }

        let webhooks = match &self.webhooks {
            None => None,
            Some(w) => {
                one_to(3600, w.tolerance_secs, "webhooks.tolerance_secs", &p)?;
                let secret = resolve(secrets, &w.secret_ref, "webhooks.secret_ref", &p)?;
                let key = crate::webhook::WebhookKey::parse(secret.expose())
                    .map_err(|m| p.at("webhooks.secret_ref", m))?;
                Some(ValidatedWebhooks {
                    key,
                    tolerance: Duration::from_secs(w.tolerance_secs),
                })
            }
        };

        let rate_limit = match &self.rate_limit {
            None => None,
            Some(r) => Some(validate_rate_limit(r, &p)?),
        };

        Ok(ValidatedConfig {
            base_url,
            push_url,
            pull_url,
            health_url,
            method: self.method,
            auth,
            idempotency_header,
            timeout: Duration::from_millis(self.timeout_ms),
            headers,
            webhooks,
            rate_limit,
        })
    }
}

/// `value` must be in `1..=max`.
fn one_to(max: u64, value: u64, field: &str, p: &Problem<'_>) -> Result<(), ConfigError> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        Err(p.at(field, format!("must be between 1 and {max}, found {value}")))
    }
}

fn validate_rate_limit(
    r: &RateLimitConfig,
    p: &Problem<'_>,
) -> Result<ValidatedRateLimit, ConfigError> {
    // `contains` is false for NaN, so a NaN is refused here too.
    if !(MIN_PER_SECOND..=MAX_PER_SECOND).contains(&r.per_second) {
        return Err(p.at(
            "rate_limit.per_second",
            format!(
                "must be between {MIN_PER_SECOND} and {MAX_PER_SECOND} requests per second, found {}",
                r.per_second
            ),
        ));
    }
    let burst = NonZeroU32::new(r.burst)
        .filter(|b| b.get() <= MAX_BURST)
        .ok_or_else(|| {
            p.at(
                "rate_limit.burst",
                format!("must be between 1 and {MAX_BURST}, found {}", r.burst),
            )
        })?;
    if r.retries > MAX_RATE_LIMIT_RETRIES {
        return Err(p.at(
            "rate_limit.retries",
            format!(
                "must be at most {MAX_RATE_LIMIT_RETRIES}, found {}",
                r.retries
            ),
        ));
    }
    one_to(
        MAX_MAX_WAIT_SECS,
        r.max_wait_secs,
        "rate_limit.max_wait_secs",
        p,
    )?;
    Ok(ValidatedRateLimit {
        period: Duration::from_secs_f64(1.0 / r.per_second),
        burst,
        retries: r.retries,
        max_wait: Duration::from_secs(r.max_wait_secs),
    })
}

fn parse_base_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("`{raw}` is not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "scheme must be http or https, found `{}`",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".to_owned());
    }
    // Credentials in a URL end up in logs and exchange records; they belong in `auth`.
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials in the URL are not allowed (use `auth`)".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the base URL may not have a query or fragment".to_owned());
    }
    Ok(url)
}

/// Append `path` to the base URL's path. `Url::join` would drop a base path prefix
/// (`https://host/erp` + `/v1/documents` → `https://host/v1/documents`), so concatenate.
fn join(base: &Url, path: &str) -> Result<Url, String> {
    if !path.starts_with('/') {
        return Err(format!("`{path}` must start with `/`"));
    }
    if path.contains(['?', '#']) {
        return Err(format!("`{path}` may not contain a query or fragment"));
    }
    let joined = format!("{}{}", base.as_str().trim_end_matches('/'), path);
    Url::parse(&joined).map_err(|e| format!("`{path}` does not make a valid URL ({e})"))
}

fn resolve(
    secrets: &dyn SecretResolver,
    reference: &str,
    field: &str,
    p: &Problem<'_>,
) -> Result<Secret, ConfigError> {
    if reference.trim().is_empty() {
        return Err(p.at(field, "credential reference is empty"));
    }
    let value = secrets.resolve(reference).map_err(|e| {
        // The resolver may echo the reference, which could be a pasted credential.
        let reason = e.message.replace(reference, redact_ref(reference));
        p.at(
            field,
            format!("cannot resolve `{}`: {reason}", redact_ref(reference)),
        )
    })?;
    if value.is_empty() {
        return Err(p.at(
            field,
            format!("`{}` resolved to an empty value", redact_ref(reference)),
        ));
    }
    Ok(Secret::new(value))
}

fn sensitive(value: String, field: &str, p: &Problem<'_>) -> Result<HeaderValue, ConfigError> {
    let mut v = HeaderValue::try_from(value).map_err(|_| {
        p.at(
            field,
            "the credential has characters not allowed in a header",
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

fn resolve_auth(
    auth: &AuthConfig,
    secrets: &dyn SecretResolver,
    p: &Problem<'_>,
) -> Result<ResolvedAuth, ConfigError> {
    let authorization = reqwest::header::AUTHORIZATION;
    match auth {
        AuthConfig::None => Ok(ResolvedAuth {
            header: None,
            secret: None,
        }),
        AuthConfig::Bearer { token_ref } => {
            let token = resolve(secrets, token_ref, "auth.token_ref", p)?;
            let value = sensitive(format!("Bearer {}", token.expose()), "auth.token_ref", p)?;
            Ok(ResolvedAuth {
                header: Some((authorization, value)),
                secret: Some(token),
            })
        }
        AuthConfig::Basic {
            username,
            password_ref,
        } => {
            if username.contains(':') {
                return Err(p.at("auth.username", "may not contain `:` (RFC 7617)"));
            }
            let password = resolve(secrets, password_ref, "auth.password_ref", p)?;
            let encoded = base64::engine::general_purpose::STANDARD
                .encode(format!("{username}:{}", password.expose()));
            // What goes over the wire is `user:password` encoded: mask that too, in case the
            // partner echoes our header back in an error.
            secrets.mask_also(&encoded);
            let value = sensitive(format!("Basic {encoded}"), "auth.password_ref", p)?;
            Ok(ResolvedAuth {
                header: Some((authorization, value)),
                secret: Some(password),
            })
        }
        AuthConfig::Header { name, value_ref } => {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| p.at("auth.name", format!("`{name}` is not a valid header name")))?;
            if RESERVED_HEADERS.contains(&header.as_str()) && header != authorization {
                return Err(p.at(
                    "auth.name",
                    format!("`{header}` is set by the adapter itself"),
                ));
            }
            let secret = resolve(secrets, value_ref, "auth.value_ref", p)?;
            let value = sensitive(secret.expose().to_owned(), "auth.value_ref", p)?;
            Ok(ResolvedAuth {
                header: Some((header, value)),
                secret: Some(secret),
            })
        }
    }
}
