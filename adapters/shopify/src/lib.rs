//! Shopify Admin GraphQL adapter (`kind = "shopify"`).
//!
//! * [`config`]: the `[partners.NAME]` section, strict, validated, credentials resolved
//! * [`client`]: the GraphQL transport, paced by [`bucket`] (Shopify's cost bucket, seeded by
//!   every answer's `throttleStatus`), errors turned into retry classes
//! * [`adapter`]: [`ShopifyAdapter`]: `productSet`, `productVariantsBulkUpdate`,
//!   `inventorySetQuantities` for the sync engine's catalog, prices and inventory
//! * [`bulk`]: catalog and prices batches above `bulk_threshold` as bulk mutations (staged
//!   upload, `bulkOperationRunMutation`, polling or the finish webhook, the result JSONL read as
//!   a stream);
//!   [`bulk_store`] remembers the operation in flight so a crashed process resumes it;
//!   [`bulk_lease`] lets one process at a time run a connection's bulk mutation;
//!   [`bulk_cancel`] cancels one that runs longer than `bulk_cancel_after_secs`
//! * [`orders`]: the incremental order pull (checkpoint with overlap, deduplication)
//! * [`order_import`]: `shopify.order.import`, one Shopify order → a canonical order
//! * [`fulfillment`]: a `shipment` push becomes `fulfillmentCreate` with tracking
//! * [`order_pull`]: `shopify.orders.pull`, the pull from a stored checkpoint
//! * [`prices`]: a page of prices as bulk variant updates and B2B price list fixed prices
//! * [`split`]: calls over Shopify's single-query maximum cost split in halves
//! * [`subscribe`]: `shopify.webhooks.subscribe`, the configured topics' subscriptions
//! * [`webhook`]: `X-Shopify-Hmac-Sha256` verification with secret rotation, stale retries
//! * [`wire`]: Shopify's cost extension and error shapes
//! * [`integration`]: [`ShopifyIntegration`], what the daemon lists
//! * `fake` (feature `fake`): a faithful loopback Shopify (GraphQL parsed and validated,
//!   cost bucket, both API versions' inventory rules, fault switches, recorded writes)

pub mod adapter;
pub mod bucket;
pub mod bulk;
pub mod bulk_cancel;
pub mod bulk_lease;
pub mod bulk_store;
pub mod client;
pub mod config;
pub mod fulfillment;
pub mod integration;
pub mod order_import;
pub mod order_pull;
pub mod orders;
pub mod prices;
pub mod split;
pub mod subscribe;
pub mod variants;
pub mod webhook;
pub mod wire;

#[cfg(feature = "fake")]
pub mod fake;

pub use adapter::ShopifyAdapter;
pub use config::{ApiVersion, KIND};
pub use integration::ShopifyIntegration;
