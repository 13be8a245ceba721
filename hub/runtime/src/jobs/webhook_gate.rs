//! One failing endpoint never delays the others: the per-endpoint gate every outbound
//! webhook delivery passes before it sends.
//!
//! The queue hands a worker whatever is runnable, in `run_at` order, and a delivery holds a
//! worker slot for as long as its HTTP call lasts (up to `[webhooks] timeout_ms`). Left
//! alone, a receiver that hangs would soon hold every slot with its backlog. So before
//! sending, a delivery asks its endpoint's gate, in this process:
//!
//! * **Concurrency**: at most `max_in_flight` deliveries to the endpoint at once (default 4).
//! * **Rate**: at most `rate_limit_per_sec` starts per second, when set (governor's GCRA).
//! * **Failing endpoints**: after [`FAILING_AFTER`] failed or throttled answers in a row, one
//!   delivery at a time, each start spaced by a backoff that doubles up to [`MAX_SPACING`]
//!   (or the receiver's `Retry-After`, when longer); a success lifts it.
//!
//! A delivery the gate turns away is **deferred**, not run: it goes back to the queue with a
//! later `run_at` and its attempt uncounted (`ErrorClass::Deferred`), freeing the slot at once
//! for another endpoint's delivery. Deferrals of one endpoint are spread further the more of
//! them there are since its last start, so a backlog of thousands is not claimed and put back
//! every quarter second.
//!
//! The gate lives in memory, per process: with several worker processes the limits multiply
//! by their number. A shared limit would need a round trip to the database per delivery (or
//! advisory locks tied to pooled connections); one worker process per deployment is the norm
//! here, and the point — a hanging receiver holds a bounded share of slots — holds either way.

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_core::ids::WebhookEndpointId;
use switchyard_store::webhook_health::Health;

/// Failed or throttled answers in a row after which an endpoint counts as failing.
pub const FAILING_AFTER: u32 = 3;
/// The longest spacing between a failing endpoint's deliveries.
pub const MAX_SPACING: Duration = Duration::from_secs(60);
/// The shortest deferral; deferrals of an endpoint grow from it with their number.
const BASE_DEFERRAL: Duration = Duration::from_millis(250);
/// The longest deferral for a busy (not failing) endpoint.
const MAX_DEFERRAL: Duration = Duration::from_secs(10);

/// An endpoint's limits, from its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_in_flight: u32,
    pub rate_per_sec: Option<u32>,
}

/// What the gate said.
#[derive(Debug)]
pub enum Admission {
    /// Send now; drop the pass when the call is over (after [`Pass::finish`]).
    Go(Pass),
    /// Do not send now: come back after this long.
    Wait { after: Duration, why: String },
}

#[derive(Default)]
struct Gate {
    in_flight: u32,
    limiter: Option<(u32, DefaultDirectRateLimiter)>,
    /// Failed or throttled answers in a row.
    failures: u32,
    /// While failing: no start before this.
    not_before: Option<Instant>,
    /// Deferrals since the last start.
    waiting: u32,
}

/// Every endpoint's gate in this process.
#[derive(Default)]
pub struct Gates {
    endpoints: Mutex<HashMap<WebhookEndpointId, Gate>>,
}

impl std::fmt::Debug for Gates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gates").finish_non_exhaustive()
    }
}

