//! The worker: claims jobs in batches, runs them concurrently, acks them in batches.
//!
//! ```text
//!  LISTEN switchyard_jobs ─┐
//!  poll timer ─────────────┼─▶ fetcher ──claim(batch)──▶ tasks (≤ concurrency) ──▶ completer
//!  capacity freed ─────────┘                                                    (one UPDATE per batch
//!  heartbeat: renew leases, rescue expired leases of dead workers                 of successes)
//! ```
//!
//! Every state change is a committed Postgres transaction before it is acted upon: a job is
//! only marked succeeded after its handler returned, so a crash between the two re-runs the
//! job (at-least-once) and the idempotency key passed to the partner makes that harmless.
//!
//! A database outage stops nothing for good. Each part reports to [`Health`] and retries
//! until the database answers: the completer keeps finished jobs' results in memory and
//! records them when it returns; the fetcher claims nothing while results cannot be recorded;
//! the heartbeat renews only jobs whose handlers are still running ([`held`]). A task of the
//! worker that ends anyway stops the worker, which returns an error naming it.

mod completer;
mod heartbeat;
mod held;

use crate::backoff::Backoff;
use crate::context::JobContext;
use crate::health::{Component, Health};
use crate::registry::Registry;
use crate::supervise::Supervised;
use completer::Completer;
use futures::FutureExt;
use heartbeat::Heartbeat;
use held::HeldJobs;
use sqlx::postgres::PgListener;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::WorkerId;
use switchyard_store::queue::{ClaimedJob, Queue, NOTIFY_CHANNEL};
use tokio::sync::{mpsc, Notify, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, info_span, warn, Instrument};

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub concurrency: usize,
    pub claim_batch: i64,
    pub lease: Duration,
    pub poll_interval: Duration,
    pub rescue_interval: Duration,
    pub shutdown_grace: Duration,
}

impl From<&crate::config::QueueConfig> for WorkerSettings {
    fn from(q: &crate::config::QueueConfig) -> Self {
        Self {
            concurrency: q.concurrency.max(1),
            claim_batch: q.claim_batch.max(1),
            lease: q.lease(),
            poll_interval: Duration::from_millis(q.poll_interval_ms.max(10)),
            rescue_interval: Duration::from_millis(q.rescue_interval_ms.max(100)),
            shutdown_grace: Duration::from_secs(q.shutdown_grace_secs),
        }
    }
}

/// Counters a worker keeps (for the bench and the demo summary).
#[derive(Debug, Default)]
pub struct WorkerStats {
    pub claimed: AtomicU64,
    pub succeeded: AtomicU64,
    pub retried: AtomicU64,
    pub dead: AtomicU64,
    pub lost_leases: AtomicU64,
}

pub struct Worker {
    pub id: WorkerId,
    queue: Queue,
    registry: Registry,
    ctx: Arc<JobContext>,
    settings: WorkerSettings,
    pub stats: Arc<WorkerStats>,
    health: Health,
}

enum Outcome {
    Done,
    Failed(AdapterError),
}

type Results = mpsc::UnboundedSender<(ClaimedJob, Outcome)>;

impl Worker {
    pub fn new(
        queue: Queue,
        registry: Registry,
        ctx: Arc<JobContext>,
        settings: WorkerSettings,
        health: Health,
    ) -> Self {
        Self {
            id: WorkerId::new(),
            queue,
            registry,
            ctx,
            settings,
            stats: Arc::new(WorkerStats::default()),
            health,
        }
    }

