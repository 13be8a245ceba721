//! The jobs a worker holds: claimed and not yet recorded as succeeded or failed. Each is
//! running (its handler has not returned) or finished (its result waits for the completer).
//!
//! The heartbeat renews the leases of running jobs only: a finished job's success may wait
//! out a database outage, but its lease is not stretched for it, so a worker that cannot
//! record results does not keep their jobs from everyone else. The rescue spares every held
//! job, so a worker never re-queues work whose result it is about to write.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use switchyard_core::ids::JobId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    Finished,
}

/// How many held jobs are in each phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct HeldCounts {
    pub running: usize,
    pub finished: usize,
}

#[derive(Debug, Default)]
pub(super) struct HeldJobs(Mutex<HashMap<JobId, Phase>>);

impl HeldJobs {
    fn lock(&self) -> MutexGuard<'_, HashMap<JobId, Phase>> {
        // Every update is a single map operation; a panic elsewhere cannot leave it half-done.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn claimed(&self, id: JobId) {
        self.lock().insert(id, Phase::Running);
    }

    pub fn finished(&self, id: JobId) {
        if let Some(phase) = self.lock().get_mut(&id) {
            *phase = Phase::Finished;
        }
    }

    /// The results of `ids` are written (or the jobs were released): no longer ours.
    pub fn forget(&self, ids: &[JobId]) {
        let mut held = self.lock();
        for id in ids {
            held.remove(id);
        }
    }

    pub fn forget_all(&self) {
        self.lock().clear();
    }

    /// The jobs whose handlers are running (whose leases the heartbeat renews).
    pub fn running(&self) -> Vec<JobId> {
        self.lock()
            .iter()
            .filter(|(_, phase)| **phase == Phase::Running)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Every held job (which the rescue spares).
    pub fn all(&self) -> Vec<JobId> {
        self.lock().keys().copied().collect()
    }

    pub fn counts(&self) -> HeldCounts {
        let held = self.lock();
        let running = held.values().filter(|p| **p == Phase::Running).count();
        HeldCounts {
            running,
            finished: held.len() - running,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_jobs_stay_held_but_are_not_renewed() {
        let held = HeldJobs::default();
        let (a, b, c) = (JobId::new(), JobId::new(), JobId::new());
        for id in [a, b, c] {
            held.claimed(id);
        }
        held.finished(b);
        assert_eq!(
            held.counts(),
            HeldCounts {
                running: 2,
                finished: 1
            }
        );
        let mut running = held.running();
        running.sort();
        let mut expected = vec![a, c];
        expected.sort();
        assert_eq!(running, expected);
        assert_eq!(held.all().len(), 3);
        held.forget(&[b]);
        held.finished(b);
        assert_eq!(held.all().len(), 2, "a forgotten job does not come back");
        held.forget_all();
        assert_eq!(held.counts(), HeldCounts::default());
    }
}
