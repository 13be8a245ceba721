//! Comarch ERP Optima as an integration: each `[partners.NAME]` with `kind = "optima"`
//! becomes an [`OptimaAdapter`] declaring `push_invoices`, so the runtime's own jobs carry an
//! invoice to it: `record.push` with `{"document": "invoice", "mapping": "optima/invoice.out",
//! "source_record": <canonical invoice>}` maps, pushes and dead-letters a refusal with its
//! reason (replayable once fixed).

use crate::config::{resolve, OptimaSettings, KIND};
use crate::OptimaAdapter;
use std::sync::Arc;
use switchyard_core::adapter::Adapter;
use switchyard_core::diag::Diagnostic;
use switchyard_core::ids::PartnerName;
use switchyard_runtime::integration::{BuildContext, Integration, Parts};

/// `kind = "optima"` connections; one HTTP client (and connection pool) for all of them.
#[derive(Debug, Clone)]
pub struct OptimaIntegration {
    http: reqwest::Client,
}

impl OptimaIntegration {
    /// Fails only if the TLS backend cannot be initialised.
    pub fn new() -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: reqwest::Client::builder()
                .connect_timeout(std::time::Duration::from_secs(10))
                .build()?,
        })
    }
}

impl Integration for OptimaIntegration {
    fn name(&self) -> &'static str {
        KIND
    }

    fn partner_kinds(&self) -> &'static [&'static str] {
        &[KIND]
    }

    fn build(&self, cx: &BuildContext<'_>, problems: &mut Vec<Diagnostic>) -> Parts {
        let mut parts = Parts::default();
        for section in cx.partners(&[KIND]) {
            let settings: OptimaSettings = match section.parse() {
                Ok(s) => s,
                Err(d) => {
                    problems.push(d);
                    continue;
                }
            };
            match resolve(&settings, cx.secrets_for(&section)) {
                Ok(partner) => {
                    let adapter: Arc<dyn Adapter> = Arc::new(OptimaAdapter::new(
                        PartnerName(section.name.to_owned()),
                        partner,
                        self.http.clone(),
                    ));
                    parts.adapters.push((section.name.to_owned(), adapter));
                }
                Err(errs) => problems.extend(
                    errs.into_iter()
                        .map(|(path, message)| section.problem(&path, message)),
                ),
            }
        }
        parts
    }
}
