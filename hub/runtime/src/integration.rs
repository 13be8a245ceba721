//! The integration seam: everything one partner system brings to the hub, through one trait.
//!
//! A partner system (the generic HTTP adapter, EDI over VAN mailboxes, Shopify, ...) is one
//! crate under `adapters/` with one type implementing [`Integration`]. From the config it
//! builds its [`Parts`] — adapters for its partners, job kinds with their handlers, API routes,
//! webhook processors, metrics — and it declares the scopes its routes need, the top-level
//! config sections it owns, its migrations, and `check` rules of its own. The daemon lists
//! integrations in one place, one line each; nothing else in the hub names a partner system.
//!
//! `build` is pure: it validates its sections, builds what it can and pushes every problem,
//! located in the config file. A build with problems never runs (start refuses it); what did
//! build lets `switchyard check` go on to the rules over schedules. The same `build` runs at
//! start (credentials resolved) and in `switchyard check` ([`Mode::Check`], no database:
//! references are checked for form only), so `check` finds exactly what start would refuse.

use crate::config::Config;
use crate::job::JobKindSpec;
use crate::schedules::Schedule;
use crate::secrets::OrgSecrets;
use crate::section::{PartnerSection, Section};
use crate::toml_source::TomlSource;
use crate::webhooks::WebhookProcessor;
use std::collections::BTreeSet;
use std::sync::Arc;
use switchyard_api::{AppState, ScopeSpec};
use switchyard_core::adapter::{Adapter, SecretResolver};
use switchyard_core::diag::Diagnostic;
use utoipa_axum::router::OpenApiRouter;

/// Why an integration is being built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// To run: credentials are resolved.
    Run,
    /// For `switchyard check`: no database, credentials checked for form only. Nothing may
    /// connect anywhere.
    Check,
}

/// What `build` reads.
pub struct BuildContext<'a> {
    pub config: &'a Config,
    pub source: &'a TomlSource,
    pub secrets: &'a dyn OrgSecrets,
    pub mode: Mode,
}

impl<'a> BuildContext<'a> {
    /// Every `[partners.NAME]` table whose kind is one of `kinds`, in name order.
    pub fn partners(&self, kinds: &[&str]) -> Vec<PartnerSection<'a>> {
        self.config
            .partners
            .iter()
            .filter(|(_, p)| kinds.contains(&p.kind.as_str()))
            .map(|(name, p)| PartnerSection::new(name, p, self.source))
            .collect()
    }

    /// The top-level section `name` (declared in [`Integration::sections`]).
    pub fn section(&self, name: &'a str) -> Section<'a> {
        Section::new(name, self.config.sections.get(name), self.source)
    }

    /// The resolver for a partner's `secret:` / `env:` references: its organization's.
    pub fn secrets_for(&self, partner: &PartnerSection<'_>) -> &'a dyn SecretResolver {
        self.secrets.for_org(partner.org())
    }
}

/// A metric an integration records, described once (`/metrics` HELP lines).
#[derive(Debug, Clone, Copy)]
pub struct MetricSpec {
    pub name: &'static str,
    pub kind: MetricKind,
    pub help: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

/// Everything an integration built.
#[derive(Default)]
pub struct Parts {
    /// One adapter per partner it owns, by partner name.
    pub adapters: Vec<(String, Arc<dyn Adapter>)>,
    pub jobs: Vec<JobKindSpec>,
    /// Its API routes, merged under `/api/v1` (and into the OpenAPI document) behind the API
    /// key check; scopes come from [`Integration::scopes`].
    pub routes: Option<OpenApiRouter<AppState>>,
    /// Who processes webhook deliveries of its partner kinds (`POST /webhooks/{partner}`).
    pub webhook_processors: Vec<(&'static str, Arc<dyn WebhookProcessor>)>,
    pub metrics: Vec<MetricSpec>,
}

/// What `check` rules see: the config, its source, every schedule file that parsed and the
/// names of the mapping files.
pub struct CheckContext<'a> {
    pub config: &'a Config,
    pub source: &'a TomlSource,
    pub schedules: &'a [Schedule],
    /// Every mapping file under `[paths] mappings` by name (`http/catalog.out`).
    pub mappings: &'a BTreeSet<String>,
}

/// One partner system.
pub trait Integration: Send + Sync {
    /// A short name (`http`, `edi`): in logs, and in errors naming who owns what.
    fn name(&self) -> &'static str;

    /// The `kind` values of the `[partners.NAME]` tables it owns.
    fn partner_kinds(&self) -> &'static [&'static str] {
        &[]
    }

    /// Top-level config sections it owns (`[probe]`); any other unknown section is an error.
    fn sections(&self) -> &'static [&'static str] {
        &[]
    }

    /// The API scopes its routes need (`read:edi`, `write:edi`); keys may be given them.
    fn scopes(&self) -> &'static [ScopeSpec] {
        &[]
    }

    /// The migrations of the tables it owns, run with the hub's in version order at start.
    /// Versions share one sequence with the hub's `migrations/`: take a range of your own.
    fn migrations(&self) -> Option<&'static sqlx::migrate::Migrator> {
        None
    }

    /// Validate its sections and build its parts; every problem goes to `problems`, located.
    /// Build what does not depend on a broken section anyway (its job kinds, say).
    fn build(&self, cx: &BuildContext<'_>, problems: &mut Vec<Diagnostic>) -> Parts;

    /// Rules over the whole config beyond its own sections (run by `switchyard check` and at
    /// start), e.g. a schedule of one of its jobs that names a partner it does not have.
    fn check(&self, cx: &CheckContext<'_>) -> Vec<Diagnostic> {
        let _ = cx;
        Vec::new()
    }
}
