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

use crate::context::JobContext;
use crate::registry::Registry;
use futures::FutureExt;
use sqlx::postgres::PgListener;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::error::AdapterError;
use switchyard_core::ids::{JobId, WorkerId};
use switchyard_store::queue::{ClaimedJob, FailOutcome, Failure, Queue, NOTIFY_CHANNEL};
use tokio::sync::{mpsc, Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, info_span, warn, Instrument};

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
}

enum Outcome {
    Done,
    Failed(AdapterError),
}

impl Worker {
    pub fn new(
        queue: Queue,
        registry: Registry,
        ctx: Arc<JobContext>,
        settings: WorkerSettings,
    ) -> Self {
        Self {
            id: WorkerId::new(),
            queue,
            registry,
            ctx,
            settings,
            stats: Arc::new(WorkerStats::default()),
        }
    }

    /// Run until `shutdown` is cancelled, then stop claiming, let in-flight jobs finish within
    /// the grace period, and release whatever is left.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let span = info_span!("worker", worker = %self.id);
        self.run_inner(shutdown).instrument(span).await
    }

    async fn run_inner(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let wake = Arc::new(Notify::new());
        let listener = spawn_listener(self.queue.clone(), wake.clone(), shutdown.clone()).await?;
        let housekeeping = spawn_housekeeping(
            self.queue.clone(),
            self.id,
            self.settings.clone(),
            shutdown.clone(),
        );
        // Logged once LISTEN is up: from here on a new job wakes this worker (tests and
        // operators read it as "ready").
        info!(
            concurrency = self.settings.concurrency,
            batch = self.settings.claim_batch,
            "worker started"
        );

        let (done_tx, done_rx) = mpsc::unbounded_channel::<(ClaimedJob, Outcome)>();
        let completer = tokio::spawn(complete_loop(
            self.queue.clone(),
            self.id,
            done_rx,
            self.stats.clone(),
            wake.clone(),
        ));

        let permits = Arc::new(Semaphore::new(self.settings.concurrency));
        let mut tasks = JoinSet::new();
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            // Reap finished tasks so the set does not grow without bound.
            while tasks.try_join_next().is_some() {}
            let free = permits.available_permits();
            if free == 0 {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = wait_for_permit(&permits) => continue,
                }
            }
            let limit = (free as i64).min(self.settings.claim_batch);
            let jobs = match self.queue.claim(self.id, limit, self.settings.lease).await {
                Ok(jobs) => jobs,
                Err(e) => {
                    warn!(error = %e, "claim failed; backing off");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(self.settings.poll_interval) => continue,
                    }
                }
            };
            if jobs.is_empty() {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = wake.notified() => {},
                    _ = tokio::time::sleep(self.settings.poll_interval) => {},
                }
                continue;
            }
            self.stats
                .claimed
                .fetch_add(jobs.len() as u64, Ordering::Relaxed);
            for job in jobs {
                let permit = permits.clone().acquire_owned().await?;
                let registry = self.registry.clone();
                let ctx = self.ctx.clone();
                let done = done_tx.clone();
                let span = info_span!("job", job = %job.id, kind = %job.kind, attempt = job.attempt,
                                      partner = job.partner.as_deref().unwrap_or(""));
                tasks.spawn(
                    async move {
                        let outcome = run_job(&registry, &ctx, &job).await;
                        let _ = done.send((job, outcome));
                        drop(permit);
                    }
                    .instrument(span),
                );
            }
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
        drop(done_tx);
        completer.await??;
        let released = self.queue.release(self.id).await?;
        if released > 0 {
            info!(released, "released unfinished jobs to other workers");
        }
        housekeeping.abort();
        listener.abort();
        info!(
            succeeded = self.stats.succeeded.load(Ordering::Relaxed),
            retried = self.stats.retried.load(Ordering::Relaxed),
            dead = self.stats.dead.load(Ordering::Relaxed),
            "worker stopped"
        );
        Ok(())
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