impl Gates {
    /// Ask to send to `endpoint` now. `spread` (any bits that differ between deliveries, such
    /// as the job id's random tail) jitters deferrals so a backlog does not come back at once.
    pub fn admit(
        self: &Arc<Self>,
        endpoint: WebhookEndpointId,
        limits: Limits,
        spread: u64,
    ) -> Admission {
        let now = Instant::now();
        let mut map = self.endpoints.lock().unwrap_or_else(|e| e.into_inner());
        let gate = map.entry(endpoint).or_default();
        let failing = gate.failures >= FAILING_AFTER;
        let cap = if failing {
            1
        } else {
            limits.max_in_flight.max(1)
        };
        if let Some(at) = gate.not_before.filter(|at| *at > now) {
            gate.waiting += 1;
            let after = (at - now) + jitter(BASE_DEFERRAL, spread);
            return Admission::Wait {
                after,
                why: format!(
                    "endpoint failing ({} answers in a row): next try in {} ms",
                    gate.failures,
                    (at - now).as_millis()
                ),
            };
        }
        if gate.in_flight >= cap {
            gate.waiting += 1;
            let base = deferral(gate.waiting, cap, failing);
            return Admission::Wait {
                after: base + jitter(base, spread),
                why: if failing {
                    format!(
                        "endpoint failing ({} answers in a row): one delivery at a time",
                        gate.failures
                    )
                } else {
                    format!("endpoint at its concurrency limit ({cap} in flight)")
                },
            };
        }
        if let Some(per_sec) = limits.rate_per_sec.and_then(NonZeroU32::new) {
            let limiter = match &mut gate.limiter {
                Some((n, l)) if *n == per_sec.get() => l,
                slot => {
                    // `burst` 1: starts are spaced evenly, never bunched at the top of a second.
                    let quota = Quota::per_second(per_sec).allow_burst(NonZeroU32::MIN);
                    &slot.insert((per_sec.get(), RateLimiter::direct(quota))).1
                }
            };
            if let Err(not_until) = limiter.check() {
                gate.waiting += 1;
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                return Admission::Wait {
                    after: wait + jitter(wait.max(BASE_DEFERRAL) * gate.waiting.min(8), spread),
                    why: format!("endpoint at its rate limit ({per_sec}/s)"),
                };
            }
        } else {
            gate.limiter = None;
        }
        gate.in_flight += 1;
        gate.waiting = 0;
        Admission::Go(Pass {
            gates: self.clone(),
            endpoint,
        })
    }

    /// How many deliveries to `endpoint` are in flight (for tests).
    pub fn in_flight(&self, endpoint: WebhookEndpointId) -> u32 {
        let map = self.endpoints.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&endpoint).map_or(0, |g| g.in_flight)
    }
}

/// The deferral after `waiting` deferrals of an endpoint that lets `cap` through at once:
/// about one round of its slots per `BASE_DEFERRAL`, longer when failing.
fn deferral(waiting: u32, cap: u32, failing: bool) -> Duration {
    let rounds = 1 + waiting / cap.max(1);
    let d = BASE_DEFERRAL.saturating_mul(rounds.min(1000));
    d.min(if failing { MAX_SPACING } else { MAX_DEFERRAL })
}

/// Up to half of `base`, chosen by `spread`.
fn jitter(base: Duration, spread: u64) -> Duration {
    let half = (base.as_millis() as u64 / 2).max(1);
    Duration::from_millis(spread % half)
}

/// A delivery under way. Dropping it frees the endpoint's slot.
#[derive(Debug)]
pub struct Pass {
    gates: Arc<Gates>,
    endpoint: WebhookEndpointId,
}

