//! Orders in, the store side: `shopify.order.import` turns one Shopify `Order` (from the pull
//! or a webhook) into a canonical order. The order pull enqueues one per order version; a
//! failure (the mapping refuses the order, a line's SKU is not one of our products) fails the
//! job permanently, which makes it a dead letter carrying the order and the reason; replaying
//! it after the fix (the product created) imports it.
//!
//! Idempotent by the Shopify order id: the stored order's number is `SHOPIFY-{id}` (unique per
//! organization), so a redelivered job, a webhook and a pull of the same order store one
//! order. A newer version (by `updatedAt`, kept in the stored mapped record) replaces the
//! canonical order (an edit) or cancels it; an older or equal one changes nothing.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::str::FromStr;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::{OrderId, OrgId};
use switchyard_core::model::{Address, Order, OrderLine, OrderStatus, Uom};
use switchyard_core::JobPayload;
use switchyard_runtime::context::JobContext;
use switchyard_runtime::job::Job;
use switchyard_store::orders::{self, NewOrder, OrderInsert, OrderUpdate, ProductRef};
use switchyard_store::queue::ClaimedJob;
use tracing::{info, info_span, Instrument};

pub const MAPPING: &str = "shopify/order.in";

/// The job's payload: the partner and the order as Shopify sent it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportOrder {
    pub partner: String,
    pub order: Value,
}

impl JobPayload for ImportOrder {
    const KIND: &'static str = "shopify.order.import";
}

/// What the mapping produces (`mappings/shopify/order.in.toml`).
#[derive(Debug, Deserialize)]
struct Intake {
    shopify_id: String,
    updated_at: String,
    customer_po: String,
    currency: String,
    ordered_at: Option<DateTime<Utc>>,
    cancelled_at: Option<String>,
    shipping_address: Option<Address>,
    lines: Vec<IntakeLine>,
}

#[derive(Debug, Deserialize)]
struct IntakeLine {
    buyer_line: String,
    sku: String,
    description: Option<String>,
    quantity: String,
    unit_price: String,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created(OrderId),
    /// A newer version replaced the stored order (an edit or a cancellation).
    Updated(OrderId),
    /// The stored order is this version or a newer one.
    Unchanged(OrderId),
}

/// The stored order number of a Shopify order: its idempotency key.
pub fn order_number(shopify_id: &str) -> String {
    let numeric = shopify_id.rsplit('/').next().unwrap_or(shopify_id);
    format!("SHOPIFY-{numeric}")
}

fn db(what: &'static str) -> impl Fn(switchyard_store::StoreError) -> AdapterError {
    move |e| AdapterError::transient(format!("{what}: {e}"))
}

fn decimal(field: &str, v: &str) -> Result<Decimal, String> {
    Decimal::from_str(v).map_err(|e| format!("{field} `{v}`: {e}"))
}

/// Map and check `order`; the canonical order and the mapped record, or why not.
async fn build(
    ctx: &JobContext,
    org: OrgId,
    order: &Value,
) -> Result<(Order, Intake, Value, String), AdapterError> {
    let id = order["id"].as_str().unwrap_or("?").to_owned();
    let refuse = |m: String| AdapterError::permanent(format!("Shopify order `{id}`: {m}"));
    let mapping = ctx.mapping(MAPPING, None)?;
    let mapped = mapping
        .map_record(order, &mut switchyard_mapping::RunState::default())
        .map_err(|e| refuse(format!("mapping {MAPPING}: {e}")))?;
    let intake: Intake = serde_json::from_value(mapped.clone()).map_err(|e| {
        refuse(format!(
            "mapping {MAPPING} produced an unusable record: {e}"
        ))
    })?;
    let mut lines = Vec::with_capacity(intake.lines.len());
    for (i, l) in intake.lines.iter().enumerate() {
        let n = i + 1;
        if orders::find_product(ctx.pool(), org, ProductRef::Sku(&l.sku))
            .await
            .map_err(db("looking up a SKU"))?
            .is_none()
        {
            return Err(refuse(format!(
                "line {n} ({}): unknown SKU `{}` (field lines[{n}].sku)",
                l.buyer_line, l.sku
            )));
        }
        lines.push(OrderLine {
            line_number: n as u32,
            buyer_line: Some(l.buyer_line.clone()),
            sku: l.sku.clone(),
            buyer_part: None,
            gtin: None,
            description: l.description.clone(),
            quantity: decimal("quantity", &l.quantity)
                .map_err(|m| refuse(format!("line {n}: {m}")))?,
            uom: Uom::Ea,
            unit_price: decimal("unit_price", &l.unit_price)
                .map_err(|m| refuse(format!("line {n}: {m}")))?,
            requested_date: None,
        });
    }
    let canonical = Order {
        order_number: order_number(&intake.shopify_id),
        customer_id: String::new(),
        status: if intake.cancelled_at.is_some() {
            OrderStatus::Cancelled
        } else {
            OrderStatus::Confirmed
        },
        currency: intake.currency.clone(),
        ordered_at: intake.ordered_at,
        requested_delivery: None,
        lines,
        billing_address: None,
        shipping_address: intake.shipping_address.clone(),
        supplier_order_ref: None,
        customer_po: Some(intake.customer_po.clone()),
        tracking_numbers: Vec::new(),
        parties: Vec::new(),
    };
    Ok((canonical, intake, mapped, mapping.hash.clone()))
}