/// Acks successes in batches (whatever has arrived since the last write) and records
/// failures one by one.
async fn complete_loop(
    queue: Queue,
    worker: WorkerId,
    mut rx: mpsc::UnboundedReceiver<(ClaimedJob, Outcome)>,
    stats: Arc<WorkerStats>,
    wake: Arc<Notify>,
) -> anyhow::Result<()> {
    let mut batch = Vec::with_capacity(1024);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < 4096 {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let done: Vec<JobId> = batch
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Done))
            .map(|(j, _)| j.id)
            .collect();
        if !done.is_empty() {
            let acked = with_retry(|| queue.complete(worker, &done)).await?;
            metrics::counter!("switchyard_job_attempts_total", "outcome" => "succeeded")
                .increment(acked);
            stats.succeeded.fetch_add(acked, Ordering::Relaxed);
            let lost = done.len() as u64 - acked;
            if lost > 0 {
                stats.lost_leases.fetch_add(lost, Ordering::Relaxed);
                warn!(lost, "acks for jobs whose lease had expired were ignored");
            }
            // Capacity was freed; let the fetcher look again without waiting for its timer.
            wake.notify_one();
        }
        for (job, outcome) in batch.drain(..) {
            let Outcome::Failed(error) = outcome else {
                continue;
            };
            let failure = Failure {
                class: error.class.clone(),
                message: error.message.clone(),
                status: error.status,
            };
            let outcome = with_retry(|| queue.fail(worker, &job, &failure)).await?;
            let label = match &outcome {
                FailOutcome::Retrying { .. } => "retrying",
                FailOutcome::Dead { .. } => "dead",
                FailOutcome::LostLease => "lost_lease",
            };
            metrics::counter!("switchyard_job_attempts_total", "outcome" => label).increment(1);
            match outcome {
                FailOutcome::Retrying { run_at } => {
                    stats.retried.fetch_add(1, Ordering::Relaxed);
                    info!(job = %job.id, attempt = job.attempt, ?run_at, error = %error, "attempt failed; will retry");
                }
                FailOutcome::Dead { dead_letter } => {
                    stats.dead.fetch_add(1, Ordering::Relaxed);
                    let level_permanent = !error.class.is_retryable();
                    warn!(job = %job.id, %dead_letter, permanent = level_permanent, error = %error, "job moved to the dead-letter queue");
                }
                FailOutcome::LostLease => {
                    stats.lost_leases.fetch_add(1, Ordering::Relaxed);
                    debug!(job = %job.id, "failure not recorded: lease lost");
                }
            }
        }
    }
    Ok(())
}

/// A database hiccup while acking must not lose the ack: retry a few times before giving up
/// (after which the lease expires and the job runs again, which idempotency makes harmless).
async fn with_retry<T, F, Fut>(mut f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, switchyard_store::StoreError>>,
{
    let mut delay = Duration::from_millis(50);
    for attempt in 1..=5 {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < 5 => {
                warn!(error = %e, attempt, "queue write failed; retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => return Err(e.into()),
        }
    }
    unreachable!("the loop returns on its last attempt")
}

/// LISTEN for new-job notifications; reconnects if the connection drops.
async fn spawn_listener(
    queue: Queue,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let mut listener = PgListener::connect_with(queue.pool()).await?;
    listener.listen(NOTIFY_CHANNEL).await?;
    Ok(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                msg = listener.recv() => match msg {
                    Ok(_) => wake.notify_one(),
                    Err(e) => {
                        warn!(error = %e, "LISTEN connection lost; polling until it is back");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        }
    }))
}

/// Renew our leases every third of the lease, and hand back jobs of workers whose lease
/// expired (a killed process) every rescue interval.
fn spawn_housekeeping(
    queue: Queue,
    worker: WorkerId,
    settings: WorkerSettings,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut renew = tokio::time::interval(settings.lease / 3);
        let mut rescue = tokio::time::interval(settings.rescue_interval);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => {
                    // Keep renewing through the grace period: in-flight jobs are still ours.
                    loop {
                        renew.tick().await;
                        if let Err(e) = queue.renew_leases(worker, settings.lease).await {
                            warn!(error = %e, "lease renewal failed");
                        }
                    }
                }
                _ = renew.tick() => {
                    if let Err(e) = queue.renew_leases(worker, settings.lease).await {
                        warn!(error = %e, "lease renewal failed");
                    }
                }
                _ = rescue.tick() => match queue.rescue_expired().await {
                    Ok(0) => {}
                    Ok(n) => info!(rescued = n, "re-queued jobs of a worker whose lease expired"),
                    Err(e) => warn!(error = %e, "rescue of expired leases failed"),
                },
            }
        }
    })
}
