//! Records what finished: successes acked in one statement per round, deferrals (a handler
//! that chose not to run yet) put back in one statement per round, failures one by one.
//!
//! A write that fails is retried until it works, however long the database is away: the
//! results wait in memory (at most the jobs this worker holds, since the fetcher claims
//! nothing while they cannot be written) and new ones join them, so the first round after the
//! database returns records everything. Only shutdown ends the retrying, after its budget;
//! what was left stays held as finished, for the worker to release or report.

use super::held::HeldJobs;
use super::{Outcome, WorkerStats};
use crate::backoff::Backoff;
use crate::health::{Component, Health};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use switchyard_core::error::{AdapterError, ErrorClass};
use switchyard_core::ids::{JobId, WorkerId};
use switchyard_store::queue::{ClaimedJob, FailOutcome, Failure, Queue};
use switchyard_store::StoreError;
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// Results taken in per round before writing.
const ROUND: usize = 4096;

/// Results not yet written.
#[derive(Debug, Default)]
struct Backlog {
    succeeded: Vec<JobId>,
    deferred: Vec<(ClaimedJob, AdapterError, std::time::Duration)>,
    failed: VecDeque<(ClaimedJob, AdapterError)>,
}

impl Backlog {
    fn push(&mut self, (job, outcome): (ClaimedJob, Outcome)) {
        match outcome {
            Outcome::Done => self.succeeded.push(job.id),
            Outcome::Failed(error) => match error.class {
                ErrorClass::Deferred { after } => self.deferred.push((job, error, after)),
                _ => self.failed.push_back((job, error)),
            },
        }
    }

    fn len(&self) -> usize {
        self.succeeded.len() + self.deferred.len() + self.failed.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub(super) struct Completer {
    pub queue: Queue,
    pub worker: WorkerId,
    pub stats: Arc<WorkerStats>,
    /// Told when capacity was freed, so the fetcher looks again without waiting for its timer.
    pub wake: Arc<Notify>,
    pub health: Health,
    pub held: Arc<HeldJobs>,
}

impl Completer {
    /// Record results until the channel closes and everything is written, or until
    /// `give_up`. What is left unwritten stays in [`HeldJobs`] as finished, for the worker to
    /// release or report.
    pub async fn run(
        self,
        mut results: mpsc::UnboundedReceiver<(ClaimedJob, Outcome)>,
        give_up: CancellationToken,
    ) {
        let mut backlog = Backlog::default();
        let mut open = true;
        let mut backoff = Backoff::default();
        loop {
            if backlog.is_empty() {
                if !open {
                    return;
                }
                match results.recv().await {
                    Some(result) => backlog.push(result),
                    None => return,
                }
            }
            while open && backlog.len() < ROUND {
                match results.try_recv() {
                    Ok(result) => backlog.push(result),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => open = false,
                }
            }
            let written = tokio::select! {
                written = self.write(&mut backlog) => written,
                _ = give_up.cancelled() => return,
            };
            match written {
                Ok(()) => {
                    self.health.up(Component::Complete);
                    backoff.reset();
                    self.wake.notify_one();
                }
                Err(error) => {
                    self.health.failing(Component::Complete, &error);
                    // Pause before the next attempt, taking in results meanwhile.
                    let pause = tokio::time::sleep(backoff.next_delay());
                    tokio::pin!(pause);
                    loop {
                        tokio::select! {
                            _ = &mut pause => break,
                            _ = give_up.cancelled() => return,
                            result = results.recv(), if open => match result {
                                Some(result) => backlog.push(result),
                                None => open = false,
                            },
                        }
                    }
                }
            }
        }
    }

    /// Write the backlog, removing what was written; stops at the first failed write.
    async fn write(&self, backlog: &mut Backlog) -> Result<(), StoreError> {
        if !backlog.succeeded.is_empty() {
            let acked = self.queue.complete(self.worker, &backlog.succeeded).await?;
            metrics::counter!("switchyard_job_attempts_total", "outcome" => "succeeded")
                .increment(acked);
            self.stats.succeeded.fetch_add(acked, Ordering::Relaxed);
            let lost = backlog.succeeded.len() as u64 - acked;
            if lost > 0 {
                self.stats.lost_leases.fetch_add(lost, Ordering::Relaxed);
                warn!(
                    lost,
                    "acks not applied: the jobs were no longer ours (lease taken over), or an \
                     earlier attempt whose answer was lost had already recorded them"
                );
            }
            self.held.forget(&backlog.succeeded);
            backlog.succeeded.clear();
        }
        if !backlog.deferred.is_empty() {
            let asked: Vec<_> = backlog
                .deferred
                .iter()
                .map(|(job, _, after)| (job.id, *after))
                .collect();
            let done: std::collections::HashMap<JobId, _> = self
                .queue
                .defer_many(self.worker, &asked)
                .await?
                .into_iter()
                .collect();
            for (job, error, _) in backlog.deferred.drain(..) {
                let outcome = match done.get(&job.id) {
                    Some(run_at) => FailOutcome::Deferred { run_at: *run_at },
                    None => FailOutcome::LostLease,
                };
                self.count_failure(&job, &error, outcome);
                self.held.forget(&[job.id]);
            }
        }
        while let Some((job, error)) = backlog.failed.front() {
            let failure = Failure {
                class: error.class.clone(),
                message: error.message.clone(),
                status: error.status,
            };
            let outcome = self.queue.fail(self.worker, job, &failure).await?;
            self.count_failure(job, error, outcome);
            self.held.forget(&[job.id]);
            backlog.failed.pop_front();
        }
        Ok(())
    }

    fn count_failure(&self, job: &ClaimedJob, error: &AdapterError, outcome: FailOutcome) {
        let label = match &outcome {
            FailOutcome::Retrying { .. } => "retrying",
            FailOutcome::Dead { .. } => "dead",
            FailOutcome::LostLease => "lost_lease",
            FailOutcome::Deferred { .. } => "deferred",
        };
        metrics::counter!("switchyard_job_attempts_total", "outcome" => label).increment(1);
        match outcome {
            FailOutcome::Retrying { run_at } => {
                self.stats.retried.fetch_add(1, Ordering::Relaxed);
                info!(job = %job.id, attempt = job.attempt, ?run_at, error = %error, "attempt failed; will retry");
            }
            FailOutcome::Dead { dead_letter } => {
                self.stats.dead.fetch_add(1, Ordering::Relaxed);
                let permanent = !error.class.is_retryable();
                warn!(job = %job.id, %dead_letter, permanent, error = %error, "job moved to the dead-letter queue");
            }
            FailOutcome::LostLease => {
                self.stats.lost_leases.fetch_add(1, Ordering::Relaxed);
                debug!(job = %job.id, "failure not recorded: lease lost");
            }
            FailOutcome::Deferred { run_at } => {
                debug!(job = %job.id, %run_at, reason = %error.message, "deferred, not attempted");
            }
        }
    }
}
