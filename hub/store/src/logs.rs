//! Integration logs: one row per partner exchange, API call or webhook.
//!
//! Bodies are masked before they are written ([`Masker`]); listing is keyset-paginated on
//! `(at, id)` newest first, so a page costs the same however deep the cursor is; full-text
//! search uses the generated `search` tsvector (the `simple` configuration: partner payloads
//! are SKUs, ids and mixed languages, where stemming would only hurt).

use crate::db::{Result, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgPool, Postgres, QueryBuilder};
use std::borrow::Cow;
use std::collections::HashSet;
use std::str::FromStr;
use switchyard_core::ids::{JobId, LogId, OrgId};
use switchyard_core::redact::SecretValues;
use uuid::Uuid;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(StoreError::Invalid(format!(
                        concat!("unknown ", stringify!($name), " `{}` (known: {})"),
                        other,
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }
    };
}

text_enum!(
    /// Where the exchange happened.
    IntegrationType {
        Api => "api",
        Webhook => "webhook",
        Edi => "edi",
        Adapter => "adapter",
        Import => "import",
        Export => "export",
    }
);

text_enum!(Direction { Inbound => "inbound", Outbound => "outbound" });

text_enum!(LogStatus { Success => "success", Warning => "warning", Error => "error" });

/// A row to write. Bodies are masked on insert.
#[derive(Debug, Clone)]
pub struct NewLogEntry {
    pub org: Option<OrgId>,
    pub at: DateTime<Utc>,
    pub integration_type: IntegrationType,
    pub event_type: String,
    pub direction: Direction,
    pub status: LogStatus,
    pub http_status: Option<i32>,
    pub request_body: Option<Value>,
    pub response_body: Option<Value>,
    pub error_message: Option<String>,
    pub partner: Option<String>,
    pub job_id: Option<JobId>,
    pub retry_count: Option<i32>,
    pub correlation_id: Option<String>,
    pub duration_ms: Option<i32>,
}