    /// Run until `shutdown` is cancelled, then stop claiming, let in-flight jobs finish within
    /// the grace period, record their results and release whatever is left. An error means
    /// work was left behind (named in the log) or a task of the worker died.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let span = info_span!("worker", worker = %self.id);
        self.run_inner(shutdown).instrument(span).await
    }

    async fn run_inner(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        for part in [
            Component::Claim,
            Component::Complete,
            Component::RenewLeases,
            Component::Rescue,
        ] {
            self.health.up(part);
        }
        let wake = Arc::new(Notify::new());
        let held = Arc::new(HeldJobs::default());
        let listener = listen(&self.queue).await?;
        let mut services = Supervised::new();
        services.spawn("LISTEN", keep_listening(listener, wake.clone()));
        services.spawn(
            "lease heartbeat",
            Heartbeat {
                queue: self.queue.clone(),
                worker: self.id,
                settings: self.settings.clone(),
                held: held.clone(),
                health: self.health.clone(),
            }
            .run(),
        );
        let (results, results_rx) = mpsc::unbounded_channel();
        let give_up = CancellationToken::new();
        let mut completer = tokio::spawn(
            Completer {
                queue: self.queue.clone(),
                worker: self.id,
                stats: self.stats.clone(),
                wake: wake.clone(),
                health: self.health.clone(),
                held: held.clone(),
            }
            .run(results_rx, give_up.clone()),
        );
        // Logged once LISTEN is up: from here on a new job wakes this worker (tests and
        // operators read it as "ready").
        info!(
            concurrency = self.settings.concurrency,
            batch = self.settings.claim_batch,
            "worker started"
        );

        let permits = Arc::new(Semaphore::new(self.settings.concurrency));
        let mut tasks = JoinSet::new();
        let mut completer_ended = false;
        let died = tokio::select! {
            () = self.fetch(&shutdown, &permits, &mut tasks, &results, &held, &wake) => None,
            exit = services.next_exit() => Some(exit.to_string()),
            ended = &mut completer => {
                completer_ended = true;
                Some(match ended {
                    Ok(()) => "the completer task ended".to_owned(),
                    Err(e) => format!("the completer task failed: {e}"),
                })
            }
        };
        match &died {
            Some(reason) => {
                error!(%reason, "a task of the worker stopped; stopping the worker");
                self.health.stopped(Component::Claim, reason);
            }
            None => self
                .health
                .stopped(Component::Claim, "the worker is shutting down"),
        }

        info!(in_flight = tasks.len(), "stopping: no new claims");
        let drained = tokio::time::timeout(self.settings.shutdown_grace, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            warn!(
                abandoned = tasks.len(),
                "grace period over; releasing unfinished jobs"
            );
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
        drop(results);
        // The last writes (results, then the release of what is unfinished) get a budget of
        // their own: during an outage they wait that long for the database, and no longer.
        let deadline = Instant::now() + self.settings.shutdown_grace;
        if !completer_ended {
            tokio::select! {
                _ = &mut completer => {}
                _ = tokio::time::sleep_until(deadline) => {
                    give_up.cancel();
                    let _ = completer.await;
                }
            }
        }
        let left = held.counts();
        let released = release_by(&self.queue, self.id, deadline).await;
        services.abort_all();
        let left_behind = match released {
            Some(released) => {
                held.forget_all();
                if released > 0 {
                    info!(released, "released unfinished jobs to other workers");
                }
                if left.finished > 0 {
                    warn!(
                        finished_released = left.finished,
                        "jobs that finished but whose success could not be recorded were \
                         released with the others: they run again (their idempotency keys \
                         make that safe)"
                    );
                }
                None
            }
            None if left.running + left.finished == 0 => {
                warn!("the database did not answer the final release; no job of ours was left");
                None
            }
            None => {
                error!(
                    finished_not_recorded = left.finished,
                    unfinished_not_released = left.running,
                    lease_secs = self.settings.lease.as_secs(),
                    "the database did not answer before shutdown: these jobs run again once \
                     their leases expire (their idempotency keys make that safe)"
                );
                Some(format!(
                    "{} finished and {} unfinished jobs were left running: the database did \
                     not answer before shutdown; they run again once their leases expire",
                    left.finished, left.running
                ))
            }
        };
        info!(
            succeeded = self.stats.succeeded.load(Ordering::Relaxed),
            retried = self.stats.retried.load(Ordering::Relaxed),
            dead = self.stats.dead.load(Ordering::Relaxed),
            "worker stopped"
        );
        match (died, left_behind) {
            (None, None) => Ok(()),
            (Some(reason), None) | (None, Some(reason)) => Err(anyhow::anyhow!(reason)),
            (Some(died), Some(left)) => Err(anyhow::anyhow!("{died}; {left}")),
        }
    }

    /// Claim and start jobs until `shutdown`. Claims only while results can be recorded:
    /// while the completer cannot write, more work would only grow what has to run again.
    async fn fetch(
        &self,
        shutdown: &CancellationToken,
        permits: &Arc<Semaphore>,
        tasks: &mut JoinSet<()>,
        results: &Results,
        held: &Arc<HeldJobs>,
        wake: &Notify,
    ) {
        let mut backoff = Backoff::default();
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            // Reap finished tasks so the set does not grow without bound.
            while tasks.try_join_next().is_some() {}
            if !self.health.is_up(Component::Complete) {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = self.health.until_up(Component::Complete) => continue,
                }
            }
            let free = permits.available_permits();
            if free == 0 {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = wait_for_permit(permits) => continue,
                }
            }
            let limit = (free as i64).min(self.settings.claim_batch);
            let jobs = match self.queue.claim(self.id, limit, self.settings.lease).await {
                Ok(jobs) => {
                    self.health.up(Component::Claim);
                    backoff.reset();
                    jobs
                }
                Err(e) => {
                    self.health.failing(Component::Claim, &e);
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(backoff.next_delay()) => continue,
                    }
                }
            };
            if jobs.is_empty() {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = wake.notified() => {},
                    _ = tokio::time::sleep(self.settings.poll_interval) => {},
                }
                continue;
            }
            self.stats
                .claimed
                .fetch_add(jobs.len() as u64, Ordering::Relaxed);
            for job in jobs {
                held.claimed(job.id);
                // Never fails: the semaphore is not closed, and `free` permits were available.
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let registry = self.registry.clone();
                let ctx = self.ctx.clone();
                let results = results.clone();
                let held = held.clone();
                let span = info_span!("job", job = %job.id, kind = %job.kind, attempt = job.attempt,
                                      partner = job.partner.as_deref().unwrap_or(""));
                tasks.spawn(
                    async move {
                        let outcome = run_job(&registry, &ctx, &job).await;
                        held.finished(job.id);
                        let id = job.id;
                        if results.send((job, outcome)).is_err() {
                            error!(job = %id, "the completer has stopped: this result is not \
                                recorded; the job runs again once released or its lease expires");
                        }
                        drop(permit);
                    }
                    .instrument(span),
                );
            }
        }
    }
}

