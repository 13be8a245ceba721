//! Orders in, the store side: `shopify.order.import` turns one Shopify `Order` (from the pull
//! or a webhook) into a canonical order through `mappings/shopify/order.in`. The order pull
//! enqueues one per order version; the job is the runtime's
//! ([`switchyard_runtime::storefront_orders::import`]: a failure, such as a line's SKU that is
//! not one of our products, fails it permanently, a dead letter that imports once replayed
//! after the fix); this module brings Shopify's part, and the order webhooks.
//!
//! Idempotent by the Shopify order id: the stored order's number is `SHOPIFY-{id}` (unique per
//! organization), so a redelivered job, a webhook and a pull of the same order store one
//! order. A newer version (by `updatedAt`, kept in the stored mapped record) replaces the
//! canonical order (an edit) or cancels it (`cancelledAt` set); an older or equal one changes
//! nothing.

use crate::ShopifyAdapter;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::OrgId;
use switchyard_core::model::OrderStatus;
use switchyard_runtime::context::JobContext;
use switchyard_runtime::storefront_orders::{self as storefront, Storefront};
use tracing::info;

pub type ImportOrder = storefront::ImportOrder<ShopifyAdapter>;

pub type OrderImportJob = storefront::OrderImportJob<ShopifyAdapter>;

/// Shopify's own part of what the mapping produces (`mappings/shopify/order.in.toml`).
#[derive(Debug, Deserialize)]
struct Head {
    shopify_id: String,
    customer_po: String,
    cancelled_at: Option<String>,
}

/// Shopify's orders, to the runtime's order flows.
impl Storefront for ShopifyAdapter {
    const NAME: &'static str = "Shopify";
    const IMPORT_KIND: &'static str = "shopify.order.import";
    const VERSION_FIELD: &'static str = "updatedAt";
    const MAPPING: &'static str = "shopify/order.in";
    const ORDER_PREFIX: &'static str = "SHOPIFY-";

    fn order_id(order: &Value) -> String {
        order["id"].as_str().unwrap_or_default().to_owned()
    }

    fn order_ref(order: &Value) -> String {
        order["id"].as_str().unwrap_or("?").to_owned()
    }

    fn head(mapped: &Value) -> Result<storefront::Head, serde_json::Error> {
        let head = Head::deserialize(mapped)?;
        Ok(storefront::Head {
            id: head.shopify_id,
            customer_po: head.customer_po,
            status: if head.cancelled_at.is_some() {
                OrderStatus::Cancelled
            } else {
                OrderStatus::Confirmed
            },
        })
    }

    /// The number of the order's gid (`gid://shopify/Order/42` → `42`).
    fn number_key(id: &str) -> &str {
        id.rsplit('/').next().unwrap_or(id)
    }

    /// Shopify's RFC 3339 times.
    fn version(updated_at: &str) -> Result<DateTime<Utc>, String> {
        DateTime::parse_from_rfc3339(updated_at)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| e.to_string())
    }
}

/// The stored order number of a Shopify order: its idempotency key.
pub fn order_number(shopify_id: &str) -> String {
    storefront::import::order_number::<ShopifyAdapter>(shopify_id)
}

fn db(what: &'static str) -> impl Fn(switchyard_store::StoreError) -> AdapterError {
    move |e| AdapterError::transient(format!("{what}: {e}"))
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
        let key = storefront::import_key::<ShopifyAdapter>(
            &gid,
            order["updatedAt"].as_str().unwrap_or_default(),
        );
        let payload = ImportOrder::new(delivery.partner.clone(), order);
        let mut job = switchyard_store::queue::NewJob::new(
            delivery.org,
            ShopifyAdapter::IMPORT_KIND,
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
