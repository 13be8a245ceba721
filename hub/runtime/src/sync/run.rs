//! `sync.run` {partner, entity, full, force}: one run of a sync.
//!
//! * Incremental (the default): feed entries after the checkpoint, up to the head read when
//!   the run began, page by page; each page's confirmations and the checkpoint past it are
//!   committed together; once the feed is read up to that head, the checkpoint moves to it
//!   even when the entity's last change was earlier (the others were other entities').
//! * Full: every item the feed knows, in SKU pages; unchanged items are skipped by hash
//!   unless `force`. Its position (the last SKU committed) is stored with each page, so a
//!   crashed full sync resumes where it stopped; at its end the checkpoint moves to the head
//!   it began at.
//! * One run per sync across processes: a Postgres advisory lock held on a connection of its
//!   own ([`switchyard_store::sync::SyncLock`]). The queue's unique key cannot do it: a manual
//!   run, a schedule and the dispatcher enqueue under different keys, and a unique key says
//!   nothing about jobs already running. A run that finds the lock taken retries later.

use super::config::{self, Entity, SyncSection};
use super::engine::{PageResult, Span, Syncer};
use super::source::PgSource;
use crate::context::JobContext;
use crate::job::Job;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::error::{AdapterError, ErrorClass};
use switchyard_core::JobPayload;
use switchyard_store::queue::ClaimedJob;
use switchyard_store::sync::{self as store, PageProgress, SyncKey, SyncLock};

/// How long a run that found its sync locked waits before it tries again.
const LOCKED_RETRY: Duration = Duration::from_secs(5);

/// `sync.run`'s payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncRun {
    pub partner: String,
    pub entity: Entity,
    /// Examine every item, not only those changed since the checkpoint.
    #[serde(default)]
    pub full: bool,
    /// With `full`: push every item even if the partner confirmed the same content.
    #[serde(default)]
    pub force: bool,
}

impl JobPayload for SyncRun {
    const KIND: &'static str = "sync.run";
}

pub(super) struct RunJob {
    pub(super) syncs: SyncSection,
}

fn db(e: switchyard_store::StoreError) -> AdapterError {
    AdapterError::transient(format!("database: {e}"))
}

/// The sync's parts for `partner` and `entity` from the config, the mappings and adapters.
pub(super) fn build_syncer(
    ctx: &JobContext,
    job: &ClaimedJob,
    syncs: &SyncSection,
    partner: &str,
    entity: Entity,
) -> Result<Syncer, AdapterError> {
    let target = config::target(syncs, partner, entity).ok_or_else(|| {
        AdapterError::permanent(format!(
            "no sync `{partner}` {entity} is configured (add [sync.{partner}.{entity}] with `mapping` and `tombstone`)"
        ))
    })?;
    let adapter = ctx.adapters.get(partner).ok_or_else(|| {
        AdapterError::permanent(format!(
            "unknown partner `{partner}` (configured: {})",
            ctx.adapters.names().join(", ")
        ))
    })?;
    Ok(Syncer {
        key: SyncKey::new(job.org_id, partner, entity.as_str()),
        entity,
        source: Arc::new(PgSource {
            pool: ctx.pool().clone(),
        }),
        adapter: adapter.clone(),
        ctx: ctx.adapter_context(job),
        mapping: ctx.mapping(&target.mapping, None)?,
        tombstone: ctx.mapping(&target.tombstone, None)?,
        document: target.document(entity),
        queue: ctx.queue.clone(),
    })
}

/// The sync's run lock, held for the length of a run (or of a dead letter's replay); the
/// scheduled pull's too (crate::pull), under a key no sync has.
pub(crate) struct Locked(SyncLock);

impl Locked {
    pub(crate) async fn acquire(ctx: &JobContext, key: &SyncKey) -> Result<Locked, AdapterError> {
        match SyncLock::try_acquire(ctx.pool(), key).await.map_err(db)? {
            Some(lock) => Ok(Locked(lock)),
            None => Err(AdapterError {
                class: ErrorClass::Transient {
                    retry_after: Some(LOCKED_RETRY),
                },
                message: format!(
                    "`{}` {} is running in another worker; trying again later",
                    key.partner, key.entity
                ),
                status: None,
            }),
        }
    }

    pub(crate) async fn release(self) {
        if let Err(e) = self.0.release().await {
            // The connection is gone with its session, and the lock with it.
            tracing::warn!(error = %e, "releasing a sync lock failed");
        }
    }
}

