//! Order forwarding: `supplier.order.forward` places one of our orders with its supplier;
//! `supplier.order.dispatch` (schedules/supplier-forward.toml) queues a forward for every new
//! order of an organization whose supplier takes them `on_create`.
//!
//! Why a dispatcher rather than a job inserted with the order: orders are written by the EDI
//! import, Shopify's order import and the API, all in the store, which knows nothing of the
//! `[suppliers]` configuration; a dispatcher is one query that covers every write path,
//! present and future, and forwards an order that needed review once it becomes `pending`
//! (a hook at creation would miss it). The cost is up to one tick (10 s) of delay.
//!
//! The supplier is given an idempotency key derived from our order ([`order_key`]), never
//! from the job, so a retry, a replayed dead letter or a second forward asked through the API
//! cannot place a second order.

use super::config::{default_order_mapping, ForwardMode, SuppliersSection};
use super::status::{self, Source};
use super::{db, org_slug};
use crate::context::JobContext;
use crate::job::Job;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use switchyard_core::adapter::{OutboundDocument, Payload};
use switchyard_core::error::AdapterError;
use switchyard_core::ids::OrderId;
use switchyard_core::model::OrderStatus;
use switchyard_core::supplier::StatusUpdate;
use switchyard_core::JobPayload;
use switchyard_store::orders;
use switchyard_store::queue::{ClaimedJob, NewJob, Queue, RetrySpec};
use switchyard_store::suppliers as store;
use uuid::Uuid;

/// `supplier.order.forward`: place order `order_id` with `partner` (default: the supplier of
/// the order's organization in `[suppliers]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardOrder {
    pub order_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
}

impl JobPayload for ForwardOrder {
    const KIND: &'static str = "supplier.order.forward";
}

/// The queue key of an order's forward: the dispatcher and the API share it, so asking twice
/// queues one job.
pub fn forward_job_key(order: Uuid) -> String {
    format!("supplier.forward:{order}")
}

/// The idempotency key the supplier sees: our order's id, whatever job carries it.
pub fn order_key(order: Uuid) -> String {
    format!("order-{order}")
}

pub(super) struct ForwardJob {
    pub(super) suppliers: SuppliersSection,
    /// Each configured partner's kind (the default order mapping is `<kind>/order.out`).
    pub(super) kinds: std::collections::BTreeMap<String, String>,
}

impl ForwardJob {
    fn mapping_for(&self, org: Option<&str>, partner: &str, kind: &str) -> String {
        match org.and_then(|o| self.suppliers.get(o)) {
            Some(s) if s.partner == partner => s.order_mapping(kind),
            _ => default_order_mapping(kind),
        }
    }
}

