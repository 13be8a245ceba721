//! The sync engine's tables (migration 0010): what each partner confirmed of each item
//! (`sync_items`) and where each sync stands (`sync_states`), plus the advisory lock that lets
//! one run of a sync at a time across processes.
//!
//! The engine's rule, kept here by the shape of the API: a page's confirmations and the
//! checkpoint past it are written in one transaction ([`commit_page`]), so a crash either
//! keeps both or neither.

use crate::db::{Result, StoreError};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Connection, FromRow, PgConnection, PgPool};
use std::collections::HashMap;
use switchyard_core::catalog::{Conversion, Uom};
use switchyard_core::ids::{JobId, OrgId};
use uuid::Uuid;

/// One sync: a partner and an entity (`catalog`, `inventory`, `prices`) of an organization.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SyncKey {
    pub org: OrgId,
    pub partner: String,
    pub entity: String,
}

impl SyncKey {
    pub fn new(org: OrgId, partner: impl Into<String>, entity: impl Into<String>) -> Self {
        Self {
            org,
            partner: partner.into(),
            entity: entity.into(),
        }
    }

    /// The advisory lock id of this sync: 64 bits of a sha256 over its parts, so distinct
    /// syncs collide with odds of 2^-64, not those of a 32-bit `hashtext`.
    fn lock_id(&self) -> i64 {
        let mut h = Sha256::new();
        h.update(b"switchyard.sync\0");
        h.update(self.org.0.as_bytes());
        h.update(self.partner.as_bytes());
        h.update([0]);
        h.update(self.entity.as_bytes());
        let d = h.finalize();
        i64::from_be_bytes(d[..8].try_into().unwrap_or([0; 8]))
    }
}

/// What a partner confirmed of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    pub hash: [u8; 32],
    pub generation: i64,
    pub external_id: Option<String>,
    /// The input the confirmed payload was mapped from (item text and mapping identity,
    /// migration 0015), when known: the same input maps to the same payload, so the item is
    /// skipped without mapping it.
    pub input_hash: Option<[u8; 32]>,
    /// Where that input was read (migration 0023), when known: while it holds, the item is
    /// skipped without even being read.
    pub mark: Option<FeedMark>,
    /// The confirmed write was a tombstone (the item taken back from the partner): the
    /// partner may no longer have it.
    pub tombstone: bool,
}

/// Where the input of a confirmed payload was read (migration 0023): the item's change-feed
/// seq read before the input was loaded, the identity of the mapping (and code) it went
/// through, and the instant from which the calendar alone may change the item. While the
/// item's feed entry holds the same seq, under the same basis, before that instant, nothing
/// the item is built from changed: its input, and so the confirmed payload, are the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedMark {
    pub seq: i64,
    pub basis: [u8; 32],
    pub valid_until: Option<DateTime<Utc>>,
}

impl FeedMark {
    /// Whether an item whose feed entry holds `seq`, mapped under `basis` at `now`, is still
    /// the one this mark was recorded for.
    pub fn holds(&self, seq: i64, basis: &[u8; 32], now: DateTime<Utc>) -> bool {
        self.seq == seq && &self.basis == basis && self.valid_until.is_none_or(|t| now < t)
    }
}

/// A write the partner just confirmed, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub sku: String,
    pub hash: [u8; 32],
    /// The generation this write made (the confirmed one plus one).
    pub generation: i64,
    pub external_id: Option<String>,
    pub tombstone: bool,
    /// The input the payload was mapped from (None for a tombstone, whose input is built from
    /// the confirmed row itself).
    pub input_hash: Option<[u8; 32]>,
    /// Where that input was read (None: a tombstone, or a replay, which reads no feed entry).
    pub mark: Option<FeedMark>,
}

/// An item mapped from an input not yet recorded to the very payload the partner confirmed, or
/// read again (its feed entry moved) and found to be the recorded input: its input and where it
/// was read are recorded so the next run skips it without mapping, or without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unchanged {
    pub sku: String,
    pub input_hash: [u8; 32],
    /// Where the input was read this time.
    pub mark: Option<FeedMark>,
    /// The confirmed payload's hash and generation, which the row must still hold.
    pub payload_hash: [u8; 32],
    pub payload_generation: i64,
}