#[async_trait]
impl Job for RunJob {
    type Payload = SyncRun;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: SyncRun,
    ) -> Result<(), AdapterError> {
        let syncer = build_syncer(ctx, job, &self.syncs, &p.partner, p.entity)?;
        let page_size = config::target(&self.syncs, &p.partner, p.entity).map_or(500, |t| t.page());
        let lock = Locked::acquire(ctx, &syncer.key).await?;
        let result = run_locked(ctx, job, &syncer, &p, page_size).await;
        let error = result
            .as_ref()
            .err()
            .map(|e| ctx.masker.mask_text(&e.message));
        if let Err(e) = store::end_run(ctx.pool(), &syncer.key, error.as_deref(), ctx.now()).await {
            tracing::warn!(error = %e, "recording the end of a sync run failed");
        }
        lock.release().await;
        result
    }
}

async fn run_locked(
    ctx: &JobContext,
    job: &ClaimedJob,
    syncer: &Syncer,
    p: &SyncRun,
    page_size: i64,
) -> Result<(), AdapterError> {
    let key = &syncer.key;
    let head = syncer.source.head(key.org).await?;
    let state = store::begin_run(ctx.pool(), key, job.id, p.full, p.force, head, ctx.now())
        .await
        .map_err(db)?;
    if let Some(mut cursor) = state.full_cursor.clone() {
        let mut pages: u64 = 0;
        // Confirmations committed since the last ANALYZE.
        let mut written: usize = 0;
        loop {
            // While a full sync grows `sync_items`, keep its statistics in step (after pages
            // 1, 2, 4, 8, ...: a handful of ANALYZEs however large the catalog). A run that
            // wrote nothing since did not change them: a full sync with nothing changed spent
            // most of its Postgres CPU in these ANALYZEs (0.4 s each at 100,000 items).
            if pages.is_power_of_two() && written > 0 {
                store::analyze_items(ctx.pool()).await.map_err(db)?;
                written = 0;
            }
            pages += 1;
            let entries = syncer
                .source
                .all(key.org, syncer.entity, &cursor, page_size)
                .await?;
            let Some(last) = entries.last() else { break };
            let last = last.sku.clone();
            let page = syncer
                .page(&entries, Span::SkuRange, state.full_force, ctx.now())
                .await?;
            written += page.confirmations.len();
            let done = page.unfinished.is_none();
            commit(ctx, syncer, page, None, done.then(|| last.clone())).await?;
            cursor = last;
        }
        store::finish_full(ctx.pool(), key, ctx.now())
            .await
            .map_err(db)?;
        tracing::info!(partner = %key.partner, entity = %key.entity, "full sync done");
    }
    // Incremental: what changed since the checkpoint (after a full sync: since its start).
    let mut checkpoint = store::get_state(ctx.pool(), key)
        .await
        .map_err(db)?
        .map_or(state.checkpoint, |s| s.checkpoint);
    loop {
        let entries = syncer
            .source
            .changed(key.org, syncer.entity, checkpoint, head, page_size)
            .await?;
        let Some(last) = entries.last().map(|e| e.seq) else {
            break;
        };
        let page = syncer
            .page(&entries, Span::Scattered, false, ctx.now())
            .await?;
        let done = page.unfinished.is_none();
        commit(ctx, syncer, page, done.then_some(last), None).await?;
        checkpoint = last;
    }
    // Every change up to `head` is handled now, though the last of this entity may be earlier:
    // the rest were other entities' changes. Once `head` was read, every change numbered up to
    // it was committed (the head row's lock orders commits, migration 0009), so none can show
    // up below it later; a change after it has a higher number and waits for the next run.
    // Without this the checkpoint stayed behind the shared head after every stock or price
    // change. Reached only when every page above committed.
    if checkpoint < head {
        let progress = PageProgress {
            checkpoint: Some(head),
            ..PageProgress::default()
        };
        store::commit_page(ctx.pool(), key, &[], &[], &progress, ctx.now())
            .await
            .map_err(db)?;
    }
    Ok(())
}

/// Commit a page's confirmations and, when the page is done, the position past it; a page
/// whose writes kept failing transiently keeps what was confirmed and fails the run, which
/// retries from the same position (the confirmed items are then skipped by hash).
async fn commit(
    ctx: &JobContext,
    syncer: &Syncer,
    page: PageResult,
    checkpoint: Option<i64>,
    full_cursor: Option<String>,
) -> Result<(), AdapterError> {
    let progress = PageProgress {
        examined: page.examined,
        pushed: page.confirmations.len() as i64,
        skipped: page.skipped,
        failed: page.failed,
        examined_fast: page.examined_fast,
        built: page.built,
        checkpoint,
        full_cursor,
        unfinished: page.unfinished_items,
    };
    store::commit_page(
        ctx.pool(),
        &syncer.key,
        &page.confirmations,
        &page.unchanged,
        &progress,
        ctx.now(),
    )
    .await
    .map_err(db)?;
    match page.unfinished {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
