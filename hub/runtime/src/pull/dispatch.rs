//! `catalog.pull.dispatch` {entity?, full}: enqueue `catalog.pull` for every configured pull
//! of the job's organization (of one entity, when given) — what the schedules run (catalog
//! daily, inventory every 5 minutes, prices hourly). With no pull configured it does nothing,
//! so the shipped schedules are harmless in a hub that pulls from no one.
//!
//! A pull whose run is still waiting or running gets no second one: a slow pass is not
//! piled up behind by every tick. Runs are keyed by the dispatch job, so a dispatch retried
//! after a crash enqueues each run once.

use super::config::{PullEntity, PullSection};
use super::run::{db, PullRun};
use crate::context::JobContext;
use crate::job::Job;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_store::pull::{self as store, PullKey};
use switchyard_store::queue::{ClaimedJob, NewJob};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullDispatch {
    /// Only the pulls of this entity (all when absent).
    #[serde(default)]
    pub entity: Option<PullEntity>,
    /// Runs that read every record from the first page.
    #[serde(default)]
    pub full: bool,
}

impl JobPayload for PullDispatch {
    const KIND: &'static str = "catalog.pull.dispatch";
}

pub(super) struct DispatchJob {
    pub(super) pulls: PullSection,
}

#[async_trait]
impl Job for DispatchJob {
    type Payload = PullDispatch;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: PullDispatch,
    ) -> Result<(), AdapterError> {
        let mut runs = Vec::new();
        for (partner, entities) in &self.pulls {
            if ctx.adapters.get(partner).is_none() {
                continue;
            }
            for entity in entities.keys().copied() {
                if p.entity.is_some_and(|e| e != entity) {
                    continue;
                }
                let key = PullKey::new(job.org_id, partner.clone(), entity.as_str());
                if store::run_queued(ctx.pool(), &key).await.map_err(db)? {
                    continue;
                }
                let run = PullRun {
                    partner: partner.clone(),
                    entity,
                    full: p.full,
                };
                runs.push(
                    NewJob::new(
                        job.org_id,
                        PullRun::KIND,
                        serde_json::to_value(&run)
                            .map_err(|e| AdapterError::permanent(e.to_string()))?,
                    )
                    .partner(partner.clone())
                    .key(format!("{}:pull:{partner}:{entity}", job.id)),
                );
            }
        }
        let enqueued = ctx.queue.enqueue_many(&runs).await.map_err(db)?;
        if enqueued > 0 {
            tracing::info!(enqueued, "pull runs dispatched");
        }
        Ok(())
    }
}
