//! The Magento integration: `[partners.NAME]` tables with `kind = "magento"` become
//! [`MagentoAdapter`]s; the runtime's sync engine does the rest (catalog, inventory, prices).

use crate::adapter::MagentoAdapter;
use crate::config::KIND;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::adapter::{Adapter, AdapterFactory, ConfigError, SecretResolver};
use switchyard_core::diag::Diagnostic;
use switchyard_core::ids::PartnerName;
use switchyard_runtime::integration::{BuildContext, Integration, Parts};

/// Builds [`MagentoAdapter`]s over one shared connection pool.
#[derive(Debug, Clone)]
pub struct MagentoFactory {
    http: reqwest::Client,
}

impl MagentoFactory {
    /// Fails only if the TLS backend cannot be initialised.
    pub fn new() -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            // A redirect can turn a PUT into a GET whose 200 looks like success.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http })
    }

    pub fn build_magento(
        &self,
        partner: &PartnerName,
        config: &serde_json::Value,
        secrets: &dyn SecretResolver,
    ) -> Result<MagentoAdapter, ConfigError> {
        MagentoAdapter::from_json(partner, config, secrets, self.http.clone())
    }
}

impl AdapterFactory for MagentoFactory {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn build(
        &self,
        partner: &PartnerName,
        config: &serde_json::Value,
        secrets: &dyn SecretResolver,
    ) -> Result<Arc<dyn Adapter>, ConfigError> {
        Ok(Arc::new(self.build_magento(partner, config, secrets)?))
    }
}

/// `kind = "magento"` partners.
#[derive(Debug, Clone)]
pub struct MagentoIntegration {
    factory: MagentoFactory,
}

impl MagentoIntegration {
    pub fn new() -> Result<Self, reqwest::Error> {
        Ok(Self {
            factory: MagentoFactory::new()?,
        })
    }
}

impl Integration for MagentoIntegration {
    fn name(&self) -> &'static str {
        KIND
    }

    fn partner_kinds(&self) -> &'static [&'static str] {
        &[KIND]
    }

    fn build(&self, cx: &BuildContext<'_>, problems: &mut Vec<Diagnostic>) -> Parts {
        let mut parts = Parts::default();
        for section in cx.partners(&[KIND]) {
            let name = PartnerName(section.name.to_owned());
            match self.factory.build_magento(
                &name,
                &section.config.settings_json(),
                cx.secrets_for(&section),
            ) {
                Ok(adapter) => {
                    let adapter: Arc<dyn Adapter> = Arc::new(adapter);
                    parts.adapters.push((section.name.to_owned(), adapter));
                }
                Err(e) => {
                    let keys: Vec<&str> = e
                        .key
                        .as_deref()
                        .map(|k| k.split('.').collect())
                        .unwrap_or_default();
                    problems.push(Diagnostic::new(
                        section.locate(&keys),
                        format!("partner `{}`: {}", section.name, e.message),
                    ));
                }
            }
        }
        parts
    }
}
