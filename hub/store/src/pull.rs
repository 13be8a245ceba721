//! The scheduled pull's table (migration 0014): where each pull (partner, entity) stands —
//! the partner's cursor inside the pass in progress — and its last run's figures.
//!
//! A page's figures and the cursor past it move in one statement ([`commit_page`]), after the
//! page's records were stored by the catalog's own idempotent upserts: a run that dies re-reads
//! at most the page it was on, and storing it again changes nothing.

use crate::catalog::Outcome;
use crate::db::Result;
use crate::pricing::ListPriceRow;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{FromRow, PgPool};
use std::collections::HashMap;
use switchyard_core::ids::{JobId, OrgId};
use uuid::Uuid;

/// One pull: a partner and an entity (`products`, `inventory`, `prices`) of an organization.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PullKey {
    pub org: OrgId,
    pub partner: String,
    pub entity: String,
}

impl PullKey {
    pub fn new(org: OrgId, partner: impl Into<String>, entity: impl Into<String>) -> Self {
        Self {
            org,
            partner: partner.into(),
            entity: entity.into(),
        }
    }

    /// The key of the advisory lock that lets one run of this pull at a time (the sync
    /// engine's lock, under a name no sync has).
    pub fn lock_key(&self) -> crate::sync::SyncKey {
        crate::sync::SyncKey::new(
            self.org,
            self.partner.clone(),
            format!("pull.{}", self.entity),
        )
    }
}

/// Where a pull stands and how its last run went.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct PullState {
    pub partner: String,
    pub entity: String,
    /// The partner's cursor of the next page of the pass in progress.
    pub cursor: Option<String>,
    pub pages: i64,
    pub run_job_id: Option<Uuid>,
    pub run_full: bool,
    pub run_state: String,
    pub run_started_at: Option<DateTime<Utc>>,
    pub run_finished_at: Option<DateTime<Utc>>,
    pub seen: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub failed: i64,
    pub last_error: Option<String>,
}

const COLUMNS: &str = "partner, entity, cursor, pages, run_job_id, run_full, run_state, \
     run_started_at, run_finished_at, seen, created, updated, unchanged, failed, last_error";

/// What one page did, to add to the run's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageFigures {
    pub seen: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub failed: i64,
}

impl PageFigures {
    /// Count one stored record's outcome.
    pub fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Created => self.created += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
        }
    }
}

/// Start (or resume) a run of `key` for `job`. A new job resets the run's figures; the same
/// job again (its retry after a failure or a crash) keeps them. `full` (by a new job) forgets
/// the cursor of an unfinished pass, so the run reads every record from the first page.
pub async fn begin_run(
    pool: &PgPool,
    key: &PullKey,
    job: JobId,
    full: bool,
    now: DateTime<Utc>,
) -> Result<PullState> {
    Ok(sqlx::query_as::<_, PullState>(&format!(
        "INSERT INTO pull_states AS s (org_id, partner, entity, run_job_id, run_full, run_state,
             run_started_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'running', $6, $6)
         ON CONFLICT (org_id, partner, entity) DO UPDATE SET
             cursor = CASE WHEN $5 AND s.run_job_id IS DISTINCT FROM $4 THEN NULL ELSE s.cursor END,
             pages  = CASE WHEN $5 AND s.run_job_id IS DISTINCT FROM $4 THEN 0 ELSE s.pages END,
             run_full = CASE WHEN s.run_job_id IS NOT DISTINCT FROM $4 THEN s.run_full ELSE $5 END,
             run_started_at = CASE WHEN s.run_job_id IS NOT DISTINCT FROM $4
                                   THEN s.run_started_at ELSE $6 END,
             seen      = CASE WHEN s.run_job_id IS NOT DISTINCT FROM $4 THEN s.seen ELSE 0 END,
             created   = CASE WHEN s.run_job_id IS NOT DISTINCT FROM $4 THEN s.created ELSE 0 END,
             updated   = CASE WHEN s.run_job_id IS NOT DISTINCT FROM $4 THEN s.updated ELSE 0 END,
             unchanged = CASE WHEN s.run_job_id IS NOT DISTINCT FROM $4 THEN s.unchanged ELSE 0 END,
             failed    = CASE WHEN s.run_job_id IS NOT DISTINCT FROM $4 THEN s.failed ELSE 0 END,
             run_job_id = $4, run_state = 'running', run_finished_at = NULL, last_error = NULL,
             updated_at = $6
         RETURNING {COLUMNS}"
    ))
    .bind(key.org.0)
    .bind(&key.partner)
    .bind(&key.entity)
    .bind(job.0)
    .bind(full)
    .bind(now)
    .fetch_one(pool)
    .await?)
}

