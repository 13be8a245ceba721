//! Orders in from a storefront (Magento, Shopify), written once: both pull their orders from a
//! stored checkpoint and import each through a mapping in the same way, so an adapter brings
//! only what differs: its job kinds, its mapping, how it names an order, its version and its
//! status, its order numbers ([`Storefront`]), its checkpoint table and how it reads a batch
//! of orders ([`OrderSource`]).
//!
//! * [`pull`] — `PARTNER.orders.pull` (payload `{"partner"}`): one incremental pull from the
//!   stored checkpoint; each order's import is enqueued (keyed by the order's id and version,
//!   so a re-pull of the same version adds nothing) in the transaction that stores the next
//!   checkpoint: the checkpoint advances only with the imports committed.
//! * [`import`] — `PARTNER.order.import` (payload `{"partner", "order"}`): one order through
//!   the storefront's mapping into a canonical order, idempotent by the storefront's order id;
//!   a newer version replaces or cancels it; a mapping or SKU failure is a dead letter naming
//!   the field.

pub mod import;
pub mod pull;

use chrono::{DateTime, Utc};
use serde_json::Value;
use switchyard_core::model::OrderStatus;
use switchyard_store::queue::ClaimedJob;

pub use import::{Head, ImportOrder, OrderImportJob, Outcome};
pub use pull::{OrderPullJob, OrderSource, PullOrders};

/// What one storefront brings to both flows: its name and its orders as they come, mapped
/// and stored.
pub trait Storefront: Send + Sync + 'static {
    /// The storefront's name in messages and logs (`Magento`).
    const NAME: &'static str;
    /// One order's import job kind (`magento.order.import`).
    const IMPORT_KIND: &'static str;
    /// The order's field that says which version it is (`updated_at`, `updatedAt`); the
    /// mapping gives it as `updated_at`.
    const VERSION_FIELD: &'static str;
    /// The order mapping (`magento/order.in`): it gives the common intake (`updated_at`,
    /// `currency`, `ordered_at`, `shipping_address`, `lines`) and the storefront's [`Head`].
    const MAPPING: &'static str;
    /// The stored order number's prefix (`MAGENTO-`): the number is the prefix and
    /// [`Self::number_key`] of the order's id.
    const ORDER_PREFIX: &'static str;

    /// The order's id as its import job's key names it.
    fn order_id(order: &Value) -> String;

    /// How a refusal names the order as the storefront sent it (before it is mapped).
    fn order_ref(order: &Value) -> String;

    /// The storefront's own part of the mapped record: the order's id, the customer's
    /// reference and our status (how the storefront says an order is cancelled).
    fn head(mapped: &Value) -> Result<Head, serde_json::Error>;

    /// Our status after a newer version of an order we stored: `ours` (held from
    /// `held_from`), the mapped record stored last (`before`) and the new one (`now`), whose
    /// [`Head`] says `head_status`. By default the new version's own status; a storefront
    /// whose re-imports must not move an order our side moved on (Magento: a note we add comes
    /// back as a new version) decides from the change of its own state.
    fn status_on_update(
        ours: OrderStatus,
        held_from: Option<OrderStatus>,
        before: Option<&Value>,
        now: &Value,
        head_status: OrderStatus,
    ) -> OrderStatus {
        let _ = (ours, held_from, before, now);
        head_status
    }

    /// The mapped `updated_at` as an instant, or why it is not one.
    fn version(updated_at: &str) -> Result<DateTime<Utc>, String>;

    /// What of the order's id follows [`Self::ORDER_PREFIX`] in the stored number.
    fn number_key(id: &str) -> &str {
        id
    }
}

/// One pull's orders (each order once, its newest version, oldest change first) and the
/// checkpoint to store once they are committed.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch<C> {
    pub orders: Vec<Value>,
    pub next: C,
    pub pages: usize,
}

/// The span of one job of these flows: its name is fixed where it is written, so the kind
/// (`magento.orders.pull`) goes in a field.
fn span(kind: &'static str, partner: &str, job: &ClaimedJob) -> tracing::Span {
    tracing::info_span!("storefront_orders", kind, partner = %partner, job = %job.id)
}

/// The import's idempotency key: one job per order version, whoever enqueues it (the pull or
/// a webhook).
pub fn import_key<S: Storefront>(id: &str, version: &str) -> String {
    format!("{}:{id}@{version}", S::IMPORT_KIND)
}
