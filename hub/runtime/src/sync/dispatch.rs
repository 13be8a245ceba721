//! `sync.dispatch` {entity?, full, force, changed_only}: enqueue `sync.run` for every
//! configured sync of the job's organization (of one entity, when given).
//!
//! * On change (`changed_only`, a tick every few seconds): only the syncs whose checkpoint is
//!   behind their own entity's latest change in the feed, and only when no run of that sync
//!   is already queued or running.
//!   That is the debounce: a burst of changes while a run is waiting or working is picked up
//!   by that run or the next tick's, never by a run per change.
//! * On a schedule (catalog daily full, inventory every 5 minutes, prices hourly): every
//!   configured sync of the entity, with the schedule's `full` and `force`.
//!
//! Runs are enqueued under the key `sync:PARTNER:ENTITY:HEAD[:full]`, so two processes that
//! see the same tick enqueue one run.

use super::config::{Entity, SyncSection};
use super::run::SyncRun;
use crate::context::JobContext;
use crate::job::Job;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_store::feed;
use switchyard_store::queue::{ClaimedJob, NewJob};
use switchyard_store::sync::{self as store, SyncKey};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncDispatch {
    /// Only the syncs of this entity (all when absent).
    #[serde(default)]
    pub entity: Option<Entity>,
    #[serde(default)]
    pub full: bool,
    #[serde(default)]
    pub force: bool,
    /// Only syncs behind their entity's changes, and none with a run already queued or running.
    #[serde(default)]
    pub changed_only: bool,
}

impl JobPayload for SyncDispatch {
    const KIND: &'static str = "sync.dispatch";
}

pub(super) struct DispatchJob {
    pub(super) syncs: SyncSection,
}

fn db(e: switchyard_store::StoreError) -> AdapterError {
    AdapterError::transient(format!("database: {e}"))
}

#[async_trait]
impl Job for DispatchJob {
    type Payload = SyncDispatch;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: SyncDispatch,
    ) -> Result<(), AdapterError> {
        let org = job.org_id;
        let head = feed::head(ctx.pool(), org).await.map_err(db)?;
        let now = ctx.now();
        let mut runs = Vec::new();
        for (partner, entities) in &self.syncs {
            if ctx.adapters.get(partner).is_none() {
                continue;
            }
            for entity in entities.keys().copied() {
                if p.entity.is_some_and(|e| e != entity) {
                    continue;
                }
                let key = SyncKey::new(org, partner.clone(), entity.as_str());
                let checkpoint = store::ensure_state(ctx.pool(), &key, now)
                    .await
                    .map_err(db)?;
                // Behind on its own entity's changes only: a stock or price change moves the
                // shared head but gives a catalog sync nothing to do.
                if p.changed_only
                    && (checkpoint
                        >= feed::last_change(ctx.pool(), org, entity)
                            .await
                            .map_err(db)?
                        || store::run_queued(ctx.pool(), &key).await.map_err(db)?)
                {
                    continue;
                }
                let run = SyncRun {
                    partner: partner.clone(),
                    entity,
                    full: p.full,
                    force: p.force,
                };
                let mut job_key = format!("sync:{partner}:{entity}:{head}");
                if p.full {
                    job_key.push_str(if p.force { ":full:force" } else { ":full" });
                }
                runs.push(
                    NewJob::new(
                        org,
                        SyncRun::KIND,
                        serde_json::to_value(&run)
                            .map_err(|e| AdapterError::permanent(e.to_string()))?,
                    )
                    .partner(partner.clone())
                    .key(job_key),
                );
            }
        }
        let enqueued = ctx.queue.enqueue_many(&runs).await.map_err(db)?;
        if enqueued > 0 {
            tracing::info!(enqueued, head, "sync runs dispatched");
        }
        Ok(())
    }
}
