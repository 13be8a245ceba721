//! The webhook side: a [`WebhookProcessor`] for supplier partner kinds, and
//! `supplier.status.apply`, the same application as a job (a list of updates for a partner).
//!
//! Supplier adapters register [`webhook_processor`] for their kind in `Integration::build`
//! (`Parts::webhook_processors`); a verified delivery is turned into status updates by the
//! adapter's own `Supplier::webhook_updates` and applied here, so no adapter touches orders.

use super::db;
use super::status::{self, Source};
use crate::context::JobContext;
use crate::job::Job;
use crate::webhooks::{Delivery, WebhookProcessor};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::OrgId;
use switchyard_core::supplier::{StatusUpdate, Supplier};
use switchyard_core::JobPayload;
use switchyard_store::queue::ClaimedJob;

/// The processor supplier adapters register for their partner kind.
pub fn webhook_processor() -> Arc<dyn WebhookProcessor> {
    Arc::new(StatusWebhooks)
}

struct StatusWebhooks;

fn supplier_of<'a>(ctx: &'a JobContext, partner: &str) -> Result<&'a dyn Supplier, AdapterError> {
    let adapter = ctx
        .adapters
        .get(partner)
        .ok_or_else(|| AdapterError::permanent(format!("unknown partner `{partner}`")))?;
    adapter.as_supplier().ok_or_else(|| {
        AdapterError::permanent(format!(
            "partner `{partner}` ({} adapter) is not a supplier",
            adapter.kind()
        ))
    })
}

/// Apply `updates` one by one, each in its own transaction (one order's failure to apply does
/// not undo another's change; a retry re-applies nothing that applied).
async fn apply_all(
    ctx: &JobContext,
    org: OrgId,
    partner: &str,
    updates: &[StatusUpdate],
    source: Source,
) -> Result<(), AdapterError> {
    for update in updates {
        status::apply(ctx.pool(), org, partner, update, source, ctx.now())
            .await
            .map_err(db)?;
    }
    Ok(())
}

#[async_trait]
impl WebhookProcessor for StatusWebhooks {
    async fn process(&self, ctx: &JobContext, delivery: &Delivery) -> Result<(), AdapterError> {
        let supplier = supplier_of(ctx, &delivery.partner)?;
        let updates = supplier.webhook_updates(&delivery.topic, &delivery.body)?;
        apply_all(
            ctx,
            delivery.org,
            &delivery.partner,
            &updates,
            Source::Webhook,
        )
        .await
    }
}

/// `supplier.status.apply` {partner, updates}: apply status updates as if they had come by
/// webhook (an admin's correction, a supplier integration's own job).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyStatus {
    pub partner: String,
    pub updates: Vec<StatusUpdate>,
}

impl JobPayload for ApplyStatus {
    const KIND: &'static str = "supplier.status.apply";
}

pub(super) struct ApplyJob;

#[async_trait]
impl Job for ApplyJob {
    type Payload = ApplyStatus;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: ApplyStatus,
    ) -> Result<(), AdapterError> {
        supplier_of(ctx, &p.partner)?;
        apply_all(ctx, job.org_id, &p.partner, &p.updates, Source::Job).await
    }
}