/// Import one Shopify order (see the module doc).
pub async fn import(
    ctx: &JobContext,
    org: OrgId,
    p: &ImportOrder,
) -> Result<Outcome, AdapterError> {
    let pool = ctx.pool();
    let (order, intake, mapped, hash) = build(ctx, org, &p.order).await?;
    let canonical = serde_json::to_value(&order)
        .map_err(|e| AdapterError::permanent(format!("serializing the order: {e}")))?;
    let new = NewOrder {
        org,
        order_number: order.order_number.clone(),
        customer_id: None,
        customer_po: intake.customer_po.clone(),
        status: order.status,
        canonical: canonical.clone(),
        source_message_id: None,
        partner: Some(p.partner.clone()),
        source_set: Some(intake.shopify_id.clone()),
        mapped: Some(mapped.clone()),
        mapping_hash: Some(hash.clone()),
        review_errors: Vec::new(),
        reply_to: None,
    };
    let existing = match orders::insert_order(pool, &new)
        .await
        .map_err(db("storing the order"))?
    {
        OrderInsert::Stored(id) => {
            info!(order = %id, shopify = %intake.shopify_id, "Shopify order stored");
            return Ok(Outcome::Created(id));
        }
        OrderInsert::Existing(row) => row,
    };
    let stored_at = existing
        .mapped
        .as_ref()
        .and_then(|m| m["updated_at"].as_str())
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok());
    let incoming_at = DateTime::parse_from_rfc3339(&intake.updated_at).map_err(|e| {
        AdapterError::permanent(format!(
            "Shopify order `{}`: updatedAt `{}`: {e}",
            intake.shopify_id, intake.updated_at
        ))
    })?;
    if stored_at.is_some_and(|s| s >= incoming_at) {
        return Ok(Outcome::Unchanged(existing.id));
    }
    let update = OrderUpdate {
        customer_id: existing.customer_id.clone(),
        customer_po: intake.customer_po.clone(),
        status: order.status,
        canonical,
        review_errors: Vec::new(),
        mapped: Some((mapped, hash)),
    };
    let row = orders::update(pool, org, existing.id, existing.status, &update)
        .await
        .map_err(|e| match e {
            switchyard_store::StoreError::Invalid(m) => {
                AdapterError::permanent(format!("Shopify order `{}`: {m}", intake.shopify_id))
            }
            other => AdapterError::transient(format!("updating the order: {other}")),
        })?;
    info!(order = %row.id, status = row.status.as_str(), "Shopify order updated");
    Ok(Outcome::Updated(row.id))
}

/// Shopify's orders, to the runtime's order flows.
impl switchyard_runtime::storefront_orders::Storefront for crate::ShopifyAdapter {
    const NAME: &'static str = "Shopify";
    const IMPORT_KIND: &'static str = ImportOrder::KIND;
    const VERSION_FIELD: &'static str = "updatedAt";

    fn order_id(order: &Value) -> String {
        order["id"].as_str().unwrap_or_default().to_owned()
    }
}

pub struct OrderImportJob;

#[async_trait::async_trait]
impl Job for OrderImportJob {
    type Payload = ImportOrder;

    async fn run(
        &self,
        ctx: &JobContext,
        job: &ClaimedJob,
        p: ImportOrder,
    ) -> Result<(), AdapterError> {
        let span = info_span!("shopify.order.import", partner = %p.partner, job = %job.id);
        import(ctx, job.org_id, &p)
            .instrument(span)
            .await
            .map(|_| ())
    }
}

/// The `updatedAt` of the version of Shopify order `gid` already imported, if any.
async fn imported_version(
    pool: &sqlx::PgPool,
    org: OrgId,
    gid: &str,
) -> Result<Option<DateTime<Utc>>, AdapterError> {
    let at: Option<Option<String>> = sqlx::query_scalar(
        "SELECT mapped->>'updated_at' FROM orders WHERE org_id = $1 AND order_number = $2",
    )
    .bind(org.0)
    .bind(order_number(gid))
    .fetch_optional(pool)
    .await
    .map_err(|e| AdapterError::transient(format!("reading the imported order: {e}")))?;
    Ok(at
        .flatten()
        .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| t.with_timezone(&Utc)))
}

