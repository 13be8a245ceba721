//! API keys: minting, hashing, scopes, tiers and the key lifecycle.
//!
//! A key is 256 random bits shown to its owner once, as `sy_` + base64url. Only its SHA-256 is
//! stored: a key with that much entropy cannot be brute-forced, so a slow password hash would
//! only cost latency on every request. The first characters (the prefix) are kept in clear so
//! a listing can tell keys apart.

use crate::db::{Result, StoreError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::fmt;
use std::str::FromStr;
use switchyard_core::ids::{ApiKeyId, OrgId};
use uuid::Uuid;

/// Every key starts with this, so a leaked key is recognisable by secret scanners.
pub const KEY_PREFIX: &str = "sy_";
/// How many characters of the key (including `sy_`) are stored in clear.
const SHOWN_PREFIX_LEN: usize = 11;

/// What a key may do: `read:logs`, `write:edi`, `admin:keys`. Scopes are data: the hub and
/// every integration declare the scopes their routes need (the API checks a key's scopes
/// against that declared set when the key is made or changed); the store checks only their
/// form, `read:` / `write:` / `admin:` and a lower-case name. A `write:` scope implies the
/// matching `read:` scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Scope(String);

impl Scope {
    /// A scope of the right form (`write:dead-letters`), or an error saying what is wrong.
    pub fn parse(s: &str) -> Result<Self> {
        let valid = s.split_once(':').is_some_and(|(verb, name)| {
            matches!(verb, "read" | "write" | "admin")
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(StoreError::Invalid(format!(
                "`{s}` is not a scope (read:NAME, write:NAME or admin:NAME, lower case)"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether holding `self` grants `wanted` ("write implies read").
    pub fn grants(&self, wanted: &str) -> bool {
        self.0 == wanted
            || matches!(
                (self.0.strip_prefix("write:"), wanted.strip_prefix("read:")),
                (Some(w), Some(r)) if w == r
            )
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Scope {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        Scope::parse(s)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Scope::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Whether any of `held` grants `wanted`.
pub fn has_scope(held: &[Scope], wanted: &str) -> bool {
    held.iter().any(|s| s.grants(wanted))
}

/// Rate-limit tier. Ordered by declaration (basic < standard < premium): a key grants no tier
/// above its own.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Basic,
    #[default]
    Standard,
    Premium,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Basic, Tier::Standard, Tier::Premium];

    pub fn as_str(&self) -> &'static str {
        match self {
            Tier::Basic => "basic",
            Tier::Standard => "standard",
            Tier::Premium => "premium",
        }
    }
}

impl FromStr for Tier {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "basic" => Ok(Tier::Basic),
            "standard" => Ok(Tier::Standard),
            "premium" => Ok(Tier::Premium),
            other => Err(StoreError::Invalid(format!(
                "unknown tier `{other}` (known: basic, standard, premium)"
            ))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    Active,
    Suspended,
    /// Permanent: a revoked key can never be reactivated or regenerated.
    Revoked,
}

impl KeyState {
    pub const ALL: [KeyState; 3] = [KeyState::Active, KeyState::Suspended, KeyState::Revoked];

    pub fn as_str(&self) -> &'static str {
        match self {
            KeyState::Active => "active",
            KeyState::Suspended => "suspended",
            KeyState::Revoked => "revoked",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "active" => Ok(KeyState::Active),
            "suspended" => Ok(KeyState::Suspended),
            "revoked" => Ok(KeyState::Revoked),
            other => Err(StoreError::Invalid(format!("unknown key state `{other}`"))),
        }
    }
}

/// A stored key, without its secret. `prefix` is what listings show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyRow {
    pub id: ApiKeyId,
    pub org_id: OrgId,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub tier: Tier,
    pub state: KeyState,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl KeyRow {
    /// The prefix followed by an ellipsis: enough to recognise a key, useless to an attacker.
    pub fn masked(&self) -> String {
        format!("{}…", self.prefix)
    }

    pub fn allows(&self, wanted: &str) -> bool {
        has_scope(&self.scopes, wanted)
    }
}

type RawKey = (
    Uuid,
    Uuid,
    String,
    String,
    Vec<String>,
    String,
    String,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
    DateTime<Utc>,
);

const COLUMNS: &str = "id, org_id, name, prefix, scopes, tier, state, expires_at, last_used_at, created_at, updated_at";

fn from_raw(raw: RawKey) -> Result<KeyRow> {
    let (id, org, name, prefix, scopes, tier, state, expires_at, last_used_at, created, updated) =
        raw;
    Ok(KeyRow {
        id: ApiKeyId(id),
        org_id: OrgId(org),
        name,
        prefix,
        // Stored scopes were checked when the key was made; a scope an integration of this
        // build no longer declares is kept (and shown) but grants nothing.
        scopes: scopes
            .iter()
            .map(|s| Scope::parse(s))
            .collect::<Result<Vec<Scope>>>()?,
        tier: tier.parse()?,
        state: KeyState::parse(&state)?,
        expires_at,
        last_used_at,
        created_at: created,
        updated_at: updated,
    })
}

/// What a new key is allowed to do.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub org: OrgId,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub tier: Tier,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Fields of a key that may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct KeyUpdate {
    pub name: Option<String>,
    pub scopes: Option<Vec<Scope>>,
    pub tier: Option<Tier>,
    /// `Some(None)` clears the expiry.
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

/// A fresh secret: `sy_` + 43 base64url characters (32 random bytes).
fn mint_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn shown_prefix(secret: &str) -> String {
    secret.chars().take(SHOWN_PREFIX_LEN).collect()
}

/// The longest key name.
pub const MAX_NAME_CHARS: usize = 200;

fn validate_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid("key name must not be empty".into()));
    }
    // Characters, not bytes: what a client (and the API's schema, `maxLength`) counts.
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(StoreError::Invalid(format!(
            "key name must be at most {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(())
}

fn validate_scopes(scopes: &[Scope]) -> Result<Vec<String>> {
    if scopes.is_empty() {
        return Err(StoreError::Invalid("a key needs at least one scope".into()));
    }
    let mut names: Vec<String> = scopes.iter().map(|s| s.as_str().to_owned()).collect();
    names.sort();
    names.dedup();
    Ok(names)
}

fn validate_expiry(expires_at: Option<DateTime<Utc>>) -> Result<()> {
    match expires_at {
        Some(at) if at <= Utc::now() => Err(StoreError::Invalid(format!(
            "expires_at {} is in the past",
            at.to_rfc3339()
        ))),
        _ => Ok(()),
    }
}

/// Create a key. Returns the row and the plaintext key, which is never retrievable again.
pub async fn create(pool: &PgPool, new: &NewKey) -> Result<(KeyRow, String)> {
    validate_name(&new.name)?;
    let scopes = validate_scopes(&new.scopes)?;
    validate_expiry(new.expires_at)?;
    let secret = mint_secret();
    let raw: RawKey = sqlx::query_as(&format!(
        "INSERT INTO api_keys (id, org_id, name, prefix, key_hash, scopes, tier, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(new.org.0)
    .bind(new.name.trim())
    .bind(shown_prefix(&secret))
    .bind(hash(&secret))
    .bind(&scopes)
    .bind(new.tier.as_str())
    .bind(new.expires_at)
    .fetch_one(pool)
    .await?;
    Ok((from_raw(raw)?, secret))
}

/// Bootstrap for the CLI (`switchyard admin create-key`): ensures the organization exists,
/// then mints a key in it.
pub async fn create_key(
    pool: &PgPool,
    org_slug: &str,
    name: &str,
    scopes: &[Scope],
    tier: Tier,
) -> Result<(KeyRow, String)> {
    let org = crate::orgs::ensure(pool, org_slug).await?;
    create(
        pool,
        &NewKey {
            org: org.id,
            name: name.to_owned(),
            scopes: scopes.to_vec(),
            tier,
            expires_at: None,
        },
    )
    .await
}

/// Keys of one organization, oldest first, revoked ones included (they stay for the audit trail).
pub async fn list(pool: &PgPool, org: OrgId) -> Result<Vec<KeyRow>> {
    let rows: Vec<RawKey> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_keys WHERE org_id = $1 ORDER BY created_at, id"
    ))
    .bind(org.0)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(from_raw).collect()
}

pub async fn get(pool: &PgPool, org: OrgId, id: ApiKeyId) -> Result<Option<KeyRow>> {
    let row: Option<RawKey> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_keys WHERE org_id = $1 AND id = $2"
    ))
    .bind(org.0)
    .bind(id.0)
    .fetch_optional(pool)
    .await?;
    row.map(from_raw).transpose()
}

/// The key's current row or `NotFound`, and `Conflict` if it is revoked (revocation is final).
async fn require_not_revoked(pool: &PgPool, org: OrgId, id: ApiKeyId) -> Result<KeyRow> {
    let key = get(pool, org, id)
        .await?
        .ok_or(StoreError::NotFound("api key"))?;
    if key.state == KeyState::Revoked {
        return Err(StoreError::Conflict("the key is revoked".into()));
    }
    Ok(key)
}

pub async fn update(pool: &PgPool, org: OrgId, id: ApiKeyId, change: &KeyUpdate) -> Result<KeyRow> {
    let current = require_not_revoked(pool, org, id).await?;
    if let Some(name) = &change.name {
        validate_name(name)?;
    }
    let scopes = match &change.scopes {
        Some(s) => validate_scopes(s)?,
        None => current
            .scopes
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
    };
    let expires_at = match change.expires_at {
        Some(at) => {
            validate_expiry(at)?;
            at
        }
        None => current.expires_at,
    };
    let raw: Option<RawKey> = sqlx::query_as(&format!(
        "UPDATE api_keys SET name = $3, scopes = $4, tier = $5, expires_at = $6, updated_at = now()
         WHERE org_id = $1 AND id = $2 AND state <> 'revoked'
         RETURNING {COLUMNS}"
    ))
    .bind(org.0)
    .bind(id.0)
    .bind(
        change
            .name
            .as_deref()
            .map(str::trim)
            .unwrap_or(&current.name),
    )
    .bind(&scopes)
    .bind(change.tier.unwrap_or(current.tier).as_str())
    .bind(expires_at)
    .fetch_optional(pool)
    .await?;
    // Revoked between the read and the write.
    raw.map(from_raw)
        .transpose()?
        .ok_or_else(|| StoreError::Conflict("the key is revoked".into()))
}

async fn set_state(
    pool: &PgPool,
    org: OrgId,
    id: ApiKeyId,
    to: KeyState,
    allowed_from: &[&str],
) -> Result<KeyRow> {
    let current = get(pool, org, id)
        .await?
        .ok_or(StoreError::NotFound("api key"))?;
    let from: Vec<String> = allowed_from.iter().map(|s| (*s).to_owned()).collect();
    let raw: Option<RawKey> = sqlx::query_as(&format!(
        "UPDATE api_keys SET state = $3, updated_at = now()
         WHERE org_id = $1 AND id = $2 AND state = ANY($4)
         RETURNING {COLUMNS}"
    ))
    .bind(org.0)
    .bind(id.0)
    .bind(to.as_str())
    .bind(&from)
    .fetch_optional(pool)
    .await?;
    match raw {
        Some(raw) => from_raw(raw),
        None => Err(StoreError::Conflict(format!(
            "cannot make a {} key {}",
            current.state.as_str(),
            to.as_str()
        ))),
    }
}

/// Stop a key from working until it is reactivated. Suspending a suspended key is a no-op.
pub async fn suspend(pool: &PgPool, org: OrgId, id: ApiKeyId) -> Result<KeyRow> {
    set_state(pool, org, id, KeyState::Suspended, &["active", "suspended"]).await
}

pub async fn reactivate(pool: &PgPool, org: OrgId, id: ApiKeyId) -> Result<KeyRow> {
    set_state(pool, org, id, KeyState::Active, &["active", "suspended"]).await
}

/// Permanently disable a key. Revoking a revoked key is a no-op.
pub async fn revoke(pool: &PgPool, org: OrgId, id: ApiKeyId) -> Result<KeyRow> {
    set_state(
        pool,
        org,
        id,
        KeyState::Revoked,
        &["active", "suspended", "revoked"],
    )
    .await
}

/// Replace a key's secret; the old secret stops working at once. Returns the new plaintext.
pub async fn regenerate(pool: &PgPool, org: OrgId, id: ApiKeyId) -> Result<(KeyRow, String)> {
    require_not_revoked(pool, org, id).await?;
    let secret = mint_secret();
    let raw: Option<RawKey> = sqlx::query_as(&format!(
        "UPDATE api_keys SET key_hash = $3, prefix = $4, updated_at = now()
         WHERE org_id = $1 AND id = $2 AND state <> 'revoked'
         RETURNING {COLUMNS}"
    ))
    .bind(org.0)
    .bind(id.0)
    .bind(hash(&secret))
    .bind(shown_prefix(&secret))
    .fetch_optional(pool)
    .await?;
    let row = raw
        .map(from_raw)
        .transpose()?
        .ok_or_else(|| StoreError::Conflict("the key is revoked".into()))?;
    Ok((row, secret))
}

/// Why a presented key was refused. The API answers 401 to all of them alike; the reason is
/// for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unknown,
    Suspended,
    Revoked,
    Expired,
}

impl Refusal {
    pub fn as_str(&self) -> &'static str {
        match self {
            Refusal::Unknown => "unknown key",
            Refusal::Suspended => "key suspended",
            Refusal::Revoked => "key revoked",
            Refusal::Expired => "key expired",
        }
    }
}

/// The key row for a presented secret if it is active and not expired. Touches `last_used_at`,
/// but at most once a minute per key, so a busy key does not turn every read into a write.
pub async fn authenticate(pool: &PgPool, secret: &str) -> Result<Result<KeyRow, Refusal>> {
    if !secret.starts_with(KEY_PREFIX) {
        return Ok(Err(Refusal::Unknown));
    }
    let raw: Option<RawKey> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1"
    ))
    .bind(hash(secret))
    .fetch_optional(pool)
    .await?;
    let Some(mut key) = raw.map(from_raw).transpose()? else {
        return Ok(Err(Refusal::Unknown));
    };
    match key.state {
        KeyState::Active => {}
        KeyState::Suspended => return Ok(Err(Refusal::Suspended)),
        KeyState::Revoked => return Ok(Err(Refusal::Revoked)),
    }
    let now = Utc::now();
    if key.expires_at.is_some_and(|at| at <= now) {
        return Ok(Err(Refusal::Expired));
    }
    let stale = key
        .last_used_at
        .is_none_or(|at| now - at >= chrono::Duration::minutes(1));
    if stale {
        // The WHERE repeats the staleness check so concurrent requests write once.
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $2 WHERE id = $1
             AND (last_used_at IS NULL OR last_used_at < $2 - interval '1 minute')",
        )
        .bind(key.id.0)
        .bind(now)
        .execute(pool)
        .await?;
        key.last_used_at = Some(now);
    }
    Ok(Ok(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_long_and_distinct() {
        let a = mint_secret();
        let b = mint_secret();
        assert!(a.starts_with("sy_"));
        assert_eq!(a.len(), 3 + 43);
        assert_ne!(a, b);
        assert_eq!(hash(&a).len(), 32);
        assert_eq!(shown_prefix(&a).len(), SHOWN_PREFIX_LEN);
    }

    fn scope(s: &str) -> Scope {
        Scope::parse(s).unwrap()
    }

    #[test]
    fn write_scopes_imply_read() {
        assert!(has_scope(&[scope("write:jobs")], "read:jobs"));
        assert!(has_scope(
            &[scope("write:dead-letters")],
            "read:dead-letters"
        ));
        assert!(!has_scope(&[scope("read:jobs")], "write:jobs"));
        assert!(!has_scope(&[scope("write:jobs")], "read:dead-letters"));
        assert!(!has_scope(&[scope("admin:keys")], "read:logs"));
        assert!(has_scope(&[scope("write:edi")], "read:edi"));
        assert!(!has_scope(&[scope("read:edi")], "write:edi"));
        assert!(!has_scope(&[scope("write:jobs")], "read:edi"));
        // Only write implies read; admin implies nothing else.
        assert!(!has_scope(&[scope("admin:jobs")], "read:jobs"));
    }

    #[test]
    fn scopes_round_trip_and_malformed_ones_are_named() {
        for s in [
            "read:logs",
            "write:dead-letters",
            "admin:keys",
            "write:probe2",
        ] {
            assert_eq!(s.parse::<Scope>().unwrap().as_str(), s);
            let json = serde_json::to_string(&scope(s)).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope(s));
        }
        for bad in [
            "everything",
            "delete:logs",
            "read:",
            "read:Logs",
            "read:a b",
            "write:-x",
        ] {
            let err = bad.parse::<Scope>().unwrap_err().to_string();
            assert!(err.contains(bad), "{err}");
        }
        assert!(serde_json::from_str::<Scope>("\"root:all\"").is_err());
    }
    async fn last_used(pool: &PgPool, id: ApiKeyId) -> Option<DateTime<Utc>> {
        sqlx::query_scalar("SELECT last_used_at FROM api_keys WHERE id = $1")
            .bind(id.0)
            .fetch_one(pool)
            .await
            .unwrap()
    }

    #[sqlx::test(migrator = "crate::MIGRATOR")]
    async fn authenticate_refuses_by_state_and_touches_last_used_once_a_minute(pool: PgPool) {
        let (key, secret) = create_key(&pool, "acme", "ci", &[scope("write:jobs")], Tier::Basic)
            .await
            .unwrap();
        assert_eq!(key.scopes, vec![scope("write:jobs")]);
        assert!(key.allows("read:jobs"));
        assert!(key.last_used_at.is_none());
        // The secret itself is nowhere in the table.
        let stored: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM api_keys WHERE prefix = $1 OR encode(key_hash, 'escape') = $1",
        )
        .bind(&secret)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(stored, 0);

        let first = authenticate(&pool, &secret).await.unwrap().unwrap();
        let touched = last_used(&pool, key.id).await.unwrap();
        assert_eq!(
            first.last_used_at.map(|t| t.timestamp()),
            Some(touched.timestamp())
        );
        // Within the minute: no write.
        authenticate(&pool, &secret).await.unwrap().unwrap();
        assert_eq!(last_used(&pool, key.id).await, Some(touched));
        // A minute later: written again.
        sqlx::query(
            "UPDATE api_keys SET last_used_at = last_used_at - interval '2 minutes' WHERE id = $1",
        )
        .bind(key.id.0)
        .execute(&pool)
        .await
        .unwrap();
        authenticate(&pool, &secret).await.unwrap().unwrap();
        assert!(last_used(&pool, key.id).await.unwrap() > touched - chrono::Duration::minutes(1));

        assert_eq!(
            authenticate(&pool, "sy_nope").await.unwrap(),
            Err(Refusal::Unknown)
        );
        assert_eq!(
            authenticate(&pool, "bearer-ish").await.unwrap(),
            Err(Refusal::Unknown)
        );
        suspend(&pool, key.org_id, key.id).await.unwrap();
        assert_eq!(
            authenticate(&pool, &secret).await.unwrap(),
            Err(Refusal::Suspended)
        );
        reactivate(&pool, key.org_id, key.id).await.unwrap();
        let (_, fresh) = regenerate(&pool, key.org_id, key.id).await.unwrap();
        assert_eq!(
            authenticate(&pool, &secret).await.unwrap(),
            Err(Refusal::Unknown)
        );
        assert!(authenticate(&pool, &fresh).await.unwrap().is_ok());
        revoke(&pool, key.org_id, key.id).await.unwrap();
        assert_eq!(
            authenticate(&pool, &fresh).await.unwrap(),
            Err(Refusal::Revoked)
        );
        assert!(matches!(
            reactivate(&pool, key.org_id, key.id).await,
            Err(StoreError::Conflict(_))
        ));

        // Another organization cannot see or change the key.
        let other = crate::orgs::ensure(&pool, "other").await.unwrap().id;
        assert!(get(&pool, other, key.id).await.unwrap().is_none());
        assert!(matches!(
            suspend(&pool, other, key.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(list(&pool, other).await.unwrap().is_empty());
    }
}
