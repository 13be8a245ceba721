//! What the daemon knows about its own long-lived work: each part that writes to the database
//! (claiming, recording finished jobs, renewing leases, rescuing, the scheduler, the log
//! writer) reports whether its last attempt worked, and a task that ended says so.
//!
//! Three readers: `/readyz` (through [`switchyard_api::Readiness`]) is 503 while any part is
//! failing or stopped; the worker's fetcher claims nothing while finished jobs cannot be
//! recorded; and the log, which gets one line when a part starts failing and one when it
//! recovers, rather than one per retry.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// A part of the daemon whose health `/readyz` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    Claim,
    Complete,
    RenewLeases,
    Rescue,
    Scheduler,
    LogWriter,
}

impl Component {
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Claim => "claiming jobs",
            Component::Complete => "recording finished jobs",
            Component::RenewLeases => "renewing leases",
            Component::Rescue => "rescuing expired leases",
            Component::Scheduler => "firing schedules",
            Component::LogWriter => "writing integration logs",
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a component is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum ComponentState {
    Up,
    /// Its writes fail (the database is unreachable, as far as it can tell); it keeps trying.
    Failing {
        since: Instant,
        error: String,
    },
    /// Its task ended; nothing will retry.
    Stopped {
        reason: String,
    },
}

type States = BTreeMap<Component, ComponentState>;

/// Shared by every task of the process; cheap to clone.
#[derive(Clone)]
pub struct Health {
    states: Arc<watch::Sender<States>>,
}

impl Default for Health {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Health")
            .field(&*self.states.borrow())
            .finish()
    }
}

impl Health {
    pub fn new() -> Self {
        Self {
            states: Arc::new(watch::Sender::new(States::new())),
        }
    }

    /// `component`'s last attempt worked (also how a component is registered at start).
    pub fn up(&self, component: Component) {
        self.states.send_if_modified(|states| {
            let previous = states.insert(component, ComponentState::Up);
            if let Some(ComponentState::Failing { since, .. }) = &previous {
                tracing::info!(
                    after_secs = format_args!("{:.1}", since.elapsed().as_secs_f64()),
                    "{component}: working again"
                );
            }
            previous != Some(ComponentState::Up)
        });
    }

    /// `component`'s last attempt failed with `error`; it will try again. Logged once per
    /// failing spell, when it starts.
    pub fn failing(&self, component: Component, error: &dyn fmt::Display) {
        self.states
            .send_if_modified(|states| match states.get(&component) {
                Some(ComponentState::Failing { .. }) => {
                    tracing::debug!(%error, "{component}: still failing");
                    false
                }
                Some(ComponentState::Stopped { .. }) => false,
                _ => {
                    tracing::warn!(%error, "{component}: failing; retrying until it works");
                    states.insert(
                        component,
                        ComponentState::Failing {
                            since: Instant::now(),
                            error: error.to_string(),
                        },
                    );
                    true
                }
            });
    }

    /// `component` will not try again (its task ended, or the process is shutting down).
    /// Not logged here: the caller knows whether that is an error.
    pub fn stopped(&self, component: Component, reason: &str) {
        self.states.send_modify(|states| {
            states.insert(
                component,
                ComponentState::Stopped {
                    reason: reason.to_owned(),
                },
            );
        });
    }

    /// Whether `component` is up (a component never reported counts as up).
    pub fn is_up(&self, component: Component) -> bool {
        matches!(
            self.states.borrow().get(&component),
            None | Some(ComponentState::Up)
        )
    }

    /// Wait until `component` is up.
    pub async fn until_up(&self, component: Component) {
        let mut rx = self.states.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = rx
            .wait_for(|states| matches!(states.get(&component), None | Some(ComponentState::Up)))
            .await;
    }

    /// What is wrong, one line per component that is not up (empty when all are).
    pub fn problems(&self) -> Vec<String> {
        self.states
            .borrow()
            .iter()
            .filter_map(|(component, state)| match state {
                ComponentState::Up => None,
                ComponentState::Failing { since, error } => Some(format!(
                    "{component}: failing for {}: {error}",
                    seconds(since.elapsed())
                )),
                ComponentState::Stopped { reason } => {
                    Some(format!("{component}: stopped: {reason}"))
                }
            })
            .collect()
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

impl switchyard_api::Readiness for Health {
    fn problems(&self) -> Vec<String> {
        Health::problems(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn failing_and_stopped_parts_are_named_until_they_recover() {
        let health = Health::new();
        health.up(Component::Claim);
        health.up(Component::Complete);
        assert!(health.problems().is_empty());

        health.failing(Component::Complete, &"pool timed out");
        health.failing(Component::Complete, &"connection refused");
        assert!(!health.is_up(Component::Complete));
        let problems = health.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("recording finished jobs: failing for")
                && problems[0].ends_with("pool timed out"),
            "the spell is named by its first error: {problems:?}"
        );

        let waiter = {
            let health = health.clone();
            tokio::spawn(async move { health.until_up(Component::Complete).await })
        };
        health.up(Component::Complete);
        waiter.await.unwrap();
        assert!(health.problems().is_empty());

        health.stopped(Component::LogWriter, "the task panicked");
        health.failing(Component::LogWriter, &"late error");
        assert_eq!(
            health.problems(),
            ["writing integration logs: stopped: the task panicked"]
        );
    }
}
