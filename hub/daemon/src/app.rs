//! Wiring: config → pool, migrations, adapters, handlers, worker, scheduler, API.
//! `switchyard run`, the demo and the tests all start the daemon through [`start`].

use crate::adapters::AdapterRegistry;
use crate::config::Config;
use crate::handlers::{Handlers, JobContext};
use crate::logsink::DbSink;
use crate::schedules::{self, Schedule};
use crate::worker::{Worker, WorkerSettings, WorkerStats};
use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::clock::{Clock, SystemClock};
use switchyard_store::logs::Masker;
use switchyard_store::queue::{Queue, RetrySpec};
use switchyard_store::{orgs, MIGRATOR};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

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

/// Job kinds the API accepts: the registered handlers, with retry from the config.
struct ConfiguredKinds {
    config: Arc<Config>,
    kinds: Vec<String>,
}

impl switchyard_api::JobKinds for ConfiguredKinds {
    fn resolve(&self, kind: &str, partner: Option<&str>) -> Option<RetrySpec> {
        self.kinds
            .iter()
            .any(|k| k == kind)
            .then(|| self.config.retry_for(kind, partner))
    }
    fn known(&self) -> Vec<String> {
        self.kinds.clone()
    }
}

/// A started daemon.
pub struct Running {
    pub api_addr: Option<SocketAddr>,
    pub queue: Queue,
    pub pool: sqlx::PgPool,
    pub worker_stats: Option<Arc<WorkerStats>>,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<anyhow::Result<()>>>,
    log_writer: JoinHandle<()>,
}

impl Running {
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stop claiming, finish in-flight jobs (within the grace period), flush the logs.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        for t in self.tasks {
            t.await??;
        }
        // The sink's sender lives in the job context; once the worker is gone the writer
        // drains what is queued. Give it a moment rather than wait forever.
        let _ = tokio::time::timeout(Duration::from_secs(5), self.log_writer).await;
        Ok(())
    }

    /// Wait until the shutdown token is cancelled (by a signal), then stop.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.shutdown.cancelled().await;
        self.stop().await
    }
}

/// Extra pieces the demo and tests pass in.
#[derive(Default)]
pub struct Overrides {
    /// Replace the adapters built from the config.
    pub adapters: Option<AdapterRegistry>,
    pub clock: Option<Arc<dyn Clock>>,
    pub handlers: Option<Handlers>,
}