impl Pass {
    /// Record how the delivery went: failures in a row make the endpoint failing (one at a
    /// time, spaced); a success ends that. `retry_after` (the receiver's) lengthens the spacing.
    pub fn finish(self, health: Health, retry_after: Option<Duration>) {
        let mut map = self
            .gates
            .endpoints
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let Some(gate) = map.get_mut(&self.endpoint) else {
            return;
        };
        match health {
            Health::Delivered => {
                gate.failures = 0;
                gate.not_before = None;
            }
            Health::Failed | Health::Throttled => {
                gate.failures = gate.failures.saturating_add(1);
                if gate.failures >= FAILING_AFTER {
                    let doubling = (gate.failures - FAILING_AFTER).min(16);
                    let spacing = Duration::from_secs(1)
                        .saturating_mul(1 << doubling)
                        .min(MAX_SPACING)
                        .max(retry_after.unwrap_or_default());
                    gate.not_before = Some(Instant::now() + spacing);
                }
            }
        }
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        let mut map = self
            .gates
            .endpoints
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(gate) = map.get_mut(&self.endpoint) {
            gate.in_flight = gate.in_flight.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(n: u32) -> Limits {
        Limits {
            max_in_flight: n,
            rate_per_sec: None,
        }
    }

    fn go(a: Admission) -> Pass {
        match a {
            Admission::Go(p) => p,
            Admission::Wait { why, .. } => panic!("deferred: {why}"),
        }
    }

    fn wait(a: Admission) -> (Duration, String) {
        match a {
            Admission::Go(_) => panic!("admitted"),
            Admission::Wait { after, why } => (after, why),
        }
    }

    #[test]
    fn an_endpoint_at_its_limit_defers_and_others_are_not_affected() {
        let gates = Arc::new(Gates::default());
        let slow = WebhookEndpointId::new();
        let other = WebhookEndpointId::new();
        let a = go(gates.admit(slow, limits(2), 1));
        let _b = go(gates.admit(slow, limits(2), 2));
        let (after, why) = wait(gates.admit(slow, limits(2), 3));
        assert!(why.contains("concurrency limit (2"), "{why}");
        assert!(after >= BASE_DEFERRAL && after < MAX_DEFERRAL, "{after:?}");
        // Another endpoint's deliveries go ahead however busy the first one is.
        for i in 0..10 {
            drop(go(gates.admit(other, limits(2), i)));
        }
        drop(a);
        assert_eq!(gates.in_flight(slow), 1);
        let _c = go(gates.admit(slow, limits(2), 4));
    }

    #[test]
    fn deferrals_spread_with_the_backlog() {
        let gates = Arc::new(Gates::default());
        let e = WebhookEndpointId::new();
        let _p = go(gates.admit(e, limits(1), 0));
        let first = wait(gates.admit(e, limits(1), 0)).0;
        for _ in 0..20 {
            wait(gates.admit(e, limits(1), 0));
        }
        let later = wait(gates.admit(e, limits(1), 0)).0;
        assert!(later > first * 4, "{first:?} then {later:?}");
        assert!(later <= MAX_DEFERRAL);
    }

    #[test]
    fn a_failing_endpoint_gets_one_delivery_at_a_time_spaced_until_a_success() {
        let gates = Arc::new(Gates::default());
        let e = WebhookEndpointId::new();
        for _ in 0..FAILING_AFTER {
            go(gates.admit(e, limits(4), 0)).finish(Health::Failed, None);
        }
        let (after, why) = wait(gates.admit(e, limits(4), 0));
        assert!(why.contains("failing"), "{why}");
        assert!(after >= Duration::from_millis(900), "{after:?}");
        // A Retry-After longer than the backoff is the spacing.
        let mut map = gates.endpoints.lock().unwrap();
        map.get_mut(&e).unwrap().not_before = None;
        drop(map);
        let p = go(gates.admit(e, limits(4), 0));
        // One at a time while failing.
        assert!(wait(gates.admit(e, limits(4), 0))
            .1
            .contains("one delivery at a time"));
        p.finish(Health::Throttled, Some(Duration::from_secs(120)));
        assert!(wait(gates.admit(e, limits(4), 0)).0 >= Duration::from_secs(119));
        // A success ends it.
        let mut map = gates.endpoints.lock().unwrap();
        map.get_mut(&e).unwrap().not_before = None;
        drop(map);
        go(gates.admit(e, limits(4), 0)).finish(Health::Delivered, None);
        let _a = go(gates.admit(e, limits(4), 0));
        let _b = go(gates.admit(e, limits(4), 0));
    }

    #[test]
    fn the_rate_limit_spaces_starts() {
        let gates = Arc::new(Gates::default());
        let e = WebhookEndpointId::new();
        let l = Limits {
            max_in_flight: 10,
            rate_per_sec: Some(2),
        };
        drop(go(gates.admit(e, l, 0)));
        let (after, why) = wait(gates.admit(e, l, 0));
        assert!(why.contains("rate limit (2/s)"), "{why}");
        assert!(
            after > Duration::from_millis(300) && after < Duration::from_secs(3),
            "{after:?}"
        );
    }
}
