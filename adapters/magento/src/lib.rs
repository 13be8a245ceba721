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
//! Not yet: the async bulk API, orders in, shipments back (see README.md).

pub mod adapter;
pub mod client;
pub mod config;
pub mod errors;
pub mod integration;
pub mod oauth;
pub mod search;
pub mod secret;

#[cfg(feature = "fake")]
pub mod fake;

pub use adapter::MagentoAdapter;
pub use config::KIND;
pub use integration::{MagentoFactory, MagentoIntegration};