/// The topics that lead to an order import.
pub const ORDER_TOPICS: &[&str] = &["orders/create", "orders/updated", "orders/cancelled"];

/// `orders/create`, `orders/updated`, `orders/cancelled` deliveries (verified by the seam):
/// the order is read again with `order(id:)` (the webhook body is Shopify's REST shape, and
/// a delayed delivery may be older than the order) and imported like a pulled one, through a
/// `shopify.order.import` job keyed by the order id and `updatedAt`, so a webhook and a pull
/// of the same version import it once.
///
/// A stale retry does nothing (it is stored and was acknowledged): one the seam marked stale
/// by `X-Shopify-Triggered-At` and the staleness window, or one triggered before the
/// `updatedAt` of the version already imported (a retry of an event our import has overtaken;
/// re-reading the order would cost a call and change nothing).
pub struct OrderWebhooks {
    pub shops: std::collections::HashMap<String, std::sync::Arc<crate::ShopifyAdapter>>,
}

#[async_trait::async_trait]
impl switchyard_runtime::webhooks::WebhookProcessor for OrderWebhooks {
    async fn process(
        &self,
        ctx: &JobContext,
        delivery: &switchyard_runtime::webhooks::Delivery,
    ) -> Result<(), AdapterError> {
        if delivery.topic == crate::bulk::FINISH_TOPIC {
            // Wakes this process's waiter; one in another process polls.
            if let (Some(shop), Ok(body)) = (
                self.shops.get(&delivery.partner),
                serde_json::from_slice::<Value>(&delivery.body),
            ) {
                if let Some(op) = body["admin_graphql_api_id"].as_str() {
                    shop.bulk_waiters().finished(op);
                }
            }
            return Ok(());
        }
        if !ORDER_TOPICS.contains(&delivery.topic.as_str()) {
            return Ok(());
        }
        let shop = self.shops.get(&delivery.partner).ok_or_else(|| {
            AdapterError::permanent(format!("`{}` is not a Shopify partner", delivery.partner))
        })?;
        let body: Value = serde_json::from_slice(&delivery.body).map_err(|e| {
            AdapterError::permanent(format!("{} body is not JSON: {e}", delivery.topic))
        })?;
        let gid = match (body["admin_graphql_api_id"].as_str(), body["id"].as_u64()) {
            (Some(gid), _) => gid.to_owned(),
            (None, Some(n)) => format!("gid://shopify/Order/{n}"),
            _ => {
                return Err(AdapterError::permanent(format!(
                    "{} body has no order id",
                    delivery.topic
                )))
            }
        };
        let meta = crate::webhook::DeliveryMeta::of(&delivery.documents);
        if meta.as_ref().is_some_and(|m| m.stale) {
            info!(order = %gid, topic = %delivery.topic, event = %delivery.event_id, "stale Shopify retry (older than the staleness window): not imported");
            return Ok(());
        }
        if let Some(triggered) = meta.and_then(|m| m.triggered_at) {
            if let Some(imported) = imported_version(ctx.pool(), delivery.org, &gid).await? {
                if triggered < imported {
                    info!(order = %gid, topic = %delivery.topic, event = %delivery.event_id, %triggered, %imported, "stale Shopify retry (older than the version imported): not imported");
                    return Ok(());
                }
            }
        }
        let actx = switchyard_core::adapter::AdapterContext {
            org: delivery.org,
            job: None,
            idempotency_key: delivery.id.to_string(),
            correlation_id: delivery.event_id.clone(),
            attempt: 1,
            sink: ctx.sink.clone(),
        };
        let Some(order) = shop.order(&actx, &gid).await? else {
            tracing::warn!(order = %gid, topic = %delivery.topic, "the webhook's order is gone from the shop; nothing to import");
            return Ok(());
        };
        let key = switchyard_runtime::storefront_orders::import_key::<crate::ShopifyAdapter>(
            &gid,
            order["updatedAt"].as_str().unwrap_or_default(),
        );
        let payload = ImportOrder {
            partner: delivery.partner.clone(),
            order,
        };
        let mut job = switchyard_store::queue::NewJob::new(
            delivery.org,
            ImportOrder::KIND,
            serde_json::to_value(&payload).map_err(|e| AdapterError::permanent(e.to_string()))?,
        )
        .partner(delivery.partner.clone())
        .key(key);
        job.correlation_id = Some(delivery.event_id.clone());
        ctx.queue
            .enqueue(job)
            .await
            .map_err(db("enqueueing the order import"))?;
        Ok(())
    }
}
