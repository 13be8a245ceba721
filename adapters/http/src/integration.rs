//! The generic HTTP adapter as an integration: `[partners.NAME]` tables with `kind = "http"`
//! become adapters; the runtime's own jobs (`partner.push`, `catalog.sync`, `record.push`)
//! and webhook intake do the rest.

use crate::config::KIND;
use crate::factory::HttpAdapterFactory;
use std::sync::Arc;
use switchyard_core::adapter::Adapter;
use switchyard_core::diag::Diagnostic;
use switchyard_runtime::integration::{BuildContext, Integration, Parts};
use switchyard_runtime::partner_config::build_adapters;

/// `kind = "http"` partners. One HTTP client (and connection pool) for all of them.
#[derive(Debug, Clone)]
pub struct HttpIntegration {
    factory: HttpAdapterFactory,
}

impl HttpIntegration {
    /// Fails only if the TLS backend cannot be initialised.
    pub fn new() -> Result<Self, reqwest::Error> {
        Ok(Self {
            factory: HttpAdapterFactory::new()?,
        })
    }
}

impl Integration for HttpIntegration {
    fn name(&self) -> &'static str {
        KIND
    }

    fn partner_kinds(&self) -> &'static [&'static str] {
        &[KIND]
    }

    fn build(&self, cx: &BuildContext<'_>, problems: &mut Vec<Diagnostic>) -> Parts {
        let adapters = build_adapters(cx, KIND, problems, |name, settings, secrets| {
            let adapter: Arc<dyn Adapter> =
                Arc::new(self.factory.build_http(name, settings, secrets)?);
            Ok(adapter)
        });
        Parts {
            adapters,
            ..Parts::default()
        }
    }
}