/// Connect, migrate, build and start the roles.
pub async fn start(
    config: Config,
    config_path: PathBuf,
    roles: Roles,
    overrides: Overrides,
) -> anyhow::Result<Running> {
    let config = Arc::new(config);
    crate::pg::ensure_database(&config.database.url).await?;
    let pool = switchyard_store::connect(&config.database.url, config.database.max_connections)
        .await
        .with_context(|| crate::pg::unreachable_hint(&config.database.url))?;
    MIGRATOR.run(&pool).await.context("applying migrations")?;
    let clock: Arc<dyn Clock> = overrides.clock.unwrap_or_else(|| Arc::new(SystemClock));
    let queue = Queue::new(pool.clone(), clock);

    // One resolver per organization that owns a partner: `secret:NAME` is looked up among
    // that organization's stored secrets.
    let mut resolvers = std::collections::BTreeMap::new();
    for org in config.partners.values().map(|p| p.org.clone()) {
        if resolvers.contains_key(&org) {
            continue;
        }
        let id = orgs::ensure(&pool, &org).await?.id;
        let sbox = crate::secrets::SecretBox::from_config(&config.secrets)?;
        resolvers.insert(org, crate::secrets::Resolver::load(&pool, id, sbox).await?);
    }
    let secrets = crate::adapters::SecretsByOrg {
        by_org: resolvers,
        fallback: crate::secrets::Resolver::empty(),
    };
    let join = |problems: Vec<crate::diag::Diagnostic>| {
        anyhow::anyhow!(problems
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n"))
    };
    let adapters = match overrides.adapters {
        Some(a) => a,
        None => AdapterRegistry::build(&config, &config_path, &secrets).map_err(join)?,
    };
    let edi_partners =
        crate::edi_partners::EdiPartners::build(&config, &config_path, &secrets).map_err(join)?;
    let handlers = Arc::new(overrides.handlers.unwrap_or_else(Handlers::standard));
    let masker = Masker::with_fields(&config.api.sensitive_fields);
    let (sink, log_writer) = DbSink::start(pool.clone(), masker);
    let (registry, report) = switchyard_mapping::MappingRegistry::load(&config.paths.mappings);
    for (name, diags) in &report.failed {
        warn!(mapping = %name, "mapping does not compile and is not loaded:\n{diags}");
    }
    info!(loaded = report.updated.len(), failed = report.failed.len(), dir = %config.paths.mappings.display(), "mappings loaded");
    let mappings = Arc::new(std::sync::RwLock::new(registry));
    let ctx = Arc::new(JobContext {
        queue: queue.clone(),
        adapters: Arc::new(adapters),
        sink,
        retention: config.retention.clone(),
        mappings: mappings.clone(),
        edi_partners: Arc::new(edi_partners),
    });

    let shutdown = CancellationToken::new();
    let mut tasks: Vec<JoinHandle<anyhow::Result<()>>> = Vec::new();
    let mut worker_stats = None;

    if roles.worker {
        let worker = Worker::new(
            queue.clone(),
            handlers.clone(),
            ctx.clone(),
            WorkerSettings::from(&config.queue),
        );
        worker_stats = Some(worker.stats.clone());
        let token = shutdown.clone();
        tasks.push(tokio::spawn(async move { worker.run(token).await }));
    }
    drop(ctx);
    spawn_mapping_reloader(mappings, shutdown.clone());

    if roles.scheduler {
        let (list, problems) = schedules::load_dir(&config.paths.schedules);
        for p in &problems {
            warn!("{p}");
        }
        if !problems.is_empty() {
            anyhow::bail!(
                "{} problem(s) in schedule files; run `switchyard check`",
                problems.len()
            );
        }
        let enabled: Vec<Schedule> = list.into_iter().filter(|s| s.enabled).collect();
        if !enabled.is_empty() {
            let task =
                spawn_scheduler(queue.clone(), config.clone(), enabled, shutdown.clone()).await?;
            tasks.push(task);
        }
    }

    let mut api_addr = None;
    if roles.api {
        let state = switchyard_api::ApiState {
            pool: pool.clone(),
            queue: queue.clone(),
            job_kinds: Arc::new(ConfiguredKinds {
                config: config.clone(),
                kinds: handlers.kinds(),
            }),
            config: switchyard_api::ApiConfig {
                edi_partners: config.edi_partner_names(),
                ..config.api.api_config()
            },
        };
        let router = switchyard_api::router(state);
        let listener = tokio::net::TcpListener::bind(&config.api.bind)
            .await
            .with_context(|| format!("binding the API to {}", config.api.bind))?;
        let addr = listener.local_addr()?;
        api_addr = Some(addr);
        info!(%addr, "API listening");
        let token = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { token.cancelled().await })
                .await?;
            Ok(())
        }));
    }

    Ok(Running {
        api_addr,
        queue,
        pool,
        worker_stats,
        shutdown,
        tasks,
        log_writer,
    })
}

/// Fire due ticks every second. Each process does this; the idempotency key of the tick's
/// job makes it fire once across all processes.
async fn spawn_scheduler(
    queue: Queue,
    config: Arc<Config>,
    list: Vec<Schedule>,
    shutdown: CancellationToken,
) -> anyhow::Result<JoinHandle<anyhow::Result<()>>> {
    let mut state = Vec::new();
    for s in list {
        let org = orgs::ensure(queue.pool(), &s.org).await?.id;
        let retry = config.retry_for(&s.job, s.partner.as_deref());
        let from = schedules::catch_up(&queue, &s, org, retry, queue.now()).await?;
        info!(schedule = %s.name, job = %s.job, "schedule active");
        state.push((s, org, retry, from));
    }
    Ok(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tick.tick() => {}
            }
            let now = queue.now();
            for (s, org, retry, from) in state.iter_mut() {
                match schedules::fire_ticks(&queue, s, *org, *retry, *from, now).await {
                    Ok(n) => {
                        if n > 0 {
                            tracing::debug!(schedule = %s.name, fired = n, "schedule fired");
                        }
                        *from = now;
                    }
                    Err(e) => {
                        warn!(schedule = %s.name, error = %e, "could not fire schedule; will retry")
                    }
                }
            }
        }
    }))
}

/// Hot reload: look at the mapping files every two seconds; a changed file is compiled and
/// swapped in, a broken one keeps the previous version running and its errors are logged.
/// (Polling rather than inotify: it also works on network and container file systems, and a
/// directory of mapping files is cheap to stat.)
fn spawn_mapping_reloader(
    mappings: Arc<std::sync::RwLock<switchyard_mapping::MappingRegistry>>,
    shutdown: CancellationToken,
) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(2));
        every.tick().await;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = every.tick() => {}
            }
            let m = mappings.clone();
            let report =
                tokio::task::spawn_blocking(move || m.write().map(|mut r| r.reload()).ok())
                    .await
                    .ok()
                    .flatten();
            let Some(report) = report else { continue };
            for (name, hash) in &report.updated {
                info!(mapping = %name, version = %hash, "mapping reloaded");
            }
            for (name, diags) in &report.failed {
                warn!(mapping = %name, "changed mapping does not compile; the previous version keeps running:\n{diags}");
            }
        }
    });
}
