//! Per-key token buckets, in process, and per-address buckets for requests that bring no
//! valid key (so a client guessing keys, or a broken one without, is slowed down per address
//! and its requests stop reaching the key lookup).
//!
//! Written by hand rather than with `governor`: the response headers need the bucket's exact
//! remaining tokens and the time until it is full again, and governor's GCRA state only
//! answers "allowed, or not before T". A bucket is two numbers behind one short mutex.
//! Limits are per process: with several API processes each enforces its own budget.

use serde::Deserialize;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use switchyard_core::ids::ApiKeyId;
use switchyard_store::keys::Tier;

/// One tier's budget: a sustained rate and how many requests may come at once.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierLimit {
    pub per_minute: u32,
    pub burst: u32,
}

/// The three tiers' budgets, and the budget of one client address for requests without a
/// valid key.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    pub basic: TierLimit,
    pub standard: TierLimit,
    pub premium: TierLimit,
    pub unauthenticated: TierLimit,
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
            // Enough for a person fixing a client's key by hand; a loop that retries a
            // refused key is held to one request a second.
            unauthenticated: TierLimit {
                per_minute: 60,
                burst: 20,
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
    /// The size and refill rate (tokens per second) of the last check, for pruning.
    capacity: f64,
    rate: f64,
}

impl Bucket {
    /// Refill to `now` at `rate`, up to `capacity` (`min` also shrinks the bucket at once when
    /// a key moves to a smaller tier).
    fn refill(&mut self, now: Instant, capacity: f64, rate: f64) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(capacity);
        self.last = now;
        self.capacity = capacity;
        self.rate = rate;
    }
}

/// Above this many buckets, full ones are dropped: a full bucket is the same as no bucket, and
/// addresses are many (IPv6), so the map must not grow with every client ever seen.
const PRUNE_ABOVE: usize = 10_000;

/// Token buckets by key `K`, each sized by the limit passed with the request.
#[derive(Debug)]
struct Buckets<K> {
    inner: Mutex<BucketMap<K>>,
}

#[derive(Debug)]
struct BucketMap<K> {
    buckets: HashMap<K, Bucket>,
    /// When full buckets were last dropped: at most once a second, so that a flood from many
    /// addresses does not make every request walk the map.
    pruned: Instant,
}

impl<K: Eq + Hash> Buckets<K> {
    fn new() -> Self {
        Self {
            inner: Mutex::new(BucketMap {
                buckets: HashMap::new(),
                pruned: Instant::now(),
            }),
        }
    }

    /// Refill `key`'s bucket to `now`; take one token if `spend` and there is one.
    fn check(&self, key: K, limit: TierLimit, now: Instant, spend: bool) -> Decision {
        let capacity = f64::from(limit.burst.max(1));
        let rate = f64::from(limit.per_minute.max(1)) / 60.0; // tokens per second
        let mut inner = self.inner.lock().expect("rate limiter mutex poisoned");
        let BucketMap { buckets, pruned } = &mut *inner;
        if buckets.len() > PRUNE_ABOVE
            && now.saturating_duration_since(*pruned) >= Duration::from_secs(1)
        {
            *pruned = now;
            buckets.retain(|_, b| {
                b.refill(now, b.capacity, b.rate);
                b.tokens < b.capacity
            });
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            last: now,
            capacity,
            rate,
        });
        bucket.refill(now, capacity, rate);
        let allowed = bucket.tokens >= 1.0;
        if allowed && spend {
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

#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    keys: Buckets<ApiKeyId>,
    addresses: Buckets<IpAddr>,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            keys: Buckets::new(),
            addresses: Buckets::new(),
        }
    }

    pub fn check(&self, key: ApiKeyId, tier: Tier) -> Decision {
        self.check_at(key, tier, Instant::now())
    }

    /// Take one token from `key`'s bucket at time `now`, if there is one.
    pub fn check_at(&self, key: ApiKeyId, tier: Tier, now: Instant) -> Decision {
        self.keys.check(key, self.limits.for_tier(tier), now, true)
    }

    /// Spend one of `address`'s tokens on a request that brought no valid key (only such
    /// requests spend: a valid key has its own budget).
    pub fn spend_unauthenticated(&self, address: IpAddr) -> Decision {
        self.unauthenticated_at(address, Instant::now(), true)
    }

    fn unauthenticated_at(&self, address: IpAddr, now: Instant, spend: bool) -> Decision {
        self.addresses
            .check(address, self.limits.unauthenticated, now, spend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn addresses_without_a_key_have_their_own_budget_spent_only_on_refusals() {
        let limiter = RateLimiter::new(RateLimits::default());
        let address: IpAddr = "192.0.2.7".parse().unwrap();
        let t0 = Instant::now();
        // Looking does not spend.
        for _ in 0..50 {
            assert!(limiter.unauthenticated_at(address, t0, false).allowed);
        }
        for i in 0..20 {
            let d = limiter.unauthenticated_at(address, t0, true);
            assert!(d.allowed, "refusal {i} of the burst");
        }
        let refused = limiter.unauthenticated_at(address, t0, false);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_secs, 1);
        // Another address is not held back, and neither is a key.
        let other: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(limiter.unauthenticated_at(other, t0, false).allowed);
        assert!(limiter.check_at(ApiKeyId::new(), Tier::Basic, t0).allowed);
        // One a second comes back.
        let later = t0 + Duration::from_secs(1);
        assert!(limiter.unauthenticated_at(address, later, false).allowed);
    }

    #[test]
    fn full_buckets_are_pruned_when_many() {
        let buckets = Buckets::<u32>::new();
        let limit = TierLimit {
            per_minute: 60,
            burst: 5,
        };
        let t0 = Instant::now();
        for n in 0..=PRUNE_ABOVE as u32 {
            buckets.check(n, limit, t0, true);
        }
        // Ten seconds on, every one of them is full again: the next check drops them all.
        buckets.check(u32::MAX, limit, t0 + Duration::from_secs(10), true);
        assert_eq!(buckets.inner.lock().unwrap().buckets.len(), 1);
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
