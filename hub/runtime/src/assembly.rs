//! Putting the integrations of a build together: who owns which partner kind and config
//! section, every integration built from the config, the job kinds and adapters in one
//! [`Registry`], the routes, the webhook processors, the migrations — and the `check` rules
//! that need all of it (a schedule naming a job kind or a partner that cannot run it).
//!
//! Start-up and `switchyard check` both go through [`assemble`], so `check` reports exactly
//! what start would refuse.

use crate::adapters::Adapters;
use crate::config::HUB_SECTIONS;
use crate::integration::{BuildContext, CheckContext, Integration, MetricSpec};
use crate::job::PartnerSource;
use crate::registry::{JobKinds, Refusal, Registry};
use crate::schedules::Schedule;
use crate::webhooks::{Process, WebhookProcessor};
use std::collections::BTreeMap;
use std::sync::Arc;
use switchyard_api::{AppState, ScopeSpec};
use switchyard_core::diag::Diagnostic;
use utoipa_axum::router::OpenApiRouter;

/// Everything the integrations of this build contributed.
pub struct Assembly {
    pub registry: Registry,
    pub routes: Vec<OpenApiRouter<AppState>>,
    pub scopes: Vec<ScopeSpec>,
    pub metrics: Vec<MetricSpec>,
}

/// Build every integration and check that together they own every partner and section of
/// the config. Every problem of every integration is returned, located.
pub fn assemble(
    integrations: &[Arc<dyn Integration>],
    cx: &BuildContext<'_>,
) -> Result<Assembly, Vec<Diagnostic>> {
    match assemble_all(integrations, cx) {
        (assembly, problems) if problems.is_empty() => Ok(assembly),
        (_, problems) => Err(problems),
    }
}

/// What [`assemble`] builds even when some of it fails (what did build, and every problem),
/// so `check` can go on to the rules over schedules.
pub fn assemble_all(
    integrations: &[Arc<dyn Integration>],
    cx: &BuildContext<'_>,
) -> (Assembly, Vec<Diagnostic>) {
    let mut problems = Vec::new();
    let path = cx.source.path();

    let mut kind_owner: BTreeMap<&str, &str> = BTreeMap::new();
    let mut section_owner: BTreeMap<&str, &str> = BTreeMap::new();
    for i in integrations {
        for kind in i.partner_kinds() {
            if let Some(other) = kind_owner.insert(kind, i.name()) {
                problems.push(Diagnostic::in_file(
                    path,
                    format!("partner kind `{kind}` is claimed by both the `{other}` and the `{}` integrations", i.name()),
                ));
            }
        }
        for section in i.sections() {
            if HUB_SECTIONS.contains(section) {
                problems.push(Diagnostic::in_file(
                    path,
                    format!(
                        "the `{}` integration claims `[{section}]`, which is the hub's own section",
                        i.name()
                    ),
                ));
            } else if let Some(other) = section_owner.insert(section, i.name()) {
                problems.push(Diagnostic::in_file(
                    path,
                    format!("section `[{section}]` is claimed by both the `{other}` and the `{}` integrations", i.name()),
                ));
            }
        }
    }
    let known_kinds = kind_owner.keys().copied().collect::<Vec<_>>().join(", ");
    for (name, partner) in &cx.config.partners {
        if !kind_owner.contains_key(partner.kind.as_str()) {
            problems.push(cx.source.problem(
                &["partners", name, "kind"],
                format!(
                    "partner `{name}`: unknown partner kind `{}` (known: {known_kinds})",
                    partner.kind
                ),
            ));
        }
    }
    for key in cx.config.sections.keys() {
        if !section_owner.contains_key(key.as_str()) {
            let mut known: Vec<&str> = HUB_SECTIONS.to_vec();
            known.extend(section_owner.keys());
            problems.push(cx.source.problem(
                &[key],
                format!("unknown section `{key}` (known: {})", known.join(", ")),
            ));
        }
    }

    let mut adapters = Adapters::default();
    let mut jobs = JobKinds::default();
    let mut routes = Vec::new();
    let mut scopes = Vec::new();
    let mut metrics = crate::jobs::webhook_deliver::METRICS.to_vec();
    let mut processors: BTreeMap<&'static str, Arc<dyn WebhookProcessor>> = BTreeMap::new();
    for spec in crate::jobs::builtin(cx.config) {
        if let Err(e) = jobs.insert(spec) {
            problems.push(Diagnostic::in_file(path, e));
        }
    }
    for integration in integrations {
        scopes.extend_from_slice(integration.scopes());
        let parts = integration.build(cx, &mut problems);
        for (partner, adapter) in parts.adapters {
            if adapters.get(&partner).is_some() {
                problems.push(Diagnostic::in_file(
                    path,
                    format!(
                        "partner `{partner}` was built twice (by `{}`)",
                        integration.name()
                    ),
                ));
            }
            adapters.insert(&partner, adapter);
        }
        for spec in parts.jobs {
            if let Err(e) = jobs.insert(spec) {
                problems.push(Diagnostic::in_file(
                    path,
                    format!("{e} (again by the `{}` integration)", integration.name()),
                ));
            }
        }
        routes.extend(parts.routes);
        metrics.extend(parts.metrics);
        for (kind, processor) in parts.webhook_processors {
            processors.insert(kind, processor);
        }
    }
    if let Err(e) = jobs.insert(Process::spec(processors)) {
        problems.push(Diagnostic::in_file(path, e));
    }
    let assembly = Assembly {
        registry: Registry {
            adapters: Arc::new(adapters),
            jobs: Arc::new(jobs),
        },
        routes,
        scopes,
        metrics,
    };
    (assembly, problems)
}