/// Where a sync stands.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct SyncState {
    pub partner: String,
    pub entity: String,
    pub checkpoint: i64,
    pub full_cursor: Option<String>,
    pub full_target: Option<i64>,
    pub full_force: bool,
    pub run_job_id: Option<Uuid>,
    pub run_full: bool,
    pub run_state: String,
    pub run_started_at: Option<DateTime<Utc>>,
    pub run_finished_at: Option<DateTime<Utc>>,
    pub examined: i64,
    pub pushed: i64,
    pub skipped: i64,
    pub failed: i64,
    pub last_error: Option<String>,
    /// Of the examined: skipped on their feed mark without being read.
    pub examined_fast: i64,
    /// Of the examined: read from the core (their canonical input built).
    pub built: i64,
    /// Writes the partner has not finished when the run stopped (migration 0034).
    pub unfinished: i64,
}

const STATE_COLUMNS: &str = "partner, entity, checkpoint, full_cursor, full_target, full_force, run_job_id, \
     run_full, run_state, run_started_at, run_finished_at, examined, pushed, skipped, failed, last_error, \
     examined_fast, built, unfinished";

/// How a page moved the sync: counts to add to the run's, and the new position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageProgress {
    pub examined: i64,
    pub pushed: i64,
    pub skipped: i64,
    pub failed: i64,
    pub examined_fast: i64,
    pub built: i64,
    /// The new checkpoint (an incremental page), if the page is done.
    pub checkpoint: Option<i64>,
    /// The last SKU of a full sync's page, if the page is done.
    pub full_cursor: Option<String>,
    /// Writes of the page the partner has not finished (0: the page is done).
    pub unfinished: i64,
}

/// Start (or resume) a run of `key` for `job`. A new job resets the run's counts; the same
/// job again (its retry after a crash) keeps them. `full` with no full sync in progress starts
/// one at the feed's `head`; a full sync in progress is resumed whatever the job asks.
pub async fn begin_run(
    pool: &PgPool,
    key: &SyncKey,
    job: JobId,
    full: bool,
    force: bool,
    head: i64,
    now: DateTime<Utc>,
) -> Result<SyncState> {
    let state = sqlx::query_as::<_, SyncState>(&format!(
        "INSERT INTO sync_states (org_id, partner, entity, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id, partner, entity) DO UPDATE SET updated_at = $4
         RETURNING {STATE_COLUMNS}"
    ))
    .bind(key.org.0)
    .bind(&key.partner)
    .bind(&key.entity)
    .bind(now)
    .fetch_one(pool)
    .await?;
    let same_job = state.run_job_id == Some(job.0);
    let start_full = full && state.full_cursor.is_none();
    let state = sqlx::query_as::<_, SyncState>(&format!(
        "UPDATE sync_states SET
             full_cursor = CASE WHEN $4 THEN '' ELSE full_cursor END,
             full_target = CASE WHEN $4 THEN $5 ELSE full_target END,
             full_force  = CASE WHEN $4 THEN $6 ELSE full_force END,
             run_job_id = $7, run_full = (full_cursor IS NOT NULL OR $4), run_state = 'running',
             run_started_at = CASE WHEN $8 THEN run_started_at ELSE $9 END, run_finished_at = NULL,
             examined = CASE WHEN $8 THEN examined ELSE 0 END,
             pushed   = CASE WHEN $8 THEN pushed ELSE 0 END,
             skipped  = CASE WHEN $8 THEN skipped ELSE 0 END,
             failed   = CASE WHEN $8 THEN failed ELSE 0 END,
             examined_fast = CASE WHEN $8 THEN examined_fast ELSE 0 END,
             built    = CASE WHEN $8 THEN built ELSE 0 END,
             unfinished = CASE WHEN $8 THEN unfinished ELSE 0 END,
             last_error = NULL, updated_at = $9
         WHERE org_id = $1 AND partner = $2 AND entity = $3
         RETURNING {STATE_COLUMNS}"
    ))
    .bind(key.org.0)
    .bind(&key.partner)
    .bind(&key.entity)
    .bind(start_full)
    .bind(head)
    .bind(force)
    .bind(job.0)
    .bind(same_job)
    .bind(now)
    .fetch_one(pool)
    .await?;
    Ok(state)
}

const CONFIRMED_COLUMNS: &str = "sku, confirmed_hash, generation, external_id, input_hash, \
     input_seq, input_basis, input_valid_until, tombstone";

