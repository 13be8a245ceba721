//! `magento.order.status` (payload `{"partner", "order_id", "change": <order_status document>}`):
//! our status change of a Magento order pushed to its store ([`crate::order_status`]). Enqueued
//! by the database in the transaction that changed the order's status (migrations
//! `1302_magento_order_status_push.sql`, `1303_magento_order_hold_push.sql`), only for orders that came from a Magento store, so
//! no code path that cancels an order has to remember the store. A refusal (the store's order
//! is complete, or on hold) is permanent: a dead letter with Magento's reason, replayable once
//! the store's order is fixed.
//!
//! Migration 1303 widened it to holds (`hold`, `unhold`) and status notes (`comment`). Jobs
//! of one order can run out of order (a retried hold after the release's unhold), so a hold
//! or unhold is checked against our order's status when it runs: one our order no longer
//! calls for (held again since an unhold was queued, released since a hold was) is skipped,
//! and the later change's own job brings the store in line. A status note is sent only when
//! the connection's `status_notes = true`; otherwise the job ends without a call and says so.

use crate::order_status::{Action, StatusChange};
use crate::MagentoAdapter;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::OrderId;
use switchyard_core::model::OrderStatus;
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
            let ours = switchyard_store::orders::get(ctx.pool(), job.org_id, OrderId(p.order_id))
                .await
                .map_err(|e| AdapterError::transient(format!("reading order {}: {e}", p.order_id)))?
                .map(|o| o.status);
            if let Some(why) = outdated(p.change.action, ours) {
                info!(order_number = %p.change.order_number, action = ?p.change.action,
                    "not sent: {why}");
                return Ok(());
            }
            if p.change.action == Action::Comment && !store.settings().status_notes {
                info!(order_number = %p.change.order_number,
                    "status note not sent: status notes are off for this connection (status_notes = false)");
                return Ok(());
            }
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

/// Why a hold or unhold our order's status no longer calls for is not sent; `None` to send.
fn outdated(action: Action, ours: Option<OrderStatus>) -> Option<&'static str> {
    match (action, ours) {
        (Action::Hold, Some(s)) if s != OrderStatus::OnHold => {
            Some("the order is not on hold any more (its later change is pushed by its own job)")
        }
        (Action::Unhold, Some(OrderStatus::OnHold)) => {
            Some("the order is on hold again (its later hold is pushed by its own job)")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_or_unhold_the_order_no_longer_calls_for_is_not_sent() {
        use OrderStatus::*;
        assert!(outdated(Action::Hold, Some(OnHold)).is_none());
        assert!(outdated(Action::Hold, Some(Confirmed)).is_some());
        assert!(outdated(Action::Hold, Some(Cancelled)).is_some());
        assert!(outdated(Action::Unhold, Some(Ready)).is_none());
        assert!(outdated(Action::Unhold, Some(OnHold)).is_some());
        assert!(outdated(Action::Cancel, Some(Cancelled)).is_none());
        assert!(outdated(Action::Comment, Some(InProduction)).is_none());
    }
}
