//! Every third of a lease, renew the leases of the jobs whose handlers are running; every
//! rescue interval, hand back the jobs of workers whose leases expired (a killed process).
//! Both keep going through any outage: a failed round is reported to [`Health`] and the next
//! tick tries again.

use super::held::HeldJobs;
use super::WorkerSettings;
use crate::health::{Component, Health};
use std::sync::Arc;
use switchyard_core::ids::WorkerId;
use switchyard_store::queue::Queue;
use tokio::time::MissedTickBehavior;
use tracing::info;

pub(super) struct Heartbeat {
    pub queue: Queue,
    pub worker: WorkerId,
    pub settings: WorkerSettings,
    pub held: Arc<HeldJobs>,
    pub health: Health,
}

impl Heartbeat {
    /// Runs until the worker aborts it, after its last jobs were released.
    pub async fn run(self) -> anyhow::Result<()> {
        let mut renew = tokio::time::interval(self.settings.lease / 3);
        let mut rescue = tokio::time::interval(self.settings.rescue_interval);
        // During an outage each round waits the pool's acquire timeout; ticks missed meanwhile
        // are not made up in a burst.
        renew.set_missed_tick_behavior(MissedTickBehavior::Delay);
        rescue.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = renew.tick() => self.renew().await,
                _ = rescue.tick() => self.rescue().await,
            }
        }
    }

    async fn renew(&self) {
        let running = self.held.running();
        if running.is_empty() {
            // No lease at stake: nothing is failing (a renewal that failed during an outage
            // must not keep the process unready once there is nothing left to renew).
            self.health.up(Component::RenewLeases);
            return;
        }
        match self
            .queue
            .renew_leases(self.worker, &running, self.settings.lease)
            .await
        {
            Ok(_) => self.health.up(Component::RenewLeases),
            Err(e) => self.health.failing(Component::RenewLeases, &e),
        }
    }

    async fn rescue(&self) {
        match self.queue.rescue_expired(&self.held.all()).await {
            Ok(rescued) => {
                self.health.up(Component::Rescue);
                if rescued > 0 {
                    info!(rescued, "re-queued jobs whose lease expired");
                }
            }
            Err(e) => self.health.failing(Component::Rescue, &e),
        }
    }
}
