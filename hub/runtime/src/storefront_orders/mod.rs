//! Orders in from a storefront (Magento, Shopify), written once: both pull their orders from a
//! stored checkpoint and import each through a mapping in the same way, so an adapter brings
//! only what differs: its job kinds, how it names an order and its version ([`Storefront`]),
//! its checkpoint table and how it reads a batch of orders ([`OrderSource`]).
//!
//! * [`pull`] — `PARTNER.orders.pull` (payload `{"partner"}`): one incremental pull from the
//!   stored checkpoint; each order's import is enqueued (keyed by the order's id and version,
//!   so a re-pull of the same version adds nothing) in the transaction that stores the next
//!   checkpoint: the checkpoint advances only with the imports committed.

pub mod pull;

use serde_json::Value;

pub use pull::{OrderPullJob, OrderSource, PullOrders};

/// What one storefront brings to both flows: its name, its orders' kind of import and how an
/// order names itself and its version.
pub trait Storefront: Send + Sync + 'static {
    /// The storefront's name in messages and logs (`Magento`).
    const NAME: &'static str;
    /// One order's import job kind (`magento.order.import`).
    const IMPORT_KIND: &'static str;
    /// The order's field that says which version it is (`updated_at`, `updatedAt`).
    const VERSION_FIELD: &'static str;

    /// The order's id as its import job's key names it.
    fn order_id(order: &Value) -> String;
}

/// One pull's orders (each order once, its newest version, oldest change first) and the
/// checkpoint to store once they are committed.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch<C> {
    pub orders: Vec<Value>,
    pub next: C,
    pub pages: usize,
}

/// The import's idempotency key: one job per order version, whoever enqueues it (the pull or
/// a webhook).
pub fn import_key<S: Storefront>(id: &str, version: &str) -> String {
    format!("{}:{id}@{version}", S::IMPORT_KIND)
}