/// Add a stored page's figures and move the cursor to `next` (None: the pass is done, the
/// next run starts a new one).
pub async fn commit_page(
    pool: &PgPool,
    key: &PullKey,
    figures: &PageFigures,
    next: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE pull_states SET seen = seen + $4, created = created + $5, updated = updated + $6,
             unchanged = unchanged + $7, failed = failed + $8, cursor = $9, pages = pages + 1,
             updated_at = $10
         WHERE org_id = $1 AND partner = $2 AND entity = $3",
    )
    .bind(key.org.0)
    .bind(&key.partner)
    .bind(&key.entity)
    .bind(figures.seen)
    .bind(figures.created)
    .bind(figures.updated)
    .bind(figures.unchanged)
    .bind(figures.failed)
    .bind(next)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Record how the run ended (`error` None: succeeded).
pub async fn end_run(
    pool: &PgPool,
    key: &PullKey,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE pull_states SET run_state = CASE WHEN $4::text IS NULL THEN 'succeeded' ELSE 'failed' END,
             last_error = $4, run_finished_at = $5, updated_at = $5
         WHERE org_id = $1 AND partner = $2 AND entity = $3",
    )
    .bind(key.org.0)
    .bind(&key.partner)
    .bind(&key.entity)
    .bind(error)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Every pull of the organization that has run, by partner and entity.
pub async fn list_states(pool: &PgPool, org: OrgId) -> Result<Vec<PullState>> {
    Ok(sqlx::query_as::<_, PullState>(&format!(
        "SELECT {COLUMNS} FROM pull_states WHERE org_id = $1 ORDER BY partner, entity"
    ))
    .bind(org.0)
    .fetch_all(pool)
    .await?)
}

/// One pull's state, if it has run.
pub async fn get_state(pool: &PgPool, key: &PullKey) -> Result<Option<PullState>> {
    Ok(sqlx::query_as::<_, PullState>(&format!(
        "SELECT {COLUMNS} FROM pull_states WHERE org_id = $1 AND partner = $2 AND entity = $3"
    ))
    .bind(key.org.0)
    .bind(&key.partner)
    .bind(&key.entity)
    .fetch_optional(pool)
    .await?)
}

/// What storing `rows` with [`crate::pricing::upsert_prices`] will do to each: the price
/// writes answer only a row count, and a pull reports created / updated / unchanged per
/// record like the product and stock upserts do. One query for the batch; the pull's lock
/// keeps another pull of the same prices from moving them in between.
pub async fn list_price_outcomes(
    pool: &PgPool,
    org: OrgId,
    rows: &[ListPriceRow],
) -> Result<Vec<Outcome>> {
    /// A stored list price: its key (price list, SKU, unit) and what an upsert may change.
    #[derive(FromRow)]
    struct Stored {
        price_list_id: String,
        sku: String,
        uom: String,
        amount: Decimal,
        valid_from: Option<NaiveDate>,
        valid_to: Option<NaiveDate>,
    }
    let stored: Vec<Stored> = sqlx::query_as(
        "SELECT lp.price_list_id, lp.sku, lp.uom, lp.amount, lp.valid_from, lp.valid_to
         FROM list_prices lp
         JOIN UNNEST($2::text[], $3::text[], $4::text[]) AS k(price_list_id, sku, uom)
           ON lp.price_list_id = k.price_list_id AND lp.sku = k.sku AND lp.uom = k.uom
         WHERE lp.org_id = $1",
    )
    .bind(org.0)
    .bind(
        rows.iter()
            .map(|r| r.price_list_id.clone())
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|r| r.sku.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.uom.to_string()).collect::<Vec<_>>())
    .fetch_all(pool)
    .await?;
    let stored: HashMap<(String, String, String), Stored> = stored
        .into_iter()
        .map(|p| ((p.price_list_id.clone(), p.sku.clone(), p.uom.clone()), p))
        .collect();
    Ok(rows
        .iter()
        .map(|r| {
            let key = (r.price_list_id.clone(), r.sku.clone(), r.uom.to_string());
            match stored.get(&key) {
                None => Outcome::Created,
                Some(p)
                    if p.amount == r.amount
                        && p.valid_from == r.validity.from
                        && p.valid_to == r.validity.to =>
                {
                    Outcome::Unchanged
                }
                Some(_) => Outcome::Updated,
            }
        })
        .collect())
}

/// Whether a `catalog.pull` of the pull is waiting or running.
pub async fn run_queued(pool: &PgPool, key: &PullKey) -> Result<bool> {
    let (queued,): (bool,) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM jobs
                        WHERE org_id = $1 AND kind = 'catalog.pull'
                          AND state IN ('pending', 'retrying', 'running')
                          AND payload->>'partner' = $2 AND payload->>'entity' = $3)",
    )
    .bind(key.org.0)
    .bind(&key.partner)
    .bind(&key.entity)
    .fetch_one(pool)
    .await?;
    Ok(queued)
}