impl NewLogEntry {
    /// A minimal entry; fill the optional fields with struct update syntax.
    pub fn new(
        org: Option<OrgId>,
        integration_type: IntegrationType,
        event_type: impl Into<String>,
        direction: Direction,
        status: LogStatus,
    ) -> Self {
        Self {
            org,
            at: Utc::now(),
            integration_type,
            event_type: event_type.into(),
            direction,
            status,
            http_status: None,
            request_body: None,
            response_body: None,
            error_message: None,
            partner: None,
            job_id: None,
            retry_count: None,
            correlation_id: None,
            duration_ms: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogRow {
    pub id: LogId,
    pub org_id: Option<OrgId>,
    pub at: DateTime<Utc>,
    pub integration_type: IntegrationType,
    pub event_type: String,
    pub direction: Direction,
    pub status: LogStatus,
    pub http_status: Option<i32>,
    pub request_body: Option<Value>,
    pub response_body: Option<Value>,
    pub error_message: Option<String>,
    pub partner: Option<String>,
    pub job_id: Option<JobId>,
    pub retry_count: Option<i32>,
    pub correlation_id: Option<String>,
    pub duration_ms: Option<i32>,
}

/// Replaces the values of sensitive fields in JSON bodies with `"***"`, at any depth.
///
/// A key is sensitive when its normalised form (lowercase, `-`/`_`/spaces removed) contains
/// one of the built-in fragments (`password`, `secret`, `token`, `authorization`, `apikey`,
/// ...) — which catches `client_secret`, `X-Api-Key`, `accessToken` — or equals a configured
/// name (for partner-specific fields such as `iban`).
///
/// With [`Masker::with_values`] it also masks the daemon's known credential values wherever
/// they occur in a string (a partner echoing our token in its error message).
#[derive(Debug, Clone, Default)]
pub struct Masker {
    extra: HashSet<String>,
    values: SecretValues,
}

pub use switchyard_core::redact::MASK;

const SENSITIVE_FRAGMENTS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "apikey",
    "credential",
    "privatekey",
    "cookie",
    "signature",
];

fn normalise(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' ' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

impl Masker {
    /// The built-in fragments plus these configured field names.
    pub fn with_fields<I, S>(fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self {
            extra: fields.into_iter().map(|f| normalise(f.as_ref())).collect(),
            values: SecretValues::default(),
        }
    }

    /// Also mask these credential values in every string.
    pub fn with_values(mut self, values: SecretValues) -> Self {
        self.values = values;
        self
    }

    /// `text` with every known credential value masked.
    pub fn mask_text(&self, text: &str) -> String {
        self.values.redact(text).into_owned()
    }

    pub fn is_sensitive(&self, key: &str) -> bool {
        let key = normalise(key);
        self.extra.contains(&key) || SENSITIVE_FRAGMENTS.iter().any(|f| key.contains(f))
    }

    /// Mask in place.
    pub fn mask(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map.iter_mut() {
                    if self.is_sensitive(key) {
                        if !inner.is_null() {
                            *inner = Value::String(MASK.to_owned());
                        }
                    } else {
                        self.mask(inner);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.mask(v)),
            Value::String(text) => {
                if let Cow::Owned(masked) = self.values.redact(text) {
                    *text = masked;
                }
            }
            _ => {}
        }
    }

    pub fn masked(&self, mut value: Value) -> Value {
        self.mask(&mut value);
        value
    }
}

/// `mask_json(value, names)`: a masked copy with the built-in fragments plus `names`.
pub fn mask_json(value: &Value, sensitive_fields: &[&str]) -> Value {
    Masker::with_fields(sensitive_fields).masked(value.clone())
}

/// Write one entry (bodies masked). Returns its id.
pub async fn insert(pool: &PgPool, masker: &Masker, entry: &NewLogEntry) -> Result<LogId> {
    let ids = insert_batch(pool, masker, std::slice::from_ref(entry)).await?;
    Ok(ids[0])
}

/// Write many entries in one statement (bodies masked). Returns their ids in order.
pub async fn insert_batch(
    pool: &PgPool,
    masker: &Masker,
    entries: &[NewLogEntry],
) -> Result<Vec<LogId>> {
    let ids: Vec<LogId> = entries.iter().map(|_| LogId::new()).collect();
    insert_batch_with_ids(pool, masker, &ids, entries).await?;
    Ok(ids)
}

/// Write `entries` with the ids the caller chose, one per entry. Writing the same ids again
/// adds nothing, so a writer that does not know whether its last attempt landed (the
/// connection dropped before the answer) retries without duplicating rows.
pub async fn insert_batch_with_ids(
    pool: &PgPool,
    masker: &Masker,
    ids: &[LogId],
    entries: &[NewLogEntry],
) -> Result<()> {
    if ids.len() != entries.len() {
        return Err(StoreError::Invalid(format!(
            "{} log ids for {} entries",
            ids.len(),
            entries.len()
        )));
    }
    // Postgres allows 65,535 bind parameters per statement; 16 per row.
    for (chunk, chunk_ids) in entries.chunks(4000).zip(ids.chunks(4000)) {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
            "INSERT INTO integration_logs (id, org_id, at, integration_type, event_type, direction,
             status, http_status, request_body, response_body, error_message, partner, job_id,
             retry_count, correlation_id, duration_ms) ",
        );
        qb.push_values(chunk.iter().zip(chunk_ids), |mut b, (e, id)| {
            b.push_bind(id.0)
                .push_bind(e.org.map(|o| o.0))
                .push_bind(e.at)
                .push_bind(e.integration_type.as_str())
                .push_bind(text(&e.event_type))
                .push_bind(e.direction.as_str())
                .push_bind(e.status.as_str())
                .push_bind(e.http_status)
                .push_bind(e.request_body.clone().map(|v| body(masker, v)))
                .push_bind(e.response_body.clone().map(|v| body(masker, v)))
                .push_bind(
                    e.error_message
                        .as_deref()
                        .map(|m| text(&masker.mask_text(m))),
                )
                .push_bind(e.partner.as_deref().map(text))
                .push_bind(e.job_id.map(|j| j.0))
                .push_bind(e.retry_count)
                .push_bind(e.correlation_id.as_deref().map(text))
                .push_bind(e.duration_ms);
        });
        qb.push(" ON CONFLICT (id) DO NOTHING");
        qb.build().execute(pool).await?;
    }
    Ok(())
}

/// A body as it is written: masked, and with what `jsonb` refuses escaped, so that no body a
/// caller or a partner sent can cost the row (an API call must never go unlogged).
fn body(masker: &Masker, value: Value) -> Value {
    crate::storable::make_storable(masker.masked(value))
}

/// Text as it is written: a NUL escaped rather than refused by `text`.
fn text(value: &str) -> String {
    crate::storable::storable_text(value).into_owned()
}

/// Filters for [`list`]; every field is optional and they combine with AND.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub status: Option<LogStatus>,
    pub integration_type: Option<IntegrationType>,
    pub partner: Option<String>,
    pub event_type: Option<String>,
    pub job_id: Option<JobId>,
    pub correlation_id: Option<String>,
    /// Full-text search over request/response bodies and the error message
    /// (`websearch_to_tsquery` syntax: words, "quoted phrases", -exclusions, or).
    pub q: Option<String>,
}

