//! The catalog change feed (`migrations/0009_catalog.sql` says how and why it works): every
//! change to a product, a variant, their inventory or (once attached) their prices leaves one
//! row per (organization, entity, SKU) with the sequence number of its latest change. The
//! triggers write it; this module reads it, in keyset pages, and takes the head lock writers
//! of more than one row take first.

use crate::db::{Result, StoreError};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgExecutor};
use switchyard_core::ids::OrgId;

/// What a change is to: a sync is per (partner, entity).
/// Also the entity of a sync's config key (`[sync.PARTNER.ENTITY]`), hence `Ord`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedEntity {
    /// A product or variant (its row, tombstone included).
    Catalog,
    /// Stock of a SKU: levels, reservations made, released or expired.
    Inventory,
    /// A SKU's prices: every price row that can move them (migrations/0011_price_feed.sql).
    Prices,
}

impl FeedEntity {
    pub const ALL: [FeedEntity; 3] = [
        FeedEntity::Catalog,
        FeedEntity::Inventory,
        FeedEntity::Prices,
    ];

    /// The `catalog_changes.entity` value.
    pub fn as_str(&self) -> &'static str {
        match self {
            FeedEntity::Catalog => "catalog",
            FeedEntity::Inventory => "inventory",
            FeedEntity::Prices => "prices",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

impl std::fmt::Display for FeedEntity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One changed item: its latest change's sequence number, and whether it is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub seq: i64,
    pub sku: String,
    pub deleted: bool,
}

/// The items of `entity` changed after `after_seq`, oldest change first, at most `limit`. The
/// next page starts after the last one's `seq`. A reader never misses a change that commits
/// after it read: a later commit always has a higher number.
pub async fn changed_since<'e>(
    db: impl PgExecutor<'e>,
    org: OrgId,
    entity: FeedEntity,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<Change>> {
    if limit < 1 {
        return Err(StoreError::Invalid(format!(
            "a feed page holds at least one change, asked for {limit}"
        )));
    }
    let rows: Vec<(i64, String, bool)> = sqlx::query_as(
        "SELECT seq, sku, deleted FROM catalog_changes
         WHERE org_id = $1 AND entity = $2 AND seq > $3 ORDER BY seq LIMIT $4",
    )
    .bind(org.0)
    .bind(entity.as_str())
    .bind(after_seq)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(seq, sku, deleted)| Change { seq, sku, deleted })
        .collect())
}

/// The organization's last sequence number handed out (0 before its first change): how far
/// a sync's checkpoint lags behind.
pub async fn head<'e>(db: impl PgExecutor<'e>, org: OrgId) -> Result<i64> {
    let seq: Option<i64> =
        sqlx::query_scalar("SELECT seq FROM catalog_feed_heads WHERE org_id = $1")
            .bind(org.0)
            .fetch_optional(db)
            .await?;
    Ok(seq.unwrap_or(0))
}

/// The sequence number of the latest change of `entity` still in the feed (0 if none): a sync
/// whose checkpoint is at or past it has nothing to do, however far the shared head moved on
/// other entities' changes.
pub async fn last_change<'e>(
    db: impl PgExecutor<'e>,
    org: OrgId,
    entity: FeedEntity,
) -> Result<i64> {
    let seq: Option<i64> = sqlx::query_scalar(
        "SELECT max(seq) FROM catalog_changes WHERE org_id = $1 AND entity = $2",
    )
    .bind(org.0)
    .bind(entity.as_str())
    .fetch_one(db)
    .await?;
    Ok(seq.unwrap_or(0))
}

/// How many items of `entity` changed after `after_seq`: a sync's lag, counted in its own
/// entity only (the head is shared by all three, so `head - checkpoint` would count stock and
/// price changes against a catalog sync).
pub async fn pending<'e>(
    db: impl PgExecutor<'e>,
    org: OrgId,
    entity: FeedEntity,
    after_seq: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM catalog_changes WHERE org_id = $1 AND entity = $2 AND seq > $3",
    )
    .bind(org.0)
    .bind(entity.as_str())
    .bind(after_seq)
    .fetch_one(db)
    .await?)
}

/// Take the organization's head row for the rest of the transaction `tx`: what a writer of
/// more than one row does before its first change, so every writer locks the head before any
/// catalog or inventory row (one lock order, no deadlocks). Returns the head's number.
pub async fn lock(tx: &mut PgConnection, org: OrgId) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT catalog_feed_lock($1)")
        .bind(org.0)
        .fetch_one(tx)
        .await?)
}
