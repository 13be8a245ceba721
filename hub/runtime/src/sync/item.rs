//! `sync.item`: one item of a sync that failed (a mapping error, the partner's refusal), as a
//! dead letter. Replaying it pushes the item's **current** version: it reads the item again,
//! maps it with the current mapping and compares it with what the partner confirmed, exactly
//! as the sync would (the payload's `item` is what failed, kept for the admin to read).

use super::config::Entity;
use super::engine::Syncer;
use super::run::{build_syncer, Locked};
use super::source::FeedEntry;
use crate::context::JobContext;
use crate::job::Job;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_store::queue::ClaimedJob;
use switchyard_store::sync as store;

/// The dead letter's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncItem {
    pub partner: String,
    pub entity: Entity,
    pub sku: String,
    /// The mapping (name and content hash) the item failed with.
    pub mapping: String,
    pub mapping_hash: String,
    #[serde(default)]
    pub tombstone: bool,
    /// The mapping's input when it failed.
    #[serde(default)]
    pub item: Value,
    /// The partner's (or the mapping's) error.
    #[serde(default)]
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl JobPayload for SyncItem {
    const KIND: &'static str = "sync.item";
}

pub(super) struct ItemJob {
    pub(super) syncs: super::config::SyncSection,
}

#[async_trait]
impl Job for ItemJob {
    type Payload = SyncItem;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: SyncItem,
    ) -> Result<(), AdapterError> {
        let syncer = build_syncer(ctx, job, &self.syncs, &p.partner, p.entity)?;
        let lock = Locked::acquire(ctx, &syncer.key).await?;
        let result = push_current(ctx, &syncer, &p.sku).await;
        lock.release().await;
        result
    }
}

/// Push the item's current version if the partner has not confirmed it.
async fn push_current(ctx: &JobContext, syncer: &Syncer, sku: &str) -> Result<(), AdapterError> {
    let now = ctx.now();
    let skus = [sku.to_owned()];
    let items = syncer
        .source
        .load(syncer.key.org, syncer.entity, &skus, now)
        .await?;
    let confirmed: HashMap<_, _> = store::confirmed(ctx.pool(), &syncer.key, &skus)
        .await
        .map_err(|e| AdapterError::transient(format!("database: {e}")))?;
    let entry = FeedEntry {
        seq: 0,
        sku: sku.to_owned(),
        deleted: !items.contains_key(sku),
    };
    let plan = syncer.plan(std::slice::from_ref(&entry), &items, &confirmed, false);
    if let Some(failure) = plan.failures.first() {
        return Err(AdapterError::permanent(format!(
            "{} {sku}: {}: {}",
            syncer.entity, failure.class, failure.message
        )));
    }
    let (confirmations, failures, unfinished) = syncer.push(plan.writes).await;
    if !confirmations.is_empty() {
        store::record_confirmed(ctx.pool(), &syncer.key, &confirmations, now)
            .await
            .map_err(|e| AdapterError::transient(format!("database: {e}")))?;
    }
    if let Some(failure) = failures.first() {
        let mut e = AdapterError::permanent(format!(
            "{} {sku}: partner refused: {}",
            syncer.entity, failure.message
        ));
        e.status = failure.status;
        return Err(e);
    }
    match unfinished {
        Some(u) => Err(u.error),
        None => Ok(()),
    }
}
