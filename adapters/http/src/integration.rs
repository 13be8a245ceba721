//! The generic HTTP adapter as an integration: `[partners.NAME]` tables with `kind = "http"`
//! become adapters; the runtime's own jobs (`partner.push`, `catalog.sync`, `record.push`)
//! and webhook intake do the rest.

use crate::config::KIND;
use crate::factory::HttpAdapterFactory;
use std::sync::Arc;
use switchyard_core::adapter::Adapter;
use switchyard_core::diag::Diagnostic;
use switchyard_runtime::integration::{BuildContext, Integration, Parts};

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
        let mut parts = Parts::default();
        for section in cx.partners(&[KIND]) {
            let name = switchyard_core::ids::PartnerName(section.name.to_owned());
            match self.factory.build_http(
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