async fn wait_for_permit(permits: &Arc<Semaphore>) {
    if let Ok(p) = permits.acquire().await {
        drop(p);
    }
}

/// Run the job's handler, turning a panic into a permanent failure rather than a lost job.
/// A job the registry does not admit (an unknown kind, or a partner that cannot do it: the
/// config changed since it was queued, or it came in around the API) fails permanently, naming
/// why, before any handler runs.
async fn run_job(registry: &Registry, ctx: &JobContext, job: &ClaimedJob) -> Outcome {
    let spec = match registry.admit(&job.kind, job.partner.as_deref(), &job.payload) {
        Ok(spec) => spec,
        Err(refusal) => return Outcome::Failed(AdapterError::permanent(refusal.to_string())),
    };
    match AssertUnwindSafe(spec.handler.run(ctx, job))
        .catch_unwind()
        .await
    {
        Ok(Ok(())) => Outcome::Done,
        // Masked once here, so neither the stored error, the dead letter nor a log line shows
        // a credential a partner echoed back.
        Ok(Err(mut e)) => {
            e.message = ctx.masker.mask_text(&e.message);
            Outcome::Failed(e)
        }
        Err(_) => Outcome::Failed(AdapterError::permanent("the job handler panicked")),
    }
}

/// Give back every job this worker still holds, retrying until `deadline`; `None` if the
/// database did not answer by then.
async fn release_by(queue: &Queue, worker: WorkerId, deadline: Instant) -> Option<u64> {
    let mut backoff = Backoff::default();
    let attempts = async {
        loop {
            match queue.release(worker).await {
                Ok(released) => return released,
                Err(e) => {
                    warn!(error = %e, "releasing unfinished jobs failed; retrying");
                    tokio::time::sleep(backoff.next_delay()).await;
                }
            }
        }
    };
    tokio::time::timeout_at(deadline, attempts).await.ok()
}

async fn listen(queue: &Queue) -> anyhow::Result<PgListener> {
    let mut listener = PgListener::connect_with(queue.pool()).await?;
    listener.listen(NOTIFY_CHANNEL).await?;
    Ok(listener)
}

/// Wake the fetcher on every NOTIFY. sqlx reconnects a lost connection on the next `recv`;
/// until it is back the fetcher's poll timer finds new jobs, so this only waits and retries.
async fn keep_listening(mut listener: PgListener, wake: Arc<Notify>) -> anyhow::Result<()> {
    let mut backoff = Backoff::default();
    let mut lost = false;
    loop {
        match listener.recv().await {
            Ok(_) => {
                if lost {
                    info!("LISTEN connection back");
                    lost = false;
                }
                backoff.reset();
                wake.notify_one();
            }
            Err(e) => {
                if !lost {
                    warn!(error = %e, "LISTEN connection lost; polling until it is back");
                    lost = true;
                }
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
}
