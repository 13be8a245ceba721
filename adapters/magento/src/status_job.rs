//! `magento.order.status` (payload `{"partner", "order_id", "change": <order_status document>}`):
//! our status change of a Magento order pushed to its store ([`crate::order_status`]). Enqueued
//! by the database in the transaction that cancelled the order (migration
//! `1302_magento_order_status_push.sql`), only for orders that came from a Magento store, so
//! no code path that cancels an order has to remember the store. A refusal (the store's order
//! is complete, or on hold) is permanent: a dead letter with Magento's reason, replayable once
//! the store's order is fixed.

use crate::order_status::StatusChange;
use crate::MagentoAdapter;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use switchyard_core::error::AdapterError;
use switchyard_core::JobPayload;
use switchyard_runtime::context::JobContext;
use switchyard_runtime::job::Job;
use switchyard_store::queue::ClaimedJob;
use tracing::{info, info_span, Instrument};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushOrderStatus {
    pub partner: String,
    /// Our order (for the logs; the store finds it by `change.order_number`).
    pub order_id: uuid::Uuid,
    pub change: StatusChange,
}

impl JobPayload for PushOrderStatus {
    const KIND: &'static str = "magento.order.status";
}

pub struct OrderStatusJob {
    pub stores: HashMap<String, Arc<MagentoAdapter>>,
}

#[async_trait::async_trait]
impl Job for OrderStatusJob {
    type Payload = PushOrderStatus;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: PushOrderStatus,
    ) -> Result<(), AdapterError> {
        let span = info_span!("magento.order.status", partner = %p.partner, order = %p.order_id, job = %job.id);
        async {
            let store = self.stores.get(&p.partner).ok_or_else(|| {
                AdapterError::permanent(format!("`{}` is not a Magento partner", p.partner))
            })?;
            let body = serde_json::to_value(&p.change)
                .map_err(|e| AdapterError::permanent(e.to_string()))?;
            let receipt = store
                .push_order_status(&ctx.adapter_context(job), &body)
                .await?;
            info!(
                order_number = %p.change.order_number,
                action = ?p.change.action,
                duplicate = receipt.duplicate,
                "Magento order status pushed"
            );
            Ok(())
        }
        .instrument(span)
        .await
    }
}