/// The rules over the whole config: every schedule's job kind must exist, every enabled
/// schedule's job must be admitted (a known kind, a partner that exists and can do it, a
/// payload its kind accepts) and name mapping files that exist; then every integration's own
/// rules.
pub fn check(
    integrations: &[Arc<dyn Integration>],
    assembly: &Assembly,
    cx: &CheckContext<'_>,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    for s in cx.schedules {
        if !s.enabled {
            // Kept for later: a typo'd kind is still a mistake worth naming now.
            if assembly.registry.jobs.get(&s.job).is_none() {
                let refusal = Refusal::UnknownKind {
                    kind: s.job.clone(),
                    known: assembly.registry.jobs.kinds(),
                };
                problems.push(s.source.problem(&["job"], refusal.to_string()));
            }
            continue;
        }
        problems.extend(missing_mappings(assembly, s, cx));
        let refusal = match assembly
            .registry
            .admit(&s.job, s.partner.as_deref(), &s.params)
        {
            Ok(_) => continue,
            // A partner of the config that did not build has its own problems reported.
            Err(Refusal::UnknownPartner { partner, .. })
                if cx.config.partners.contains_key(&partner) =>
            {
                continue
            }
            // An input file a schedule names may arrive before the tick that reads it.
            Err(Refusal::Payload { problem, .. }) if problem.absent => continue,
            // Name the partners the config declares (some may not have built).
            Err(Refusal::UnknownPartner { kind, partner, .. }) => Refusal::UnknownPartner {
                kind,
                partner,
                known: cx.config.partners.keys().cloned().collect(),
            },
            Err(other) => other,
        };
        let keys = schedule_key(assembly, s, &refusal);
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut at = s.source.locate(&keys);
        if at.at.is_none() {
            // The file has no `[params]` at all: the job it would belong to.
            at = s.source.locate(&["job"]);
        }
        problems.push(Diagnostic::new(at, refusal.to_string()));
    }
    for i in integrations {
        problems.extend(i.check(cx));
    }
    problems
}

/// A schedule's payload fields that name a mapping file the mappings directory lacks.
fn missing_mappings(assembly: &Assembly, s: &Schedule, cx: &CheckContext<'_>) -> Vec<Diagnostic> {
    let Some(spec) = assembly.registry.jobs.get(&s.job) else {
        return Vec::new();
    };
    spec.mapping_fields
        .iter()
        .filter_map(|field| {
            let name = s.params.get(*field)?.as_str()?;
            (!cx.mappings.contains(name)).then(|| {
                s.source.problem(
                    &["params", field],
                    format!(
                        "{}: no mapping `{name}` in {} (mapping files there: {})",
                        s.job,
                        cx.config.paths.mappings.display(),
                        if cx.mappings.is_empty() {
                            "none".to_owned()
                        } else {
                            cx.mappings.iter().cloned().collect::<Vec<_>>().join(", ")
                        }
                    ),
                )
            })
        })
        .collect()
}

/// Where in a schedule file a refusal points: the job, where the job names its partner, or
/// the payload field at fault.
fn schedule_key(assembly: &Assembly, s: &Schedule, refusal: &Refusal) -> Vec<String> {
    match refusal {
        Refusal::UnknownKind { .. } => return vec!["job".into()],
        Refusal::Payload { problem, .. } => {
            let mut keys = vec!["params".to_owned()];
            keys.extend(
                problem
                    .field
                    .split('.')
                    .filter(|k| !k.is_empty())
                    .map(str::to_owned),
            );
            return keys;
        }
        _ => {}
    }
    match assembly
        .registry
        .jobs
        .get(&s.job)
        .and_then(|spec| spec.partner)
        .map(|rule| rule.source)
    {
        Some(PartnerSource::Payload(field)) => vec!["params".into(), field.into()],
        Some(PartnerSource::Job) if s.partner.is_some() => vec!["partner".into()],
        _ => vec!["job".into()],
    }
}

/// The hub's migrations and every integration's, in one version sequence. Two migrations with
/// the same version are an error naming both.
pub async fn migrator(
    integrations: &[Arc<dyn Integration>],
) -> anyhow::Result<sqlx::migrate::Migrator> {
    let mut all: BTreeMap<i64, (String, sqlx::migrate::Migration)> = BTreeMap::new();
    let mut add = |owner: &str, m: &sqlx::migrate::Migration| -> anyhow::Result<()> {
        if let Some((other, prev)) = all.get(&m.version) {
            anyhow::bail!(
                "migration version {} is used twice: `{}` ({other}) and `{}` ({owner})",
                m.version,
                prev.description,
                m.description
            );
        }
        all.insert(m.version, (owner.to_owned(), m.clone()));
        Ok(())
    };
    for m in switchyard_store::MIGRATOR.iter() {
        add("hub", m)?;
    }
    for i in integrations {
        if let Some(migrator) = i.migrations() {
            for m in migrator.iter() {
                add(i.name(), m)?;
            }
        }
    }
    let list: Vec<sqlx::migrate::Migration> = all.into_values().map(|(_, m)| m).collect();
    let mut migrator = sqlx::migrate::Migrator::new(Collected(list)).await?;
    // A database may hold migrations of an integration this build leaves out (a cargo
    // feature turned off): those tables stay, unused, rather than blocking start.
    migrator.set_ignore_missing(true);
    Ok(migrator)
}

/// Migrations already in memory, as a source for [`sqlx::migrate::Migrator::new`].
#[derive(Debug)]
struct Collected(Vec<sqlx::migrate::Migration>);

impl<'s> sqlx::migrate::MigrationSource<'s> for Collected {
    fn resolve(
        self,
    ) -> futures::future::BoxFuture<
        's,
        Result<Vec<sqlx::migrate::Migration>, sqlx::error::BoxDynError>,
    > {
        Box::pin(async move { Ok(self.0) })
    }
}