/// What the partner confirmed of `skus` (those it never confirmed are absent).
pub async fn confirmed(
    pool: &PgPool,
    key: &SyncKey,
    skus: &[String],
) -> Result<HashMap<String, Confirmed>> {
    let rows: Vec<ConfirmedRow> = sqlx::query_as(&format!(
        "SELECT {CONFIRMED_COLUMNS} FROM sync_items
         WHERE org_id = $1 AND partner = $2 AND entity = $3 AND sku = ANY($4)"
    ))
    .bind(key.org.0)
    .bind(&key.partner)
    .bind(&key.entity)
    .bind(skus)
    .fetch_all(pool)
    .await?;
    Ok(by_sku(rows))
}

/// What the partner confirmed of the SKUs from `first` to `last` (both included): a full
/// sync's page is every SKU of the feed in such a range, read here by one scan of the primary
/// key instead of one index descent per SKU (`= ANY` of 500 SKUs cost a third of the
/// Postgres CPU of a full sync that reads nothing else).
pub async fn confirmed_between(
    pool: &PgPool,
    key: &SyncKey,
    first: &str,
    last: &str,
) -> Result<HashMap<String, Confirmed>> {
    let rows: Vec<ConfirmedRow> = sqlx::query_as(&format!(
        "SELECT {CONFIRMED_COLUMNS} FROM sync_items
         WHERE org_id = $1 AND partner = $2 AND entity = $3 AND sku >= $4 AND sku <= $5"
    ))
    .bind(key.org.0)
    .bind(&key.partner)
    .bind(&key.entity)
    .bind(first)
    .bind(last)
    .fetch_all(pool)
    .await?;
    Ok(by_sku(rows))
}

fn by_sku(rows: Vec<ConfirmedRow>) -> HashMap<String, Confirmed> {
    rows.into_iter()
        .filter_map(|r| {
            let hash: [u8; 32] = r.confirmed_hash.try_into().ok()?;
            let mark = match (r.input_seq, r.input_basis) {
                (Some(seq), Some(basis)) => Some(FeedMark {
                    seq,
                    basis: basis.try_into().ok()?,
                    valid_until: r.input_valid_until,
                }),
                _ => None,
            };
            Some((
                r.sku,
                Confirmed {
                    hash,
                    generation: r.generation,
                    external_id: r.external_id,
                    input_hash: r.input_hash.and_then(|h| h.try_into().ok()),
                    mark,
                    tombstone: r.tombstone,
                },
            ))
        })
        .collect()
}

#[derive(FromRow)]
struct ConfirmedRow {
    sku: String,
    confirmed_hash: Vec<u8>,
    generation: i64,
    external_id: Option<String>,
    input_hash: Option<Vec<u8>>,
    input_seq: Option<i64>,
    input_basis: Option<Vec<u8>>,
    input_valid_until: Option<DateTime<Utc>>,
    tombstone: bool,
}

/// A page's marks as the three columns' arrays.
struct MarkColumns<'a> {
    seqs: Vec<Option<i64>>,
    bases: Vec<Option<&'a [u8]>>,
    until: Vec<Option<DateTime<Utc>>>,
}

impl<'a> MarkColumns<'a> {
    fn of(marks: impl Iterator<Item = &'a Option<FeedMark>>) -> Self {
        let mut cols = MarkColumns {
            seqs: Vec::new(),
            bases: Vec::new(),
            until: Vec::new(),
        };
        for mark in marks {
            cols.seqs.push(mark.map(|m| m.seq));
            cols.bases.push(mark.as_ref().map(|m| &m.basis[..]));
            cols.until.push(mark.and_then(|m| m.valid_until));
        }
        cols
    }
}

