//! Per-key token buckets, in process.
//!
//! Written by hand rather than with `governor`: the response headers need the bucket's exact
//! remaining tokens and the time until it is full again, and governor's GCRA state only
//! answers "allowed, or not before T". A bucket is two numbers behind one short mutex.
//! Limits are per process: with several API processes each enforces its own budget.

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use switchyard_core::ids::ApiKeyId;
use switchyard_store::keys::Tier;

/// One tier's budget: a sustained rate and how many requests may come at once.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierLimit {
    pub per_minute: u32,
    pub burst: u32,
}

/// The three tiers' budgets.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    pub basic: TierLimit,
    pub standard: TierLimit,
    pub premium: TierLimit,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            basic: TierLimit {
                per_minute: 60,
                burst: 10,
            },
            standard: TierLimit {
                per_minute: 300,
                burst: 50,
            },
            premium: TierLimit {
                per_minute: 1000,
                burst: 200,
            },
        }
    }
}

impl RateLimits {
    pub fn for_tier(&self, tier: Tier) -> TierLimit {
        match tier {
            Tier::Basic => self.basic,
            Tier::Standard => self.standard,
            Tier::Premium => self.premium,
        }
    }
}

/// What the limiter decided, with the figures for the response headers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    /// `X-RateLimit-Limit`: the bucket's size (the burst).
    pub limit: u32,
    /// `X-RateLimit-Remaining`: whole requests that may be made right now.
    pub remaining: u32,
    /// `X-RateLimit-Reset`: seconds until the bucket is full again.
    pub reset_secs: u64,
    /// `Retry-After` when refused: seconds until one request is allowed.
    pub retry_after_secs: u64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<ApiKeyId, Bucket>>,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn check(&self, key: ApiKeyId, tier: Tier) -> Decision {
        self.check_at(key, tier, Instant::now())
    }

    /// Take one token from `key`'s bucket at time `now`, if there is one.
    pub fn check_at(&self, key: ApiKeyId, tier: Tier, now: Instant) -> Decision {
        let limit = self.limits.for_tier(tier);
        let capacity = f64::from(limit.burst.max(1));
        let rate = f64::from(limit.per_minute.max(1)) / 60.0; // tokens per second
        let mut buckets = self.buckets.lock().expect("rate limiter mutex poisoned");
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        // `min` also shrinks the bucket at once when a key moves to a smaller tier.
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.last = now;
        let allowed = bucket.tokens >= 1.0;
        if allowed {
            bucket.tokens -= 1.0;
        }
        let tokens = bucket.tokens;
        Decision {
            allowed,
            limit: limit.burst.max(1),
            remaining: tokens.floor() as u32,
            reset_secs: ((capacity - tokens) / rate).ceil() as u64,
            retry_after_secs: if allowed {
                0
            } else {
                ((1.0 - tokens) / rate).ceil().max(1.0) as u64
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_refusal_then_refill() {
        let limiter = RateLimiter::new(RateLimits::default());
        let key = ApiKeyId::new();
        let t0 = Instant::now();
        for i in 0..10 {
            let d = limiter.check_at(key, Tier::Basic, t0);
            assert!(d.allowed, "request {i} of the burst");
            assert_eq!(d.limit, 10);
            assert_eq!(d.remaining, 9 - i);
        }
        let refused = limiter.check_at(key, Tier::Basic, t0);
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        // Basic refills one token a second.
        assert_eq!(refused.retry_after_secs, 1);
        assert_eq!(refused.reset_secs, 10);
        let later = limiter.check_at(key, Tier::Basic, t0 + Duration::from_millis(1000));
        assert!(later.allowed);
        // Another key has its own bucket.
        assert!(limiter.check_at(ApiKeyId::new(), Tier::Basic, t0).allowed);
    }

    #[test]
    fn tiers_have_their_own_budgets() {
        let limiter = RateLimiter::new(RateLimits::default());
        let t0 = Instant::now();
        let premium = limiter.check_at(ApiKeyId::new(), Tier::Premium, t0);
        assert_eq!((premium.limit, premium.remaining), (200, 199));
        let standard = limiter.check_at(ApiKeyId::new(), Tier::Standard, t0);
        assert_eq!((standard.limit, standard.remaining), (50, 49));
        // 300/min = 5 tokens/s, so one spent token is back within a second.
        assert_eq!(standard.reset_secs, 1);
    }
}
