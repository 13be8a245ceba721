//! `inventory.reservations.expire`: mark the soft reservations whose time is up as expired,
//! in every organization. An expired reservation stops counting at its time whether or not
//! this has run (availability compares `expires_at` with the clock); running it records the
//! release as an inventory change in the feed, so the inventory syncs push the stock that
//! came back. Scheduled every minute (`schedules/reservation-expiry.toml`).

use crate::context::JobContext;
use crate::job::{Job, JobKindSpec};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_store::queue::ClaimedJob;

/// No parameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpireReservations {}

impl JobPayload for ExpireReservations {
    const KIND: &'static str = "inventory.reservations.expire";
}

struct Expiry;

pub fn spec() -> JobKindSpec {
    JobKindSpec::typed(Expiry)
}

#[async_trait]
impl Job for Expiry {
    type Payload = ExpireReservations;

    async fn run(
        &self,
        ctx: &JobContext,
        _job: &ClaimedJob,
        _: ExpireReservations,
    ) -> Result<(), AdapterError> {
        let expired = switchyard_store::inventory::expire_due(ctx.pool(), ctx.now())
            .await
            .map_err(|e| AdapterError::transient(e.to_string()))?;
        tracing::info!(expired, "reservations expired");
        Ok(())
    }
}