/// Record the partner's confirmations of a page, the inputs of its unchanged items, and move
/// the sync past it, in one transaction. A confirmation never lowers an item's generation (a
/// stale writer loses).
pub async fn commit_page(
    pool: &PgPool,
    key: &SyncKey,
    confirmations: &[Confirmation],
    unchanged: &[Unchanged],
    progress: &PageProgress,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut tx = crate::begin(pool).await?;
    record_confirmations(&mut tx, key, confirmations, now).await?;
    record_inputs(&mut tx, key, unchanged).await?;
    sqlx::query(
        "UPDATE sync_states SET
             examined = examined + $4, pushed = pushed + $5, skipped = skipped + $6, failed = failed + $7,
             checkpoint = greatest(checkpoint, coalesce($8, checkpoint)),
             full_cursor = CASE WHEN full_cursor IS NOT NULL AND $9::text IS NOT NULL THEN $9 ELSE full_cursor END,
             updated_at = $10, examined_fast = examined_fast + $11, built = built + $12,
             unfinished = $13
         WHERE org_id = $1 AND partner = $2 AND entity = $3",
    )
    .bind(key.org.0)
    .bind(&key.partner)
    .bind(&key.entity)
    .bind(progress.examined)
    .bind(progress.pushed)
    .bind(progress.skipped)
    .bind(progress.failed)
    .bind(progress.checkpoint)
    .bind(progress.full_cursor.as_deref())
    .bind(now)
    .bind(progress.examined_fast)
    .bind(progress.built)
    .bind(progress.unfinished)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Record confirmations outside a page (a dead letter's replay).
pub async fn record_confirmed(
    pool: &PgPool,
    key: &SyncKey,
    confirmations: &[Confirmation],
    now: DateTime<Utc>,
) -> Result<()> {
    let mut conn = pool.acquire().await?;
    record_confirmations(&mut conn, key, confirmations, now).await
}

async fn record_confirmations(
    conn: &mut PgConnection,
    key: &SyncKey,
    confirmations: &[Confirmation],
    now: DateTime<Utc>,
) -> Result<()> {
    if confirmations.is_empty() {
        return Ok(());
    }
    let skus: Vec<&str> = confirmations.iter().map(|c| c.sku.as_str()).collect();
    let hashes: Vec<&[u8]> = confirmations.iter().map(|c| &c.hash[..]).collect();
    let generations: Vec<i64> = confirmations.iter().map(|c| c.generation).collect();
    let external: Vec<Option<&str>> = confirmations
        .iter()
        .map(|c| c.external_id.as_deref())
        .collect();
    let tombstones: Vec<bool> = confirmations.iter().map(|c| c.tombstone).collect();
    let inputs: Vec<Option<&[u8]>> = confirmations
        .iter()
        .map(|c| c.input_hash.as_ref().map(|h| &h[..]))
        .collect();
    let marks = MarkColumns::of(confirmations.iter().map(|c| &c.mark));
    // The input hash and its mark are replaced with this write's (NULL for a tombstone), never
    // kept from an earlier write: they vouch for exactly the payload confirmed here.
    sqlx::query(
        "INSERT INTO sync_items (org_id, partner, entity, sku, confirmed_hash, generation, external_id, tombstone,
                                 confirmed_at, input_hash, input_seq, input_basis, input_valid_until)
         SELECT $1, $2, $3, t.sku, t.hash, t.generation, t.external_id, t.tombstone, $9, t.input_hash,
                t.input_seq, t.input_basis, t.input_valid_until
         FROM UNNEST($4::text[], $5::bytea[], $6::bigint[], $7::text[], $8::bool[], $10::bytea[],
                     $11::bigint[], $12::bytea[], $13::timestamptz[])
              AS t(sku, hash, generation, external_id, tombstone, input_hash, input_seq, input_basis,
                   input_valid_until)
         ON CONFLICT (org_id, partner, entity, sku) DO UPDATE SET
             confirmed_hash = EXCLUDED.confirmed_hash, generation = EXCLUDED.generation,
             external_id = coalesce(EXCLUDED.external_id, sync_items.external_id),
             tombstone = EXCLUDED.tombstone, confirmed_at = EXCLUDED.confirmed_at,
             input_hash = EXCLUDED.input_hash, input_seq = EXCLUDED.input_seq,
             input_basis = EXCLUDED.input_basis, input_valid_until = EXCLUDED.input_valid_until
         WHERE sync_items.generation < EXCLUDED.generation",
    )
    .bind(key.org.0)
    .bind(&key.partner)
    .bind(&key.entity)
    .bind(&skus)
    .bind(&hashes)
    .bind(&generations)
    .bind(&external)
    .bind(&tombstones)
    .bind(now)
    .bind(&inputs)
    .bind(&marks.seqs)
    .bind(&marks.bases)
    .bind(&marks.until)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Record the input hashes of items found unchanged, and where they were read. Only where the
/// row still holds the confirmed payload (hash and generation) the input was compared with: a
/// write confirmed meanwhile by another run (a replay) keeps its own input hash and mark.
async fn record_inputs(
    conn: &mut PgConnection,
    key: &SyncKey,
    unchanged: &[Unchanged],
) -> Result<()> {
    if unchanged.is_empty() {
        return Ok(());
    }
    let skus: Vec<&str> = unchanged.iter().map(|u| u.sku.as_str()).collect();
    let bytes = |f: fn(&Unchanged) -> &[u8]| unchanged.iter().map(f).collect::<Vec<_>>();
    let (hashes, inputs) = (bytes(|u| &u.payload_hash), bytes(|u| &u.input_hash));
    let generations: Vec<i64> = unchanged.iter().map(|u| u.payload_generation).collect();
    let marks = MarkColumns::of(unchanged.iter().map(|u| &u.mark));
    sqlx::query(
        "UPDATE sync_items s SET input_hash = t.input_hash, input_seq = t.input_seq,
             input_basis = t.input_basis, input_valid_until = t.input_valid_until
         FROM UNNEST($4::bytea[], $5::text[], $6::bytea[], $7::bigint[], $8::bigint[], $9::bytea[],
                     $10::timestamptz[])
              AS t(input_hash, sku, hash, generation, input_seq, input_basis, input_valid_until)
         WHERE s.org_id = $1 AND s.partner = $2 AND s.entity = $3 AND s.sku = t.sku
           AND s.confirmed_hash = t.hash AND s.generation = t.generation AND NOT s.tombstone",
    )
    .bind(key.org.0)
    .bind(&key.partner)
    .bind(&key.entity)
    .bind(&inputs)
    .bind(&skus)
    .bind(&hashes)
    .bind(&generations)
    .bind(&marks.seqs)
    .bind(&marks.bases)
    .bind(&marks.until)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Refresh the planner's statistics of `sync_items`. A first full sync fills the table from
/// empty, and autovacuum analyses a table only once a tenth of it changed: until then the
/// planner takes it for empty and looks a page's SKUs up by scanning every row of the sync
/// (0.6 s per page at 100,000 items instead of 1 ms).
pub async fn analyze_items(pool: &PgPool) -> Result<()> {
    sqlx::query("ANALYZE sync_items").execute(pool).await?;
    Ok(())
}

/// End a full sync: the checkpoint moves to the head it began at (every item up to there was
/// examined) and the full sync is no longer in progress.
pub async fn finish_full(pool: &PgPool, key: &SyncKey, now: DateTime<Utc>) -> Result<()> {
    sqlx::query(
        "UPDATE sync_states SET checkpoint = greatest(checkpoint, coalesce(full_target, checkpoint)),
             full_cursor = NULL, full_target = NULL, full_force = false, updated_at = $4
         WHERE org_id = $1 AND partner = $2 AND entity = $3",
    )
    .bind(key.org.0)
    .bind(&key.partner)
    .bind(&key.entity)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Record how the run ended (`error` None: succeeded).
pub async fn end_run(
    pool: &PgPool,
    key: &SyncKey,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE sync_states SET run_state = CASE WHEN $4::text IS NULL THEN 'succeeded' ELSE 'failed' END,
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

/// Every sync of the organization that has run, by partner and entity.
pub async fn list_states(pool: &PgPool, org: OrgId) -> Result<Vec<SyncState>> {
    Ok(sqlx::query_as::<_, SyncState>(&format!(
        "SELECT {STATE_COLUMNS} FROM sync_states WHERE org_id = $1 ORDER BY partner, entity"
    ))
    .bind(org.0)
    .fetch_all(pool)
    .await?)
}

/// One sync's state, if it has run.
pub async fn get_state(pool: &PgPool, key: &SyncKey) -> Result<Option<SyncState>> {
    Ok(sqlx::query_as::<_, SyncState>(&format!(
        "SELECT {STATE_COLUMNS} FROM sync_states WHERE org_id = $1 AND partner = $2 AND entity = $3"
    ))
    .bind(key.org.0)
    .bind(&key.partner)
    .bind(&key.entity)
    .fetch_optional(pool)
    .await?)
}

/// The one run of a sync across every process: a session-level Postgres advisory lock on a
/// connection of its own (out of the pool). If the process dies the server ends the session
/// and the lock with it, so a crashed run never blocks the sync; [`SyncLock::release`] ends it
/// on the normal path.
pub struct SyncLock {
    conn: PgConnection,
    id: i64,
}

impl SyncLock {
    /// Take the lock of `key` if no one holds it (`None`: a run is in progress elsewhere).
    pub async fn try_acquire(pool: &PgPool, key: &SyncKey) -> Result<Option<SyncLock>> {
        let mut conn = pool.acquire().await?.detach();
        let id = key.lock_id();
        let (got,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
            .bind(id)
            .fetch_one(&mut conn)
            .await?;
        if !got {
            conn.close().await?;
            return Ok(None);
        }
        Ok(Some(SyncLock { conn, id }))
    }

    /// Unlock and close the connection.
    pub async fn release(mut self) -> Result<()> {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(self.id)
            .execute(&mut self.conn)
            .await?;
        self.conn.close().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Reading the change feed (migration 0009) by SKU and the core products a sync pushes (the
// feed's reader by sequence and its head are in `feed`, stock in `inventory`).

pub use crate::feed::Change as FeedEntry;

/// Every item of `entity` the feed knows (removed ones included) after `after_sku`, in SKU
/// order: a full sync's keyset pages.
pub async fn feed_all(
    pool: &PgPool,
    org: OrgId,
    entity: &str,
    after_sku: &str,
    limit: i64,
) -> Result<Vec<FeedEntry>> {
    let rows: Vec<(i64, String, bool)> = sqlx::query_as(
        "SELECT seq, sku, deleted FROM catalog_changes
         WHERE org_id = $1 AND entity = $2 AND sku > $3
         ORDER BY sku LIMIT $4",
    )
    .bind(org.0)
    .bind(entity)
    .bind(after_sku)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(seq, sku, deleted)| FeedEntry { seq, sku, deleted })
        .collect())
}

/// Which of `skus` are live products of `org` (not removed): the catalog's own query.
pub use crate::catalog::live_skus;

/// The live products among `skus` as canonical Product JSON (`switchyard_core::model::Product`;
/// what the model has no field for goes into `attributes`, over the product's own
/// `attributes` such as an import's allergens), with their live variants.
/// A removed (`deleted_at`) or unknown SKU is absent: the sync pushes its tombstone.
/// Each as (sku, base unit, JSON text): the text as Postgres wrote it, so the sync hashes the
/// item's bytes and decodes only the items it must map (most of a full sync's are unchanged).
pub async fn load_products(
    pool: &PgPool,
    org: OrgId,
    skus: &[String],
) -> Result<Vec<(String, Option<String>, String)>> {
    Ok(sqlx::query_as(
        "SELECT p.sku, p.uom, jsonb_strip_nulls(jsonb_build_object(
             'sku', p.sku, 'name', p.name,
             'description', coalesce(p.long_description, p.short_description),
             'base_uom', p.uom, 'web_visible', p.web_visible, 'material_grade', p.material_grade,
             'product_type', p.product_type, 'tax_code', p.tax_code,
             'dimensions', jsonb_build_object(
                 'length', p.dimensions->'length'->'value', 'width', p.dimensions->'width'->'value',
                 'height', p.dimensions->'height'->'value', 'thickness', p.dimensions->'thickness'->'value',
                 'weight', p.dimensions->'weight'->'value',
                 'length_uom', coalesce(p.dimensions->'length'->>'unit', p.dimensions->'width'->>'unit',
                                        p.dimensions->'thickness'->>'unit'),
                 'weight_uom', p.dimensions->'weight'->>'unit'),
             'variants', coalesce((SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                              'sku', v.sku, 'name', v.name, 'options', v.options, 'barcode', v.gtin,
                              'units', v.units))
                              ORDER BY v.sku)
                          FROM product_variants v
                          WHERE v.org_id = p.org_id AND v.parent_sku = p.sku AND v.deleted_at IS NULL), '[]'::jsonb),
             'attributes', p.attributes || jsonb_build_object(
                 'gtin', p.gtin, 'short_description', p.short_description,
                 'specifications', p.specifications, 'material_specification', p.material_specification,
                 'material_finish', p.material_finish, 'price_visibility', p.price_visibility,
                 'availability_status', p.availability_status, 'lead_time_days', p.lead_time_days,
                 'tags', to_jsonb(p.tags), 'seo_slug', p.seo_slug, 'seo_title', p.seo_title,
                 'seo_description', p.seo_description, 'category', p.category),
             'updated_at', p.updated_at))::text
         FROM products p
         WHERE p.org_id = $1 AND p.sku = ANY($2) AND p.deleted_at IS NULL",
    )
    .bind(org.0)
    .bind(skus)
    .fetch_all(pool)
    .await?)
}

/// The live variants with `units` (migration 0035) of the live products among `skus`, by
/// product SKU, each as (variant SKU, units), in variant SKU order: what the inventory and
/// prices items carry so a storefront that sells only the variants (Shopify) can write each
/// one's stock and price. One query for a page of items; products without such variants are
/// absent.
pub async fn variant_units(
    pool: &PgPool,
    org: OrgId,
    skus: &[String],
) -> Result<HashMap<String, Vec<(String, Decimal)>>> {
    let rows: Vec<(String, String, Decimal)> = sqlx::query_as(
        "SELECT v.parent_sku, v.sku, v.units FROM product_variants v
         JOIN products p ON p.org_id = v.org_id AND p.sku = v.parent_sku AND p.deleted_at IS NULL
         WHERE v.org_id = $1 AND v.parent_sku = ANY($2) AND v.deleted_at IS NULL
           AND v.units IS NOT NULL
         ORDER BY v.parent_sku, v.sku",
    )
    .bind(org.0)
    .bind(skus)
    .fetch_all(pool)
    .await?;
    let mut by_parent: HashMap<String, Vec<(String, Decimal)>> = HashMap::new();
    for (parent, sku, units) in rows {
        by_parent.entry(parent).or_default().push((sku, units));
    }
    Ok(by_parent)
}

/// The own unit conversions (`product_uom_conversions`) of the products among `skus`, by SKU:
/// one query for a page of items.
pub async fn load_conversions(
    pool: &PgPool,
    org: OrgId,
    skus: &[String],
) -> Result<HashMap<String, Vec<Conversion>>> {
    let rows: Vec<(String, String, String, Decimal)> = sqlx::query_as(
        "SELECT sku, from_uom, to_uom, factor FROM product_uom_conversions
         WHERE org_id = $1 AND sku = ANY($2) ORDER BY sku, from_uom, to_uom",
    )
    .bind(org.0)
    .bind(skus)
    .fetch_all(pool)
    .await?;
    let mut by_sku: HashMap<String, Vec<Conversion>> = HashMap::new();
    for (sku, from, to, factor) in rows {
        let unit = |code: &str| {
            Uom::new(code)
                .map_err(|e| StoreError::Invalid(format!("product_uom_conversions of {sku}: {e}")))
        };
        let conversion = Conversion {
            from: unit(&from)?,
            to: unit(&to)?,
            factor,
        };
        by_sku.entry(sku).or_default().push(conversion);
    }
    Ok(by_sku)
}

/// Make sure the sync has a state row (so the API lists it before its first run); its
/// checkpoint.
pub async fn ensure_state(pool: &PgPool, key: &SyncKey, now: DateTime<Utc>) -> Result<i64> {
    let (checkpoint,): (i64,) = sqlx::query_as(
        "INSERT INTO sync_states (org_id, partner, entity, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id, partner, entity) DO UPDATE SET partner = EXCLUDED.partner
         RETURNING checkpoint",
    )
    .bind(key.org.0)
    .bind(&key.partner)
    .bind(&key.entity)
    .bind(now)
    .fetch_one(pool)
    .await?;
    Ok(checkpoint)
}

/// Whether a `sync.run` of the sync is waiting or running.
pub async fn run_queued(pool: &PgPool, key: &SyncKey) -> Result<bool> {
    let (queued,): (bool,) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM jobs
                        WHERE org_id = $1 AND kind = 'sync.run' AND state IN ('pending', 'retrying', 'running')
                          AND payload->>'partner' = $2 AND payload->>'entity' = $3)",
    )
    .bind(key.org.0)
    .bind(&key.partner)
    .bind(&key.entity)
    .fetch_one(pool)
    .await?;
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_ids_differ_by_every_part() {
        let org = OrgId(Uuid::from_u128(7));
        let a = SyncKey::new(org, "shop", "catalog").lock_id();
        assert_eq!(a, SyncKey::new(org, "shop", "catalog").lock_id());
        assert_ne!(a, SyncKey::new(org, "shop", "inventory").lock_id());
        assert_ne!(a, SyncKey::new(org, "shops", "catalog").lock_id());
        assert_ne!(
            a,
            SyncKey::new(OrgId(Uuid::from_u128(8)), "shop", "catalog").lock_id()
        );
        // The separator keeps ("ab", "c…") and ("a", "bc…") apart.
        assert_ne!(
            SyncKey::new(org, "ab", "catalog").lock_id(),
            SyncKey::new(org, "a", "bcatalog").lock_id()
        );
    }
}
