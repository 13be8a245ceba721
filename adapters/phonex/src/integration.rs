//! The PhoneX integration: `[partners.NAME]` tables with `kind = "phonex"` become
//! [`PhonexAdapter`]s. Orders, status webhooks and the stock pull are driven by the runtime's
//! supplier flows and pull engine through the adapter.

use crate::adapter::PhonexAdapter;
use crate::config::{Validated, KIND};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::adapter::{Adapter, AdapterFactory, ConfigError, SecretResolver};
use switchyard_core::diag::Diagnostic;
use switchyard_core::ids::PartnerName;
use switchyard_runtime::integration::{BuildContext, Integration, Parts};
use switchyard_runtime::partner_config::build_adapters;

/// Builds [`PhonexAdapter`]s over one shared connection pool.
#[derive(Debug, Clone)]
pub struct PhonexFactory {
    http: reqwest::Client,
}

impl PhonexFactory {
    /// Fails only if the TLS backend cannot be initialised.
    pub fn new() -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            // A followed redirect could turn the order POST into a GET that looks like success.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http })
    }

    pub fn build_phonex(
        &self,
        partner: &PartnerName,
        config: &serde_json::Value,
        secrets: &dyn SecretResolver,
    ) -> Result<PhonexAdapter, ConfigError> {
        let settings = Validated::from_json(partner, config, secrets)?;
        Ok(PhonexAdapter::new(
            partner.clone(),
            settings,
            self.http.clone(),
        ))
    }
}

impl AdapterFactory for PhonexFactory {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn build(
        &self,
        partner: &PartnerName,
        config: &serde_json::Value,
        secrets: &dyn SecretResolver,
    ) -> Result<Arc<dyn Adapter>, ConfigError> {
        Ok(Arc::new(self.build_phonex(partner, config, secrets)?))
    }
}

/// `kind = "phonex"` partners.
#[derive(Debug, Clone)]
pub struct PhonexIntegration {
    factory: PhonexFactory,
}

impl PhonexIntegration {
    pub fn new() -> Result<Self, reqwest::Error> {
        Ok(Self {
            factory: PhonexFactory::new()?,
        })
    }
}

impl Integration for PhonexIntegration {
    fn name(&self) -> &'static str {
        KIND
    }

    fn partner_kinds(&self) -> &'static [&'static str] {
        &[KIND]
    }

    fn build(&self, cx: &BuildContext<'_>, problems: &mut Vec<Diagnostic>) -> Parts {
        let adapters = build_adapters(cx, KIND, problems, |name, settings, secrets| {
            self.factory.build(name, settings, secrets)
        });
        // Status webhooks become status updates through the adapter's `webhook_updates` and are
        // applied by the runtime's supplier flows: no order logic here.
        Parts {
            adapters,
            webhook_processors: vec![(KIND, switchyard_runtime::supplier::webhook_processor())],
            ..Parts::default()
        }
    }
}
