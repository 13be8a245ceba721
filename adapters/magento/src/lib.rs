//! Magento 2 / Adobe Commerce over REST (`kind = "magento"`).
//!
//! * [`config`]: the `[partners.NAME]` section, strict, validated, credentials resolved
//! * [`oauth`]: OAuth 1.0a request signing (RFC 5849), HMAC-SHA256 and HMAC-SHA1
//! * [`search`]: the typed `searchCriteria` builder and parser, paging by `total_count`
//! * [`errors`]: Magento's `{"message": "...%1...", "parameters": [...]}` bodies rendered
//! * [`client`]: routes, auth (integration token, OAuth, admin token cache), exchanges, classes
//! * [`adapter`]: [`MagentoAdapter`]: catalog, MSI/legacy stock and prices from the sync engine
//! * [`integration`]: [`MagentoIntegration`] and [`MagentoFactory`]
//! * `fake` (feature `fake`): a faithful Magento store over loopback HTTP
//!
//! * [`special`]: special prices with dates, kept equal to the document's
//! * [`orders`], [`order_pull`], [`order_import`]: orders in (`magento.orders.pull`,
//!   `magento.order.import`, the checkpoint in `magento_order_pulls`)
//! * [`shipments`]: a `shipment` document becomes `POST /V1/order/{id}/ship` with tracks
//! * [`order_status`]: an `order_status` document becomes `cancel`/`hold`/`unhold`/`comments`;
//!   [`status_job`]: `magento.order.status`, enqueued by the database when our copy of a
//!   Magento order is cancelled, held, released or moves on (migrations 1302, 1303);
//!   [`store_state`]: which status a pulled version of an order gives ours
//!
//! * [`bulk`]: the async bulk API for big batches (bulk UUID, status polling, per-operation results)

pub mod adapter;
pub mod bulk;
pub mod client;
pub mod config;
pub mod errors;
pub mod integration;
pub mod oauth;
pub mod order_import;
pub mod order_pull;
pub mod order_status;
pub mod orders;
pub mod search;
pub mod secret;
pub mod shipments;
pub mod special;
pub mod status_job;
pub mod store_state;

#[cfg(feature = "fake")]
pub mod fake;

pub use adapter::MagentoAdapter;
pub use config::KIND;
pub use integration::{MagentoFactory, MagentoIntegration};
