//! Generic start-up: config → pool, migrations, the integrations assembled, worker, scheduler,
//! API. `switchyard run`, the demo, the bench and the tests all start the daemon through
//! [`start`]; nothing here names a partner system (the list is [`crate::integrations`]).

use anyhow::Context;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::clock::{Clock, SystemClock};
use switchyard_core::diag::Diagnostic;
use switchyard_core::redact::SecretValues;
use switchyard_runtime::admission::Admission;
use switchyard_runtime::assembly::{self, Assembly};
use switchyard_runtime::config::Config;
use switchyard_runtime::context::JobContext;
use switchyard_runtime::health::Health;
use switchyard_runtime::integration::{BuildContext, CheckContext, Integration, MetricKind, Mode};
use switchyard_runtime::logsink::{DbSink, LogWriter};
use switchyard_runtime::mappings::Mappings;
use switchyard_runtime::schedules::{self, Schedule};
use switchyard_runtime::secrets::{OrgSecrets, Recording, SecretsByOrg};
use switchyard_runtime::supervise::Supervised;
use switchyard_runtime::toml_source::TomlSource;
use switchyard_runtime::webhooks::{Intake, ProcessDelivery};
use switchyard_runtime::worker::{Worker, WorkerSettings, WorkerStats};
use switchyard_store::logs::Masker;
use switchyard_store::orgs;
use switchyard_store::queue::Queue;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

/// What to start in this process (a deployment may run API-only and worker-only processes).
#[derive(Debug, Clone)]
pub struct Roles {
    pub api: bool,
    pub worker: bool,
    pub scheduler: bool,
}

impl Default for Roles {
    fn default() -> Self {
        Self {
            api: true,
            worker: true,
            scheduler: true,
        }
    }
}

impl Roles {
    /// Only the worker (tests that drive the queue directly).
    pub fn worker_only() -> Self {
        Self {
            api: false,
            worker: true,
            scheduler: false,
        }
    }
}

/// Extra pieces the demo, the bench and the tests pass in.
#[derive(Default)]
pub struct Overrides {
    pub clock: Option<Arc<dyn Clock>>,
    /// Resolve partners' credential references here instead of the stored secrets.
    pub secrets: Option<Arc<dyn OrgSecrets>>,
    /// Integrations beyond this build's list (a test's own, the bench's latency probe).
    pub integrations: Vec<Arc<dyn Integration>>,
}

/// A started daemon.
pub struct Running {
    pub api_addr: Option<SocketAddr>,
    pub queue: Queue,
    pub pool: sqlx::PgPool,
    pub worker_stats: Option<Arc<WorkerStats>>,
    /// The mapping registry (its reload counter is what tests wait on).
    pub mappings: Mappings,
    /// What the long-lived tasks report (what `/readyz` says).
    pub health: Health,
    shutdown: CancellationToken,
    /// The worker, the scheduler, the API server: none may end before shutdown.
    tasks: Supervised,
    log_writer: LogWriter,
    /// How long the log writer may keep retrying at shutdown.
    flush_budget: Duration,
}

impl Running {
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stop claiming, finish in-flight jobs (within the grace period), record their results,
    /// flush the logs. An error names work left behind or a task that failed.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        let failures: Vec<String> = self
            .tasks
            .join_all()
            .await
            .into_iter()
            .filter(|exit| exit.outcome.is_err())
            .map(|exit| exit.to_string())
            .collect();
        // The sink's senders live in the job context and the webhook intake; with the worker
        // and the API gone the writer writes what is queued, for as long as the budget allows.
        self.log_writer.finish(self.flush_budget).await;
        if failures.is_empty() {
            Ok(())
        } else {
            Err(anyhow::anyhow!(failures.join("; ")))
        }
    }

    /// Run until the shutdown token is cancelled (by a signal), then stop. A task that ends
    /// before that (the worker, the scheduler, the API server, the log writer) stops the
    /// daemon with an error naming it: a process missing one of them must not look healthy.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let died = tokio::select! {
            // Shutdown first: once it is requested the API server ends on its own, and that
            // is no death.
            biased;
            _ = self.shutdown.cancelled() => None,
            exit = self.tasks.next_exit() => Some(exit.to_string()),
            () = self.log_writer.ended() => Some("the integration log writer ended".to_owned()),
        };
        let Some(died) = died.filter(|_| !self.shutdown.is_cancelled()) else {
            return self.stop().await;
        };
        error!(reason = %died, "a long-lived task ended while the daemon was running; stopping");
        match self.stop().await {
            Ok(()) => Err(anyhow::anyhow!("{died}")),
            Err(more) => Err(anyhow::anyhow!("{died}; {more}")),
        }
    }
}

