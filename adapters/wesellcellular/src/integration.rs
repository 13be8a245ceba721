//! The WesellCellular integration: `[partners.NAME]` tables with `kind = "wesellcellular"`
//! become [`WesellAdapter`]s; the pull engine brings stock and prices in, the supplier flows
//! place and poll orders through [`switchyard_core::Adapter::as_supplier`].

use crate::adapter::WesellAdapter;
use crate::config::KIND;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::adapter::{Adapter, AdapterFactory, ConfigError, SecretResolver};
use switchyard_core::diag::Diagnostic;
use switchyard_core::ids::PartnerName;
use switchyard_runtime::integration::{BuildContext, Integration, Parts};
use switchyard_runtime::partner_config::build_adapters;

/// Builds [`WesellAdapter`]s over one shared connection pool.
#[derive(Debug, Clone)]
pub struct WesellFactory {
    http: reqwest::Client,
}

impl WesellFactory {
    /// Fails only if the TLS backend cannot be initialised.
    pub fn new() -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            // A redirect can turn the order POST into a GET whose 200 looks like success.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http })
    }

    pub fn build_wesell(
        &self,
        partner: &PartnerName,
        config: &serde_json::Value,
        secrets: &dyn SecretResolver,
    ) -> Result<WesellAdapter, ConfigError> {
        WesellAdapter::from_json(partner, config, secrets, self.http.clone())
    }
}

impl AdapterFactory for WesellFactory {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn build(
        &self,
        partner: &PartnerName,
        config: &serde_json::Value,
        secrets: &dyn SecretResolver,
    ) -> Result<Arc<dyn Adapter>, ConfigError> {
        Ok(Arc::new(self.build_wesell(partner, config, secrets)?))
    }
}

/// `kind = "wesellcellular"` partners.
#[derive(Debug, Clone)]
pub struct WesellIntegration {
    factory: WesellFactory,
}

impl WesellIntegration {
    pub fn new() -> Result<Self, reqwest::Error> {
        Ok(Self {
            factory: WesellFactory::new()?,
        })
    }
}

impl Integration for WesellIntegration {
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
        Parts {
            adapters,
            ..Parts::default()
        }
    }
}
