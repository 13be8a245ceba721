//! `maintenance.cleanup`: retention of dead letters, succeeded jobs, integration logs and
//! webhook deliveries (inbound; outbound events and attempts).

use crate::config::RetentionConfig;
use crate::context::JobContext;
use crate::job::{Job, JobKindSpec};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_store::queue::ClaimedJob;

/// No parameters: the retention periods come from `[retention]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cleanup {}

impl JobPayload for Cleanup {
    const KIND: &'static str = "maintenance.cleanup";
}

struct Retention(RetentionConfig);

pub fn spec(retention: RetentionConfig) -> JobKindSpec {
    JobKindSpec::typed(Retention(retention))
}

#[async_trait]
impl Job for Retention {
    type Payload = Cleanup;

    async fn run(
        &self,
        ctx: &JobContext,
        _job: &ClaimedJob,
        _: Cleanup,
    ) -> Result<(), AdapterError> {
        let transient = |e: switchyard_store::StoreError| AdapterError::transient(e.to_string());
        let now = ctx.now();
        let r = &self.0;
        let days = chrono::Duration::days;
        let (dead, jobs) = ctx
            .queue
            .purge(
                now - days(r.dead_letter_days),
                now - days(r.succeeded_job_days),
            )
            .await
            .map_err(transient)?;
        // A replay's Idempotency-Key is remembered as long as the dead letters it replayed.
        let replay_requests = ctx
            .queue
            .purge_replay_requests(now - days(r.dead_letter_days))
            .await
            .map_err(transient)?;
        let logs = switchyard_store::logs::delete_older_than(ctx.pool(), now - days(r.log_days))
            .await
            .map_err(transient)?;
        let deliveries = switchyard_store::webhooks::delete_older_than(
            ctx.pool(),
            now - days(r.webhook_delivery_days),
        )
        .await
        .map_err(transient)?;
        // Outbound: the events and the delivery attempts, kept as long as inbound deliveries.
        let (events, attempts) = switchyard_store::events::delete_older_than(
            ctx.pool(),
            now - days(r.webhook_delivery_days),
        )
        .await
        .map_err(transient)?;
        tracing::info!(
            dead_letters = dead,
            jobs,
            logs,
            deliveries,
            events,
            attempts,
            replay_requests,
            "retention cleanup done"
        );
        Ok(())
    }
}