fn joined(problems: Vec<Diagnostic>) -> anyhow::Error {
    anyhow::anyhow!(problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Seal the webhook endpoint secrets still in the clear (written before migration 0030, or
/// while no key was configured) and re-seal those under a previous key, so that a key can be
/// retired once every process has started with its successor. Without a key: a warning (the
/// secrets stay in the clear), or an error if some are sealed (they could not be signed with).
async fn seal_webhook_secrets(
    pool: &sqlx::PgPool,
    sealing: &switchyard_store::sealing::Sealing,
) -> anyhow::Result<()> {
    let done = switchyard_store::webhook_endpoints::reseal(pool, sealing)
        .await
        .context("sealing webhook endpoint secrets")?;
    match sealing.keyring() {
        None => tracing::warn!(
            "no secret key configured (SWITCHYARD_SECRET_KEY or [secrets] key_file): webhook \
             endpoint secrets are stored in the clear"
        ),
        Some(k) if done.endpoints > 0 => info!(
            endpoints = done.endpoints,
            key = k.current_id(),
            "webhook endpoint secrets sealed with the current key"
        ),
        Some(_) => {}
    }
    Ok(())
}

/// This build's integrations and the extra ones.
pub fn all_integrations(
    extra: &[Arc<dyn Integration>],
) -> anyhow::Result<Vec<Arc<dyn Integration>>> {
    let mut list = crate::integrations::integrations()?;
    list.extend(extra.iter().cloned());
    Ok(list)
}

/// Connect, migrate, build and start the roles.
pub async fn start(
    mut config: Config,
    config_path: PathBuf,
    roles: Roles,
    overrides: Overrides,
) -> anyhow::Result<Running> {
    // Webhook endpoints' secrets are sealed with the `[secrets]` key (the API and the
    // delivery handler both get it through `[webhooks]`).
    config.webhooks.sealing = switchyard_runtime::secrets::webhook_sealing(&config.secrets)
        .context("loading the key webhook secrets are sealed with")?;
    let config = Arc::new(config);
    let integrations = all_integrations(&overrides.integrations)?;
    switchyard_runtime::pg::ensure_database(&config.database.url).await?;
    let pool = switchyard_store::connect_with_timeout(
        &config.database.url,
        config.database.max_connections,
        config.database.acquire_timeout(),
    )
    .await
    .with_context(|| switchyard_runtime::pg::unreachable_hint(&config.database.url))?;
    let migrator = assembly::migrator(&integrations).await?;
    migrator.run(&pool).await.context("applying migrations")?;
    seal_webhook_secrets(&pool, &config.webhooks.sealing).await?;
    let clock: Arc<dyn Clock> = overrides.clock.unwrap_or_else(|| Arc::new(SystemClock));
    let queue = Queue::new(pool.clone(), clock.clone());

    // `secret:NAME` is looked up among the stored secrets of the organization that references
    // it: a partner's, or one that is no partner's (the `[email]` password's `secrets_org`).
    // So every organization with stored secrets is loaded, not only the partners' ones:
    // an organization with no partners could not resolve its SMTP password before (#14).
    let mut secret_orgs: std::collections::BTreeSet<String> =
        config.partners.values().map(|p| p.org.clone()).collect();
    secret_orgs.extend(
        switchyard_store::secrets::orgs_with_secrets(&pool)
            .await
            .context("reading which organizations have stored secrets")?,
    );
    let resolvers: Arc<dyn OrgSecrets> = match overrides.secrets {
        Some(s) => s,
        None => {
            Arc::new(SecretsByOrg::load(&pool, &config.secrets, secret_orgs.iter().cloned()).await?)
        }
    };
    // Every value resolved is noted, to be masked wherever it would be logged or stored.
    let secret_values = SecretValues::process().clone();
    let secrets: Arc<dyn OrgSecrets> = Arc::new(Recording::new(
        resolvers,
        secret_orgs.iter().cloned(),
        secret_values.clone(),
    ));
    let source = TomlSource::read(&config_path);
    let assembly = {
        let cx = BuildContext {
            config: &config,
            source: &source,
            secrets: secrets.as_ref(),
            mode: Mode::Run,
        };
        assembly::assemble(&integrations, &cx).map_err(joined)?
    };
    let (schedule_list, problems) = schedules::load_dir(&config.paths.schedules);
    if !problems.is_empty() {
        return Err(joined(problems)
            .context("problems in schedule files; `switchyard check` lists them all"));
    }
    // The schedules are checked by the process that fires them; a worker- or API-only process
    // (and the demo, whose config is not the schedules' config) leaves them to it.
    let checked: &[Schedule] = if roles.scheduler { &schedule_list } else { &[] };
    let mappings = Mappings::load(&config.paths.mappings);
    let problems = assembly::check(
        &integrations,
        &assembly,
        &CheckContext {
            config: &config,
            source: &source,
            schedules: checked,
            mappings: &mappings.names(),
        },
    );
    if !problems.is_empty() {
        return Err(joined(problems)
            .context("the config does not check; `switchyard check` lists every problem"));
    }
    describe_metrics(&assembly);
    info!(
        integrations = integrations
            .iter()
            .map(|i| i.name())
            .collect::<Vec<_>>()
            .join(", "),
        partners = assembly.registry.adapters.len(),
        job_kinds = assembly.registry.jobs.kinds().len(),
        "integrations assembled"
    );

    let masker =
        Masker::with_fields(&config.api.sensitive_fields).with_values(secret_values.clone());
    let health = Health::new();
    let (sink, log_writer) = DbSink::start(pool.clone(), masker.clone(), health.clone());
    let ctx = Arc::new(JobContext {
        queue: queue.clone(),
        clock: clock.clone(),
        sink: sink.clone(),
        mappings: mappings.clone(),
        adapters: assembly.registry.adapters.clone(),
        secrets: secrets.clone(),
        masker: masker.clone(),
    });

    let shutdown = CancellationToken::new();
    let mut tasks = Supervised::new();
    let mut worker_stats = None;

    if roles.worker {
        let worker = Worker::new(
            queue.clone(),
            assembly.registry.clone(),
            ctx.clone(),
            WorkerSettings::from(&config.queue),
            health.clone(),
        );
        worker_stats = Some(worker.stats.clone());
        tasks.spawn("worker", worker.run(shutdown.clone()));
    }
    drop(ctx);
    mappings.spawn_reloader(shutdown.clone());

    if roles.scheduler {
        let enabled: Vec<Schedule> = schedule_list.into_iter().filter(|s| s.enabled).collect();
        if !enabled.is_empty() {
            let task = switchyard_runtime::scheduler::spawn(
                queue.clone(),
                config.clone(),
                enabled,
                shutdown.clone(),
                health.clone(),
            )
            .await?;
            tasks.spawn("scheduler", async move { task.await? });
        }
    }

    let mut api_addr = None;
    if roles.api {
        let mut partner_orgs = BTreeMap::new();
        for (name, partner) in &config.partners {
            partner_orgs.insert(name.clone(), orgs::ensure(&pool, &partner.org).await?.id);
        }
        let intake = Intake {
            pool: pool.clone(),
            adapters: assembly.registry.adapters.clone(),
            orgs: partner_orgs,
            clock: clock.clone(),
            masker,
            sink,
            retry: config.retry_for(<ProcessDelivery as switchyard_core::JobPayload>::KIND, None),
        };
        let mut state = switchyard_api::ApiState::new(
            pool.clone(),
            queue.clone(),
            Arc::new(Admission {
                registry: assembly.registry.clone(),
                config: config.clone(),
            }),
            config.api.api_config(),
        );
        state.config.webhooks = config.webhooks.clone();
        state.scopes = state.scopes.with(&assembly.scopes);
        state.secret_values = secret_values.clone();
        state.webhooks = Some(Arc::new(intake));
        state.readiness = Some(Arc::new(health.clone()));
        state.mappings = Some(Arc::new(LiveMappings(mappings.clone())));
        state.migrations = migrator
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .map(|m| m.version)
            .collect();
        let router = switchyard_api::router(state, assembly.routes);
        let listener = tokio::net::TcpListener::bind(&config.api.bind)
            .await
            .with_context(|| format!("binding the API to {}", config.api.bind))?;
        let addr = listener.local_addr()?;
        api_addr = Some(addr);
        info!(%addr, "API listening");
        let token = shutdown.clone();
        let timeouts = config.api.api_config().timeouts;
        tasks.spawn("API server", async move {
            switchyard_api::serve(listener, router, timeouts, async move {
                token.cancelled().await
            })
            .await?;
            Ok(())
        });
    }

    Ok(Running {
        api_addr,
        queue,
        pool,
        worker_stats,
        mappings,
        health,
        shutdown,
        tasks,
        log_writer,
        flush_budget: Duration::from_secs(config.queue.shutdown_grace_secs),
    })
}

/// HELP lines for the metrics the integrations record.
fn describe_metrics(assembly: &Assembly) {
    for m in &assembly.metrics {
        match m.kind {
            MetricKind::Counter => metrics::describe_counter!(m.name, m.help),
            MetricKind::Gauge => metrics::describe_gauge!(m.name, m.help),
            MetricKind::Histogram => metrics::describe_histogram!(m.name, m.help),
        }
    }
}

/// Product imports read uploads through the daemon's hot-reloaded mapping files.
struct LiveMappings(Mappings);

impl switchyard_import::MappingSource for LiveMappings {
    fn mapping(&self, name: &str) -> Result<Arc<switchyard_mapping::Mapping>, String> {
        self.0.get(name, None).map_err(|e| e.to_string())
    }
}