/// A position in a newest-first listing: the `(at, id)` of the last row seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogCursor {
    pub at: DateTime<Utc>,
    pub id: LogId,
}

impl LogCursor {
    /// Opaque to clients: base64url of `micros:uuid`.
    pub fn encode(&self) -> String {
        crate::cursor::encode(self.at, self.id.0)
    }

    pub fn decode(s: &str) -> Result<Self> {
        let (at, id) = crate::cursor::decode(s)?;
        Ok(Self { at, id: LogId(id) })
    }
}

const LOG_COLUMNS: &str = "id, org_id, at, integration_type, event_type, direction, status, \
    http_status, request_body, response_body, error_message, partner, job_id, retry_count, \
    correlation_id, duration_ms";

#[derive(sqlx::FromRow)]
struct RawLog {
    id: Uuid,
    org_id: Option<Uuid>,
    at: DateTime<Utc>,
    integration_type: String,
    event_type: String,
    direction: String,
    status: String,
    http_status: Option<i32>,
    request_body: Option<Value>,
    response_body: Option<Value>,
    error_message: Option<String>,
    partner: Option<String>,
    job_id: Option<Uuid>,
    retry_count: Option<i32>,
    correlation_id: Option<String>,
    duration_ms: Option<i32>,
}

impl TryFrom<RawLog> for LogRow {
    type Error = StoreError;
    fn try_from(r: RawLog) -> Result<Self> {
        Ok(LogRow {
            id: LogId(r.id),
            org_id: r.org_id.map(OrgId),
            at: r.at,
            integration_type: r.integration_type.parse()?,
            event_type: r.event_type,
            direction: r.direction.parse()?,
            status: r.status.parse()?,
            http_status: r.http_status,
            request_body: r.request_body,
            response_body: r.response_body,
            error_message: r.error_message,
            partner: r.partner,
            job_id: r.job_id.map(JobId),
            retry_count: r.retry_count,
            correlation_id: r.correlation_id,
            duration_ms: r.duration_ms,
        })
    }
}

