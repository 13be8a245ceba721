//! The chart of accounts' SQL (migrations/1501_optima_accounts.sql): a pulled chart applied
//! in one transaction (added, changed, gone → inactive), and what the API lists.

use crate::chart::{Account, AccountType};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use switchyard_core::ids::OrgId;

/// What one pull changed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, sqlx::FromRow, utoipa::ToSchema,
)]
pub struct Applied {
    pub accounts: i32,
    pub added: i32,
    pub changed: i32,
    pub deactivated: i32,
}

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AccountRow {
    pub gl_account_code: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub account_type: AccountType,
    pub active: bool,
    pub first_seen_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deactivated_at: Option<DateTime<Utc>>,
}

/// When a connection's chart was last pulled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct LastSync {
    pub last_synced_at: DateTime<Utc>,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub applied: Applied,
}

/// Make the stored chart `accounts`: new ones added, changed ones updated (and active again),
/// the ones Optima no longer lists marked inactive; the sync time recorded. One transaction,
/// so a reader never sees half a chart.
pub async fn apply(
    pool: &PgPool,
    org: OrgId,
    partner: &str,
    accounts: &[Account],
    now: DateTime<Utc>,
) -> Result<Applied, sqlx::Error> {
    let codes: Vec<&str> = accounts.iter().map(|a| a.code.as_str()).collect();
    let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
    let types: Vec<&str> = accounts.iter().map(|a| a.account_type.as_str()).collect();
    let mut tx = switchyard_store::begin(pool).await?;
    // Serialises two pulls of one connection: the second applies after the first commits.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('optima_accounts:' || $1::text || ':' || $2, 0))")
        .bind(org.0)
        .bind(partner)
        .execute(&mut *tx)
        .await?;
    let (added, changed): (i64, i64) = sqlx::query_as(
        "WITH up AS (
            INSERT INTO optima_accounts AS a (org_id, partner, gl_account_code, name, account_type,
                                              active, first_seen_at, updated_at)
            SELECT $1, $2, code, name, typ, true, $6, $6
            FROM UNNEST($3::text[], $4::text[], $5::text[]) AS t(code, name, typ)
            ON CONFLICT (org_id, partner, gl_account_code) DO UPDATE
               SET name = EXCLUDED.name, account_type = EXCLUDED.account_type, active = true,
                   deactivated_at = NULL, updated_at = EXCLUDED.updated_at
               WHERE (a.name, a.account_type, a.active)
                     IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.account_type, true)
            RETURNING (xmax = 0) AS inserted
         )
         SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up",
    )
    .bind(org.0)
    .bind(partner)
    .bind(&codes)
    .bind(&names)
    .bind(&types)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let deactivated = sqlx::query(
        "UPDATE optima_accounts SET active = false, deactivated_at = $4, updated_at = $4
         WHERE org_id = $1 AND partner = $2 AND active AND NOT (gl_account_code = ANY($3))",
    )
    .bind(org.0)
    .bind(partner)
    .bind(&codes)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let applied = Applied {
        accounts: accounts.len() as i32,
        added: added as i32,
        changed: changed as i32,
        deactivated: deactivated as i32,
    };
    sqlx::query(
        "INSERT INTO optima_account_syncs (org_id, partner, last_synced_at, accounts, added, changed, deactivated)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (org_id, partner) DO UPDATE SET last_synced_at = $3, accounts = $4, added = $5,
             changed = $6, deactivated = $7",
    )
    .bind(org.0)
    .bind(partner)
    .bind(now)
    .bind(applied.accounts)
    .bind(applied.added)
    .bind(applied.changed)
    .bind(applied.deactivated)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(applied)
}

/// A connection's accounts by code; inactive ones too when asked.
pub async fn list(
    pool: &PgPool,
    org: OrgId,
    partner: &str,
    include_inactive: bool,
) -> Result<Vec<AccountRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT gl_account_code, name, account_type, active, first_seen_at, updated_at, deactivated_at
         FROM optima_accounts WHERE org_id = $1 AND partner = $2 AND (active OR $3)
         ORDER BY gl_account_code",
    )
    .bind(org.0)
    .bind(partner)
    .bind(include_inactive)
    .fetch_all(pool)
    .await
}

/// The connection's last pull, if any.
pub async fn last_sync(
    pool: &PgPool,
    org: OrgId,
    partner: &str,
) -> Result<Option<LastSync>, sqlx::Error> {
    sqlx::query_as(
        "SELECT last_synced_at, accounts, added, changed, deactivated
         FROM optima_account_syncs WHERE org_id = $1 AND partner = $2",
    )
    .bind(org.0)
    .bind(partner)
    .fetch_optional(pool)
    .await
}
