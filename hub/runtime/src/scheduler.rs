//! The scheduler role: every process evaluates every enabled schedule and fires due ticks
//! every 200 ms; a tick's job has the idempotency key `schedule:NAME:TICK`, so it runs once
//! across all processes. While the database is away a round fails and the next one tries
//! again; the missed ticks fire (per each schedule's `missed` policy) once it is back.

use crate::config::Config;
use crate::health::{Component, Health};
use crate::schedules::{self, Schedule};
use std::sync::Arc;
use std::time::Duration;
use switchyard_store::orgs;
use switchyard_store::queue::Queue;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

/// Apply each schedule's missed-tick policy, then fire due ticks until `shutdown`.
pub async fn spawn(
    queue: Queue,
    config: Arc<Config>,
    list: Vec<Schedule>,
    shutdown: CancellationToken,
    health: Health,
) -> anyhow::Result<JoinHandle<anyhow::Result<()>>> {
    let mut state = Vec::new();
    for s in list {
        let org = orgs::ensure(queue.pool(), &s.org).await?.id;
        let retry = config.retry_for(&s.job, s.partner.as_deref());
        let from = schedules::catch_up(&queue, &s, org, retry, queue.now()).await?;
        info!(schedule = %s.name, job = %s.job, "schedule active");
        state.push((s, org, retry, from));
    }
    health.up(Component::Scheduler);
    Ok(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tick.tick() => {}
            }
            let now = queue.now();
            let mut failed = None;
            for (s, org, retry, from) in state.iter_mut() {
                match schedules::fire_ticks(&queue, s, *org, *retry, *from, now).await {
                    Ok(n) => {
                        if n > 0 {
                            debug!(schedule = %s.name, fired = n, "schedule fired");
                        }
                        *from = now;
                    }
                    Err(e) => {
                        // `from` stays: the ticks of this round fire in a later one.
                        debug!(schedule = %s.name, error = %e, "could not fire schedule; will retry");
                        failed = Some(format!("schedule `{}`: {e}", s.name));
                    }
                }
            }
            match failed {
                None => health.up(Component::Scheduler),
                Some(error) => health.failing(Component::Scheduler, &error),
            }
        }
    }))
}
