//! The partner systems this build includes: one line each, each behind a cargo feature (all on
//! by default), so a build can leave one out (`--no-default-features --features http`).
//! Adding a partner system is its own home under `adapters/` plus one line here (see
//! docs/ARCHITECTURE.md, "Adding a partner system").

use std::sync::Arc;
use switchyard_runtime::integration::Integration;

pub fn integrations() -> anyhow::Result<Vec<Arc<dyn Integration>>> {
    Ok(vec![
        // Not a partner system: the hub's email notifications (`[email]`, `notify.*` jobs),
        // always built, since the trigger on `events` enqueues their jobs in every database.
        Arc::new(switchyard_runtime::notify::EmailIntegration),
        #[cfg(feature = "http")]
        Arc::new(switchyard_adapter_http::HttpIntegration::new()?),
        #[cfg(feature = "edi")]
        Arc::new(switchyard_edi_van::EdiIntegration),
        #[cfg(feature = "optima")]
        Arc::new(switchyard_optima::OptimaIntegration::new()?),
        #[cfg(feature = "shopify")]
        Arc::new(switchyard_shopify::ShopifyIntegration::new()?),
        #[cfg(feature = "magento")]
        Arc::new(switchyard_magento::MagentoIntegration::new()?),
        #[cfg(feature = "phonex")]
        Arc::new(switchyard_phonex::PhonexIntegration::new()?),
    ])
}