#[async_trait]
impl Job for ForwardJob {
    type Payload = ForwardOrder;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: ForwardOrder,
    ) -> Result<(), AdapterError> {
        let org = job.org_id;
        let order = orders::get(ctx.pool(), org, OrderId(p.order_id))
            .await
            .map_err(db)?
            .ok_or_else(|| {
                AdapterError::permanent(format!("order {} does not exist", p.order_id))
            })?;
        if order.status == OrderStatus::PendingReview {
            return Err(AdapterError::permanent(format!(
                "order {} is pending review: fix and reprocess it before it is forwarded",
                order.order_number
            )));
        }
        let existing = store::get(ctx.pool(), org, order.id).await.map_err(db)?;
        if let Some(id) = existing.as_ref().and_then(|r| r.supplier_order_id.as_ref()) {
            tracing::info!(order = %order.order_number, supplier_order_id = %id, "already forwarded");
            return Ok(());
        }
        let slug = org_slug(ctx, org).await?;
        let partner = p
            .partner
            .clone()
            .or_else(|| existing.as_ref().map(|r| r.partner.clone()))
            .or_else(|| {
                slug.as_ref()
                    .and_then(|s| self.suppliers.get(s))
                    .map(|s| s.partner.clone())
            })
            .ok_or_else(|| {
                AdapterError::permanent(format!(
                    "no supplier serves organization `{}`: add [suppliers.{}] with `partner`",
                    slug.as_deref().unwrap_or("?"),
                    slug.as_deref().unwrap_or("ORG")
                ))
            })?;
        let adapter = ctx.adapters.get(&partner).ok_or_else(|| {
            AdapterError::permanent(format!(
                "unknown partner `{partner}` (configured: {})",
                ctx.adapters.names().join(", ")
            ))
        })?;
        let supplier = adapter.as_supplier().ok_or_else(|| {
            AdapterError::permanent(format!(
                "partner `{partner}` ({} adapter) is not a supplier",
                adapter.kind()
            ))
        })?;
        let kind = self
            .kinds
            .get(&partner)
            .map(String::as_str)
            .unwrap_or(adapter.kind());
        let mapping_name = self.mapping_for(slug.as_deref(), &partner, kind);
        let mapping = ctx.mapping(&mapping_name, None)?;
        let mut state = switchyard_mapping::RunState::default();
        let body = mapping
            .map_record(&order.canonical, &mut state)
            .map_err(|e| {
                AdapterError::permanent(format!(
                    "order {}: mapping `{mapping_name}` ({}): {e}",
                    order.order_number,
                    &mapping.hash[..12.min(mapping.hash.len())]
                ))
            })?;
        {
            let mut conn = ctx.pool().acquire().await.map_err(|e| db(e.into()))?;
            store::queue(&mut conn, org, order.id, &partner, ctx.now())
                .await
                .map_err(db)?;
        }
        let mut actx = ctx.adapter_context(job);
        actx.idempotency_key = order_key(p.order_id);
        let doc = OutboundDocument {
            document: "order".into(),
            payload: Payload::Json { body },
        };
        let ack = supplier.create_order(&actx, &doc).await?;
        let now = ctx.now();
        let mut tx = switchyard_store::begin(ctx.pool())
            .await
            .map_err(|e| db(e.into()))?;
        let mut row = store::lock(&mut tx, org, order.id)
            .await
            .map_err(db)?
            .ok_or_else(|| AdapterError::transient("the order's supplier row went away"))?;
        let first = StatusUpdate {
            supplier_order_id: ack.supplier_order_id.clone(),
            order_number: Some(order.order_number.clone()),
            status: ack.status,
            supplier_status: ack.supplier_status.clone(),
            tracking: None,
            updated_at: now,
        };
        // The event of the first status names the supplier's id.
        row.supplier_order_id = Some(ack.supplier_order_id.clone());
        status::apply_to(&mut tx, &mut row, &first, Source::Forward, now)
            .await
            .map_err(db)?;
        status::adopt_id(&mut tx, &mut row, &ack.supplier_order_id, true, now)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(|e| db(e.into()))?;
        tracing::info!(
            order = %order.order_number,
            partner = %partner,
            supplier_order_id = %ack.supplier_order_id,
            replayed = ack.replayed,
            "order forwarded"
        );
        Ok(())
    }
}

/// `supplier.order.dispatch`: queue a forward for each new order of the job's organization
/// when its supplier takes orders `on_create`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchForwards {}

impl JobPayload for DispatchForwards {
    const KIND: &'static str = "supplier.order.dispatch";
}

/// Orders queued per dispatch; the rest wait for the next tick.
const DISPATCH_BATCH: i64 = 500;

pub(super) struct DispatchJob {
    pub(super) suppliers: SuppliersSection,
    pub(super) retry: RetrySpec,
}

#[async_trait]
impl Job for DispatchJob {
    type Payload = DispatchForwards;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        _: DispatchForwards,
    ) -> Result<(), AdapterError> {
        let org = job.org_id;
        let Some(slug) = org_slug(ctx, org).await? else {
            return Ok(());
        };
        let Some(assignment) = self.suppliers.get(&slug) else {
            return Ok(());
        };
        if assignment.forward != ForwardMode::OnCreate {
            return Ok(());
        }
        let since = store::forwarding_since(ctx.pool(), org, ctx.now())
            .await
            .map_err(db)?;
        let ids = store::orders_to_forward(ctx.pool(), org, since, DISPATCH_BATCH)
            .await
            .map_err(db)?;
        let mut queued = 0;
        for id in ids {
            let now = ctx.now();
            let mut tx = switchyard_store::begin(ctx.pool())
                .await
                .map_err(|e| db(e.into()))?;
            // The row and the job in one transaction: an order is queued once, and never
            // marked queued without its job.
            if store::queue(&mut tx, org, id, &assignment.partner, now)
                .await
                .map_err(db)?
            {
                let payload = ForwardOrder {
                    order_id: id.0,
                    partner: Some(assignment.partner.clone()),
                };
                let job = NewJob::new(
                    org,
                    ForwardOrder::KIND,
                    serde_json::to_value(&payload).unwrap_or_default(),
                )
                .partner(assignment.partner.clone())
                .key(forward_job_key(id.0))
                .retry(self.retry);
                Queue::insert_job(&mut *tx, &job, now).await.map_err(db)?;
                queued += 1;
            }
            tx.commit().await.map_err(|e| db(e.into()))?;
        }
        if queued > 0 {
            tracing::info!(queued, partner = %assignment.partner, "orders queued for the supplier");
        }
        Ok(())
    }
}
