//! Client-side pacing of one partner: every request waits for a permit of a GCRA limiter
//! (`governor`) before it is sent, so the adapter stays below the partner's limit instead of
//! finding it with 429s; and a 429's `Retry-After` pauses **every** request to the partner
//! until that instant (a shared "not before"), not only the one that was refused — the others
//! would only be refused too, and each refusal may count against the client.
//!
//! One [`Pacer`] per adapter, i.e. per partner per process: several daemons sharing a partner
//! each pace themselves, so their limits must add up to less than the partner's.

use crate::config::ValidatedRateLimit;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The limiter and pause shared by all requests to one partner.
pub struct Pacer {
    limiter: DefaultDirectRateLimiter,
    /// No request is sent before this instant (the latest `Retry-After` heard).
    not_before: Mutex<Option<Instant>>,
    settings: ValidatedRateLimit,
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacer")
            .field("settings", &self.settings)
            .field("paused_until", &self.paused_until())
            .finish_non_exhaustive()
    }
}

impl Pacer {
    pub fn new(settings: ValidatedRateLimit) -> Self {
        // `with_period` refuses only a zero period, which validation rules out; fall back to
        // the burst per second rather than panic if that ever changes.
        let quota = Quota::with_period(settings.period)
            .unwrap_or_else(|| Quota::per_second(settings.burst))
            .allow_burst(settings.burst);
        Self {
            limiter: RateLimiter::direct(quota),
            not_before: Mutex::new(None),
            settings,
        }
    }

    pub fn settings(&self) -> &ValidatedRateLimit {
        &self.settings
    }

    /// Wait, asleep, until the partner's pause (if any) is over and a permit is free; how long
    /// that took.
    pub async fn admit(&self) -> Duration {
        let started = Instant::now();
        loop {
            if let Some(until) = self.paused_until() {
                tokio::time::sleep_until(until).await;
            }
            self.limiter.until_ready().await;
            // A 429 heard while this request waited for its permit pauses it too (the permit
            // is spent: the partner's bucket refills during the pause, and so does ours).
            if self.paused_until().is_none() {
                return started.elapsed();
            }
        }
    }

    /// The instant requests are held until, while it is in the future.
    pub fn paused_until(&self) -> Option<Instant> {
        let now = Instant::now();
        self.lock().filter(|until| *until > now)
    }

    /// Hold every request until `until`. A later pause extends the current one; an earlier
    /// one never shortens it (two 429s answered out of order must not let requests out early).
    pub fn pause_until(&self, until: Instant) {
        let mut not_before = self.lock();
        if not_before.is_none_or(|current| current < until) {
            *not_before = Some(until);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        // The guarded value is one instant, always whole: a panic elsewhere cannot corrupt it.
        self.not_before.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::num::NonZeroU32;

    fn pacer(per_second: f64, burst: u32) -> Pacer {
        Pacer::new(ValidatedRateLimit {
            period: Duration::from_secs_f64(1.0 / per_second),
            burst: NonZeroU32::new(burst).unwrap(),
            retries: 3,
            max_wait: Duration::from_secs(60),
        })
    }

    #[tokio::test]
    async fn the_burst_goes_at_once_then_requests_are_spaced_by_the_period() {
        let p = pacer(50.0, 3);
        let started = Instant::now();
        for _ in 0..3 {
            p.admit().await;
        }
        assert!(started.elapsed() < Duration::from_millis(15));
        for _ in 0..5 {
            p.admit().await;
        }
        // Five more at 50/s: at least 4 periods after the burst (the fifth period may
        // have begun while the burst was taken).
        assert!(
            started.elapsed() >= Duration::from_millis(80),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_pause_holds_requests_until_it_ends_and_is_never_shortened() {
        let p = pacer(1000.0, 10);
        let until = Instant::now() + Duration::from_millis(120);
        p.pause_until(until);
        p.pause_until(until - Duration::from_millis(100));
        assert_eq!(p.paused_until(), Some(until));
        p.admit().await;
        assert!(Instant::now() >= until);
        assert_eq!(p.paused_until(), None);
    }
}
