//! The Magento integration: `[partners.NAME]` tables with `kind = "magento"` become
//! [`MagentoAdapter`]s; the runtime's sync engine does the rest (catalog, inventory, prices),
//! and the integration's own jobs bring orders in (`magento.orders.pull`,
//! `magento.order.import`, with the checkpoint table of its migrations), and our status
//! changes of its orders (cancel, hold, release, notes) go back (`magento.order.status`,
//! enqueued by a trigger of its migrations).

use crate::adapter::MagentoAdapter;
use crate::config::KIND;
use crate::order_import::OrderImportJob;
use crate::order_pull::OrderPullJob;
use crate::status_job::OrderStatusJob;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::adapter::{Adapter, AdapterFactory, ConfigError, SecretResolver};
use switchyard_core::diag::Diagnostic;
use switchyard_core::ids::PartnerName;
use switchyard_runtime::integration::{BuildContext, Integration, Parts};
use switchyard_runtime::job::{needs_nothing, JobKindSpec, PartnerRule, PartnerSource};
use switchyard_runtime::partner_config::build_adapters;

/// `magento.order.import`, `magento.orders.pull` and `magento.order.status` name a configured Magento partner in
/// their payload.
const ORDER_RULE: PartnerRule = PartnerRule {
    source: PartnerSource::Payload("partner"),
    required: true,
    kinds: &[KIND],
    needs: needs_nothing,
};

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

    fn migrations(&self) -> Option<&'static sqlx::migrate::Migrator> {
        Some(&crate::order_pull::MIGRATOR)
    }

    fn build(&self, cx: &BuildContext<'_>, problems: &mut Vec<Diagnostic>) -> Parts {
        // The pull job needs each store as a MagentoAdapter, the runtime as a dyn Adapter:
        // one adapter (one admin token cache) serves both.
        let stores = std::sync::Mutex::new(HashMap::new());
        let adapters = build_adapters(cx, KIND, problems, |name, settings, secrets| {
            let store = Arc::new(self.factory.build_magento(name, settings, secrets)?);
            stores
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(name.to_string(), store.clone());
            Ok(store as Arc<dyn Adapter>)
        });
        let stores = stores.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut parts = Parts {
            adapters,
            ..Parts::default()
        };
        parts
            .jobs
            .push(JobKindSpec::typed(OrderImportJob::default()).partner(ORDER_RULE));
        parts.jobs.push(
            JobKindSpec::typed(OrderStatusJob {
                stores: stores.clone(),
            })
            .partner(ORDER_RULE),
        );
        parts
            .jobs
            .push(JobKindSpec::typed(OrderPullJob { sources: stores }).partner(ORDER_RULE));
        parts
    }
}