fn push_filters(qb: &mut QueryBuilder<'_, Postgres>, org: OrgId, f: &LogFilter) -> Result<()> {
    crate::storable::check_times(&[("from", f.from), ("to", f.to)])?;
    qb.push(" WHERE org_id = ").push_bind(org.0);
    if let Some(from) = f.from {
        qb.push(" AND at >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        qb.push(" AND at < ").push_bind(to);
    }
    if let Some(status) = f.status {
        qb.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(t) = f.integration_type {
        qb.push(" AND integration_type = ").push_bind(t.as_str());
    }
    if let Some(p) = &f.partner {
        qb.push(" AND partner = ").push_bind(p.clone());
    }
    if let Some(e) = &f.event_type {
        qb.push(" AND event_type = ").push_bind(e.clone());
    }
    if let Some(j) = f.job_id {
        qb.push(" AND job_id = ").push_bind(j.0);
    }
    if let Some(c) = &f.correlation_id {
        qb.push(" AND correlation_id = ").push_bind(c.clone());
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        qb.push(" AND search @@ websearch_to_tsquery('simple', ")
            .push_bind(q.to_owned())
            .push(")");
    }
    Ok(())
}

/// One page of an organization's log rows, newest first, strictly after `after`.
/// Returns the rows and the cursor for the next page (None on the last page).
pub async fn list(
    pool: &PgPool,
    org: OrgId,
    filter: &LogFilter,
    after: Option<LogCursor>,
    limit: i64,
) -> Result<(Vec<LogRow>, Option<LogCursor>)> {
    let limit = limit.clamp(1, 1000);
    let mut qb = QueryBuilder::new(format!("SELECT {LOG_COLUMNS} FROM integration_logs"));
    push_filters(&mut qb, org, filter)?;
    crate::cursor::push_page(&mut qb, "at", after.map(|c| (c.at, c.id.0)), limit);
    let raw: Vec<RawLog> = qb.build_query_as().fetch_all(pool).await?;
    let mut rows = raw
        .into_iter()
        .map(LogRow::try_from)
        .collect::<Result<Vec<_>>>()?;
    let next = crate::cursor::split_page(&mut rows, limit, |r| (r.at, r.id.0))
        .map(|(at, id)| LogCursor { at, id: LogId(id) });
    Ok((rows, next))
}

pub async fn get(pool: &PgPool, org: OrgId, id: LogId) -> Result<Option<LogRow>> {
    let raw: Option<RawLog> = sqlx::query_as(&format!(
        "SELECT {LOG_COLUMNS} FROM integration_logs WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.0)
    .bind(id.0)
    .fetch_optional(pool)
    .await?;
    raw.map(LogRow::try_from).transpose()
}

/// Figures for one partner (or `None`: rows without a partner, such as API calls).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartnerStats {
    pub partner: Option<String>,
    pub total: i64,
    pub success: i64,
    pub warning: i64,
    pub error: i64,
    /// success / total, in [0, 1].
    pub success_rate: f64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

/// Per-partner stats over the rows matching `filter` (its `from`/`to` are the window).
pub async fn stats(pool: &PgPool, org: OrgId, filter: &LogFilter) -> Result<Vec<PartnerStats>> {
    let mut qb = QueryBuilder::new(
        "SELECT partner, count(*) AS total,
                count(*) FILTER (WHERE status = 'success') AS success,
                count(*) FILTER (WHERE status = 'warning') AS warning,
                count(*) FILTER (WHERE status = 'error') AS error,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95
         FROM integration_logs",
    );
    push_filters(&mut qb, org, filter)?;
    qb.push(" GROUP BY partner ORDER BY partner NULLS LAST");
    type Raw = (Option<String>, i64, i64, i64, i64, Option<f64>, Option<f64>);
    let raw: Vec<Raw> = qb.build_query_as().fetch_all(pool).await?;
    Ok(raw
        .into_iter()
        .map(
            |(partner, total, success, warning, error, p50, p95)| PartnerStats {
                partner,
                total,
                success,
                warning,
                error,
                success_rate: if total == 0 {
                    0.0
                } else {
                    success as f64 / total as f64
                },
                p50_ms: p50,
                p95_ms: p95,
            },
        )
        .collect())
}

/// Retention: delete rows older than `cutoff`, in batches so a large backlog does not hold
/// one long transaction. Returns how many rows went.
pub async fn delete_older_than(pool: &PgPool, cutoff: DateTime<Utc>) -> Result<u64> {
    let mut total = 0;
    loop {
        let done = sqlx::query(
            "DELETE FROM integration_logs WHERE id IN (
                 SELECT id FROM integration_logs WHERE at < $1 LIMIT 10000)",
        )
        .bind(cutoff)
        .execute(pool)
        .await?
        .rows_affected();
        total += done;
        if done < 10000 {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masking_reaches_every_depth_and_spelling() {
        let masker = Masker::with_fields(["iban"]);
        let body = json!({
            "user": "ann",
            "password": "hunter2",
            "auth": {"client_secret": "s", "accessToken": "t", "X-Api-Key": "k", "scope": "x"},
            "items": [{"sku": "A-1", "IBAN": "DE00"}, {"Authorization": "Bearer abc"}],
            "token_url": null
        });
        let masked = masker.masked(body);
        assert_eq!(
            masked,
            json!({
                "user": "ann",
                "password": MASK,
                "auth": {"client_secret": MASK, "accessToken": MASK, "X-Api-Key": MASK, "scope": "x"},
                "items": [{"sku": "A-1", "IBAN": MASK}, {"Authorization": MASK}],
                "token_url": null
            })
        );
    }

    #[test]
    fn mask_json_masks_configured_names_only_in_addition() {
        let v = json!({"vat_id": "PL1", "name": "x", "nested": [{"vat_id": "PL2"}]});
        assert_eq!(
            mask_json(&v, &["vat-id"]),
            json!({"vat_id": MASK, "name": "x", "nested": [{"vat_id": MASK}]})
        );
        assert_eq!(mask_json(&v, &[]), v);
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = LogCursor {
            at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
            id: LogId::new(),
        };
        assert_eq!(LogCursor::decode(&c.encode()).unwrap(), c);
        assert!(LogCursor::decode("nope!").is_err());
        use base64::Engine;
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("12:not-a-uuid");
        assert!(LogCursor::decode(&encoded).is_err());
    }

    #[test]
    fn enums_parse_and_name_the_known_values() {
        assert_eq!(
            "edi".parse::<IntegrationType>().unwrap(),
            IntegrationType::Edi
        );
        let err = "fax".parse::<IntegrationType>().unwrap_err().to_string();
        assert!(err.contains("fax") && err.contains("webhook"), "{err}");
    }

    async fn org(pool: &PgPool, slug: &str) -> OrgId {
        crate::orgs::ensure(pool, slug).await.unwrap().id
    }

    fn entry(org: OrgId, partner: &str, status: LogStatus, ms: i32, body: Value) -> NewLogEntry {
        NewLogEntry {
            partner: Some(partner.into()),
            duration_ms: Some(ms),
            request_body: Some(body),
            ..NewLogEntry::new(
                Some(org),
                IntegrationType::Adapter,
                "catalog.push",
                Direction::Outbound,
                status,
            )
        }
    }

    #[sqlx::test(migrator = "crate::MIGRATOR")]
    async fn filters_search_pagination_and_stats(pool: PgPool) {
        let a = org(&pool, "a").await;
        let b = org(&pool, "b").await;
        let masker = Masker::default();
        let mut batch = Vec::new();
        for i in 0..10 {
            let status = if i % 5 == 0 {
                LogStatus::Error
            } else {
                LogStatus::Success
            };
            batch.push(entry(
                a,
                "shop",
                status,
                (i + 1) * 10,
                json!({"sku": format!("WIDGET-{i}"), "password": "pw"}),
            ));
        }
        batch.push(entry(
            a,
            "erp",
            LogStatus::Success,
            500,
            json!({"note": "hydraulic cylinder"}),
        ));
        batch.push(entry(
            b,
            "shop",
            LogStatus::Success,
            1,
            json!({"note": "hydraulic cylinder"}),
        ));
        insert_batch(&pool, &masker, &batch).await.unwrap();

        // Masked on the way in.
        let (rows, _) = list(&pool, a, &LogFilter::default(), None, 100)
            .await
            .unwrap();
        assert_eq!(rows.len(), 11);
        assert!(rows.iter().all(|r| r
            .request_body
            .as_ref()
            .unwrap()
            .get("password")
            .is_none_or(|p| p == MASK)));

        // Filters.
        let errors = LogFilter {
            status: Some(LogStatus::Error),
            ..Default::default()
        };
        assert_eq!(list(&pool, a, &errors, None, 100).await.unwrap().0.len(), 2);
        let erp = LogFilter {
            partner: Some("erp".into()),
            ..Default::default()
        };
        assert_eq!(list(&pool, a, &erp, None, 100).await.unwrap().0.len(), 1);

        // Full text, tenant-scoped.
        let q = LogFilter {
            q: Some("hydraulic".into()),
            ..Default::default()
        };
        let (hits, _) = list(&pool, a, &q, None, 100).await.unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].partner.as_deref(), Some("erp"));
        let q = LogFilter {
            q: Some("widget-3".into()),
            ..Default::default()
        };
        assert_eq!(list(&pool, a, &q, None, 100).await.unwrap().0.len(), 1);
        let q = LogFilter {
            q: Some("pw".into()),
            ..Default::default()
        };
        assert_eq!(
            list(&pool, a, &q, None, 100).await.unwrap().0.len(),
            0,
            "masked secrets are not searchable"
        );

        // Keyset pagination visits every row once.
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = list(&pool, a, &LogFilter::default(), cursor, 4)
                .await
                .unwrap();
            seen.extend(page.iter().map(|r| r.id));
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (11, 11));

        // Stats per partner.
        let stats = stats(&pool, a, &LogFilter::default()).await.unwrap();
        let shop = stats
            .iter()
            .find(|s| s.partner.as_deref() == Some("shop"))
            .unwrap();
        assert_eq!((shop.total, shop.success, shop.error), (10, 8, 2));
        assert!((shop.success_rate - 0.8).abs() < 1e-9);
        assert_eq!(shop.p50_ms, Some(55.0));
        assert!((shop.p95_ms.unwrap() - 95.5).abs() < 1e-9);

        // Tenant isolation on get.
        let b_row = list(&pool, b, &LogFilter::default(), None, 1)
            .await
            .unwrap()
            .0[0]
            .id;
        assert!(get(&pool, a, b_row).await.unwrap().is_none());
        assert!(get(&pool, b, b_row).await.unwrap().is_some());
    }

    /// A writer whose connection dropped before the answer retries the same rows: they are
    /// written once.
    #[sqlx::test(migrator = "crate::MIGRATOR")]
    async fn writing_the_same_ids_again_adds_nothing(pool: PgPool) {
        let a = org(&pool, "a").await;
        let masker = Masker::default();
        let first = vec![entry(a, "shop", LogStatus::Success, 1, json!({"n": 1}))];
        let ids = vec![LogId::new()];
        insert_batch_with_ids(&pool, &masker, &ids, &first)
            .await
            .unwrap();
        let retried = vec![
            first[0].clone(),
            entry(a, "shop", LogStatus::Success, 1, json!({"n": 2})),
        ];
        let more_ids = vec![ids[0], LogId::new()];
        insert_batch_with_ids(&pool, &masker, &more_ids, &retried)
            .await
            .unwrap();
        let (rows, _) = list(&pool, a, &LogFilter::default(), None, 10)
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        let err = insert_batch_with_ids(&pool, &masker, &ids, &retried)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("1 log ids for 2 entries"), "{err}");
    }

    #[sqlx::test(migrator = "crate::MIGRATOR")]
    async fn retention_deletes_only_old_rows(pool: PgPool) {
        let a = org(&pool, "a").await;
        let old = NewLogEntry {
            at: Utc::now() - chrono::Duration::days(91),
            ..entry(a, "shop", LogStatus::Success, 1, json!({}))
        };
        let new = entry(a, "shop", LogStatus::Success, 1, json!({}));
        insert_batch(&pool, &Masker::default(), &[old, new])
            .await
            .unwrap();
        let gone = delete_older_than(&pool, Utc::now() - chrono::Duration::days(90))
            .await
            .unwrap();
        assert_eq!(gone, 1);
        assert_eq!(
            list(&pool, a, &LogFilter::default(), None, 10)
                .await
                .unwrap()
                .0
                .len(),
            1
        );
    }
}
