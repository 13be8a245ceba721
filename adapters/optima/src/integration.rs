//! Comarch ERP Optima as an integration: each `[partners.NAME]` with `kind = "optima"`
//! becomes an [`OptimaAdapter`] declaring `push_invoices`, so the runtime's own jobs carry an
//! invoice to it: `record.push` with `{"document": "invoice", "mapping": "optima/invoice.out",
//! "source_record": <canonical invoice>}` maps, pushes and dead-letters a refusal with its
//! reason (replayable once fixed).

use crate::config::{resolve, OptimaSettings, KIND};
use crate::routes::Connections;
use crate::OptimaAdapter;
use std::sync::Arc;
use switchyard_api::ScopeSpec;
use switchyard_core::adapter::{Adapter, AdapterFactory, ConfigError, SecretResolver};
use switchyard_core::diag::Diagnostic;
use switchyard_core::ids::PartnerName;
use switchyard_runtime::integration::{BuildContext, Integration, Parts};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

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

    fn scopes(&self) -> &'static [ScopeSpec] {
        crate::routes::SCOPES
    }

    /// The invoice ledger (versions 1500-1599 are this crate's).
    fn migrations(&self) -> Option<&'static sqlx::migrate::Migrator> {
        Some(&MIGRATOR)
    }

    fn build(&self, cx: &BuildContext<'_>, problems: &mut Vec<Diagnostic>) -> Parts {
        let mut parts = Parts::default();
        let mut connections = Connections::new();
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
                    let adapter = Arc::new(
                        OptimaAdapter::new(
                            PartnerName(section.name.to_owned()),
                            partner,
                            self.http.clone(),
                        )
                        .owned_by(section.org()),
                    );
                    connections.insert(section.name.to_owned(), adapter.clone());
                    let adapter: Arc<dyn Adapter> = adapter;
                    parts.adapters.push((section.name.to_owned(), adapter));
                }
                Err(errs) => problems.extend(
                    errs.into_iter()
                        .map(|(path, message)| section.problem(&path, message)),
                ),
            }
        }
        parts.jobs.push(crate::push_job::spec());
        let connections = Arc::new(connections);
        parts.jobs.push(crate::chart_job::spec(connections.clone()));
        parts
            .jobs
            .push(crate::vat_reports::spec(connections.clone()));
        parts.routes = Some(crate::routes::router(connections));
        parts
    }
}

impl AdapterFactory for OptimaIntegration {
    fn kind(&self) -> &'static str {
        KIND
    }

    /// The partner's table as JSON (what the conformance suite and tools build from); the
    /// daemon goes through [`Integration::build`], which locates problems in the file.
    fn build(
        &self,
        partner: &PartnerName,
        config: &serde_json::Value,
        secrets: &dyn SecretResolver,
    ) -> Result<Arc<dyn Adapter>, ConfigError> {
        let settings: OptimaSettings = serde_path_to_error::deserialize(config).map_err(|e| {
            let key = e.path().to_string();
            ConfigError::new(partner.as_str(), e.inner().to_string()).at_key(key)
        })?;
        let resolved = resolve(&settings, secrets).map_err(|errs| {
            let (path, message) = errs.into_iter().next().unwrap_or_default();
            ConfigError::new(partner.as_str(), format!("{}: {message}", path.join(".")))
                .at_key(path.join("."))
        })?;
        Ok(Arc::new(OptimaAdapter::new(
            partner.clone(),
            resolved,
            self.http.clone(),
        )))
    }
}
