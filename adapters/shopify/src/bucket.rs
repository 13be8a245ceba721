//! The client's copy of Shopify's calculated-cost leaky bucket.
//!
//! Written by hand rather than with `governor` (which the HTTP adapter uses): governor's GCRA
//! cannot be corrected from outside, and here the server tells us after every request how
//! full its bucket is (`throttleStatus`) and each request costs a different number of points.
//! So the bucket is seeded and re-seeded by the server's numbers, requests reserve their
//! estimated cost (going into debt when it is not there), and the debt says exactly how long
//! to wait: no blind sleeps.

use crate::wire::ThrottleStatus;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct CostBucket {
    capacity: f64,
    available: f64,
    restore: f64,
    at: Instant,
}

/// Until the first answer says otherwise: the oldest published limits (bucket 1000, restore
/// 50/s), which every plan meets or beats.
pub const INITIAL_CAPACITY: f64 = 1000.0;
pub const INITIAL_RESTORE: f64 = 50.0;

impl Default for CostBucket {
    fn default() -> Self {
        Self::new(INITIAL_CAPACITY, INITIAL_RESTORE, Instant::now())
    }
}

impl CostBucket {
    pub fn new(capacity: f64, restore: f64, now: Instant) -> Self {
        Self {
            capacity,
            available: capacity,
            restore: restore.max(0.001),
            at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.available = (self.available + dt * self.restore).min(self.capacity);
        self.at = now;
    }

    /// Reserve `cost` points: how long to wait before sending (zero when they are there).
    /// Concurrent callers queue up behind each other's debt.
    pub fn reserve(&mut self, cost: f64, now: Instant) -> Duration {
        self.refill(now);
        self.available -= cost;
        if self.available >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.available / self.restore)
        }
    }

    /// Take the server's word for the bucket's size and rate, and for its level when that is
    /// lower than ours. Ours may be lower because it already counts requests reserved and not
    /// yet answered; taking the server's higher number would forget them, and every waiting
    /// caller would go at once and be throttled together.
    pub fn observe(&mut self, status: &ThrottleStatus, now: Instant) {
        self.refill(now);
        self.capacity = status.maximum_available.max(1.0);
        self.restore = status.restore_rate.max(0.001);
        self.available = self
            .available
            .min(status.currently_available)
            .min(self.capacity);
    }

    /// How long until the server's bucket, as `status` gave it, holds `cost` points.
    pub fn wait_for(status: &ThrottleStatus, cost: f64) -> Duration {
        let missing = (cost - status.currently_available).max(0.0);
        Duration::from_secs_f64(missing / status.restore_rate.max(0.001))
    }

    pub fn available(&self) -> f64 {
        self.available
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_queue_behind_each_others_debt() {
        let t0 = Instant::now();
        let mut b = CostBucket::new(100.0, 50.0, t0);
        assert_eq!(b.reserve(80.0, t0), Duration::ZERO);
        // 20 left; 40 more puts us 20 in debt: 0.4 s at 50/s.
        assert_eq!(b.reserve(40.0, t0), Duration::from_millis(400));
        // The next one waits for both debts.
        assert_eq!(b.reserve(10.0, t0), Duration::from_millis(600));
        // 30 points in debt; a second restores 50, so 50 more leaves 30 of debt again.
        assert_eq!(
            b.reserve(50.0, t0 + Duration::from_secs(1)),
            Duration::from_millis(600)
        );
    }

    #[test]
    fn the_server_reseeds_it() {
        let t0 = Instant::now();
        let mut b = CostBucket::new(100.0, 50.0, t0);
        b.observe(
            &ThrottleStatus {
                maximum_available: 2000.0,
                currently_available: 10.0,
                restore_rate: 100.0,
            },
            t0,
        );
        assert_eq!(b.reserve(110.0, t0), Duration::from_secs(1));
        // A higher level from the server does not erase our own reservations.
        b.observe(
            &ThrottleStatus {
                maximum_available: 2000.0,
                currently_available: 500.0,
                restore_rate: 100.0,
            },
            t0,
        );
        assert_eq!(b.reserve(0.0, t0), Duration::from_secs(1));
        let s = ThrottleStatus {
            maximum_available: 2000.0,
            currently_available: 66.0,
            restore_rate: 50.0,
        };
        assert_eq!(CostBucket::wait_for(&s, 70.0), Duration::from_millis(80));
        assert_eq!(CostBucket::wait_for(&s, 10.0), Duration::ZERO);
    }
}
