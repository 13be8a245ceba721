//! `catalog.pull` {partner, entity, full}: one run of a pull.
//!
//! Page by page from the stored cursor: ask the partner's adapter for a page, map, check and
//! store its records ([`super::items`]), bury the ones that failed, then add the page's
//! figures and move the cursor past it in one statement. A run that dies (the process, the
//! partner, the database) resumes at the page it was on; storing that page again changes
//! nothing, because every upsert leaves an equal row alone and the change feed unmoved.
//!
//! * The partner's rate limit (429) is waited out within the run (its `Retry-After`, six
//!   rounds at most); any other transient failure ends the run, which the job's retry policy
//!   brings back at the cursor.
//! * `full` forgets the cursor of an unfinished pass and reads every record from the start.
//! * One run per pull across processes: the sync engine's advisory lock, under the pull's
//!   own key; a run that finds it taken retries later.

use super::config::{self, PullEntity, PullSection, PullTarget};
use super::items;
use super::record;
use crate::context::JobContext;
use crate::job::Job;
use crate::sync::run::Locked;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::adapter::{Adapter, AdapterContext, PullPage, PullRequest};
use switchyard_core::error::{AdapterError, ErrorClass};
use switchyard_core::JobPayload;
use switchyard_mapping::Mapping;
use switchyard_store::pull::{self as store, PageFigures, PullKey};
use switchyard_store::queue::ClaimedJob;

/// Rate-limited answers in a row before the run gives the page up to the job's retry.
const THROTTLED_ROUNDS: u32 = 6;
/// The longest pause between them (a partner asking for more is retried by the job later).
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// `catalog.pull`'s payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullRun {
    pub partner: String,
    pub entity: PullEntity,
    /// Forget the cursor of an unfinished pass and read every record from the first page.
    #[serde(default)]
    pub full: bool,
}

impl JobPayload for PullRun {
    const KIND: &'static str = "catalog.pull";
}

pub(super) struct RunJob {
    pub(super) pulls: PullSection,
}

pub(super) fn db(e: switchyard_store::StoreError) -> AdapterError {
    AdapterError::transient(format!("database: {e}"))
}

/// Everything one run needs.
struct Puller<'a> {
    key: PullKey,
    entity: PullEntity,
    target: &'a PullTarget,
    adapter: Arc<dyn Adapter>,
    actx: AdapterContext,
    mapping: Arc<Mapping>,
}

#[async_trait]
impl Job for RunJob {
    type Payload = PullRun;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: PullRun,
    ) -> Result<(), AdapterError> {
        let target = config::target(&self.pulls, &p.partner, p.entity).ok_or_else(|| {
            AdapterError::permanent(format!(
                "no {} pull is configured for partner `{}` (add [pull.{}.{}] with `mapping`)",
                p.entity, p.partner, p.partner, p.entity
            ))
        })?;
        let adapter = ctx.adapters.get(&p.partner).ok_or_else(|| {
            AdapterError::permanent(format!(
                "unknown partner `{}` (configured: {})",
                p.partner,
                ctx.adapters.names().join(", ")
            ))
        })?;
        let puller = Puller {
            key: PullKey::new(job.org_id, p.partner.clone(), p.entity.as_str()),
            entity: p.entity,
            target,
            adapter: adapter.clone(),
            actx: ctx.adapter_context(job),
            mapping: ctx.mapping(&target.mapping, None)?,
        };
        let lock = Locked::acquire(ctx, &puller.key.lock_key()).await?;
        let span = tracing::info_span!("catalog_pull", partner = %p.partner, entity = %p.entity);
        let result =
            tracing::Instrument::instrument(run_locked(ctx, job, &puller, p.full), span).await;
        let error = result
            .as_ref()
            .err()
            .map(|e| ctx.masker.mask_text(&e.message));
        if let Err(e) = store::end_run(ctx.pool(), &puller.key, error.as_deref(), ctx.now()).await {
            tracing::warn!(error = %e, "recording the end of a pull run failed");
        }
        lock.release().await;
        result
    }
}

async fn run_locked(
    ctx: &JobContext,
    job: &ClaimedJob,
    puller: &Puller<'_>,
    full: bool,
) -> Result<(), AdapterError> {
    let key = &puller.key;
    let state = store::begin_run(ctx.pool(), key, job.id, full, ctx.now())
        .await
        .map_err(db)?;
    let mut cursor = state.cursor;
    let params = puller.target.params_json();
    loop {
        let request = PullRequest {
            entity: puller.entity.as_str().to_owned(),
            cursor: cursor.clone(),
            params: params.clone(),
        };
        let page = fetch(puller, &request).await?;
        if page.next_cursor.is_some() && page.next_cursor == cursor {
            return Err(AdapterError::permanent(format!(
                "partner `{}` answered the page at cursor `{}` with the same cursor: the pull would never end",
                key.partner,
                cursor.unwrap_or_default()
            )));
        }
        let figures = store_page(ctx, puller, &page.records).await?;
        store::commit_page(
            ctx.pool(),
            key,
            &figures,
            page.next_cursor.as_deref(),
            ctx.now(),
        )
        .await
        .map_err(db)?;
        tracing::debug!(
            records = page.records.len(),
            failed = figures.failed,
            "page stored"
        );
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    tracing::info!("pull done");
    Ok(())
}

/// One page from the partner, waiting out its rate limit.
async fn fetch(puller: &Puller<'_>, request: &PullRequest) -> Result<PullPage, AdapterError> {
    let mut round = 0;
    loop {
        match puller.adapter.pull(&puller.actx, request).await {
            Err(e) if matches!(e.class, ErrorClass::RateLimited { .. }) => {
                round += 1;
                if round >= THROTTLED_ROUNDS {
                    return Err(e);
                }
                let backoff = Duration::from_millis(200 << round.min(6));
                let pause = e.class.retry_after().unwrap_or(backoff).max(backoff);
                tokio::time::sleep(pause.min(MAX_PAUSE)).await;
            }
            answer => return answer,
        }
    }
}

/// Store a page's records; bury those that failed; the page's figures.
async fn store_page(
    ctx: &JobContext,
    puller: &Puller<'_>,
    records: &[Value],
) -> Result<PageFigures, AdapterError> {
    let results = items::store(
        ctx.pool(),
        puller.key.org,
        puller.entity,
        &puller.mapping,
        records,
    )
    .await
    .map_err(db)?;
    let mut figures = PageFigures {
        seen: records.len() as i64,
        ..PageFigures::default()
    };
    for (record, result) in records.iter().zip(results) {
        match result {
            Ok(outcome) => figures.count(outcome),
            Err(error) => {
                figures.failed += 1;
                record::bury(
                    ctx,
                    &puller.key,
                    puller.entity,
                    &puller.mapping,
                    record,
                    &error,
                )
                .await?;
            }
        }
    }
    Ok(figures)
}
