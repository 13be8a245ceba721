//! Orders in, the hub side: `magento.order.import` turns one Magento order (from the pull)
//! into a canonical order through `mappings/magento/order.in`. The job is the runtime's
//! ([`switchyard_runtime::storefront_orders::import`]: a failure fails it permanently, a dead
//! letter naming the field that imports once replayed after the fix); this module brings
//! Magento's part.
//!
//! Idempotent by the order's `increment_id`: the stored order's number is
//! `MAGENTO-{increment_id}` (unique per organization), so a redelivered job or a re-pull of the
//! same order stores one order. A newer version (by `updated_at`, kept in the stored mapped
//! record) replaces the canonical order (an edit), and moves its status only when the store's
//! state changed (`crate::store_state`: canceled, holded, released); an older or equal one
//! changes nothing.

use crate::orders::MAGENTO_TIME;
use crate::MagentoAdapter;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use switchyard_core::model::OrderStatus;
use switchyard_runtime::storefront_orders::{self as storefront, Storefront};

/// The stored order number prefix; the shipment push finds the Magento order by what follows.
pub const ORDER_PREFIX: &str = "MAGENTO-";

pub type ImportOrder = storefront::ImportOrder<MagentoAdapter>;

pub type OrderImportJob = storefront::OrderImportJob<MagentoAdapter>;

/// Magento's own part of what the mapping produces (`mappings/magento/order.in.toml`).
#[derive(Debug, Deserialize)]
struct Head {
    increment_id: String,
    state: String,
}

/// Magento's orders, to the runtime's order flows.
impl Storefront for MagentoAdapter {
    const NAME: &'static str = "Magento";
    const IMPORT_KIND: &'static str = "magento.order.import";
    const VERSION_FIELD: &'static str = "updated_at";
    const MAPPING: &'static str = "magento/order.in";
    const ORDER_PREFIX: &'static str = ORDER_PREFIX;

    fn order_id(order: &Value) -> String {
        order["entity_id"].to_string()
    }

    fn order_ref(order: &Value) -> String {
        order["increment_id"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| order["entity_id"].to_string())
    }

    fn head(mapped: &Value) -> Result<storefront::Head, serde_json::Error> {
        let head = Head::deserialize(mapped)?;
        // The increment id is both our key and the number the customer knows.
        Ok(storefront::Head {
            status: crate::store_state::on_insert(&head.state),
            customer_po: head.increment_id.clone(),
            id: head.increment_id,
        })
    }

    /// Only a change of the store's `state` moves our order (`crate::store_state`).
    fn status_on_update(
        ours: OrderStatus,
        held_from: Option<OrderStatus>,
        before: Option<&Value>,
        now: &Value,
        _head_status: OrderStatus,
    ) -> OrderStatus {
        let before = before.and_then(|m| m["state"].as_str());
        let now = now["state"].as_str().unwrap_or_default();
        crate::store_state::on_update(ours, held_from, before, now)
    }

    /// Magento's `Y-m-d H:i:s`, UTC.
    fn version(updated_at: &str) -> Result<DateTime<Utc>, String> {
        NaiveDateTime::parse_from_str(updated_at, MAGENTO_TIME)
            .map(|t| t.and_utc())
            .map_err(|e| e.to_string())
    }
}
