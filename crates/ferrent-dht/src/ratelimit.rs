//! Token buckets limiting how many queries this node answers, per source and in total, so
//! it cannot be used to amplify traffic toward a spoofed address.
//!
//! Per-source buckets live in a fixed-size table indexed by a keyed hash of the source, so
//! memory stays constant however many addresses a flood uses; sources that collide share a
//! bucket, which only ever makes the limit stricter. Loopback sources are keyed by address
//! and port (local test nodes share one IP); all others by IP.

use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::time::Instant;

use crate::addr::canonical_ip;

/// Rate limits for answering queries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimitConfig {
    /// Queries per second answered for one source.
    pub per_source_rate: f64,
    /// Burst allowed for one source.
    pub per_source_burst: f64,
    /// Queries per second answered in total.
    pub global_rate: f64,
    /// Burst allowed in total.
    pub global_burst: f64,
    /// Number of per-source buckets (memory is fixed at this many).
    pub slots: usize,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_source_rate: 5.0,
            per_source_burst: 20.0,
            global_rate: 250.0,
            global_burst: 500.0,
            slots: 4096,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Option<Instant>,
}

impl Bucket {
    fn full(burst: f64) -> Self {
        Self { tokens: burst, updated: None }
    }

    fn refill(&mut self, rate: f64, burst: f64, now: Instant) {
        if let Some(then) = self.updated {
            let elapsed = now.saturating_duration_since(then).as_secs_f64();
            self.tokens = (self.tokens + elapsed * rate).min(burst);
        }
        self.updated = Some(now);
    }
}

/// Per-source and global token buckets.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    config: RateLimitConfig,
    key: u64,
    global: Bucket,
    slots: Vec<Bucket>,
}

impl RateLimiter {
    /// Full buckets; `key` salts the source hash so collisions cannot be planned.
    pub fn new(config: RateLimitConfig, key: u64) -> Self {
        Self {
            config,
            key,
            global: Bucket::full(config.global_burst),
            slots: vec![Bucket::full(config.per_source_burst); config.slots.max(1)],
        }
    }

    /// Takes one token for a query from `source`; false when it must go unanswered.
    pub fn allow(&mut self, source: SocketAddr, now: Instant) -> bool {
        let c = self.config;
        let slot = self.slot(source);
        let Some(bucket) = self.slots.get_mut(slot) else { return false };
        bucket.refill(c.per_source_rate, c.per_source_burst, now);
        self.global.refill(c.global_rate, c.global_burst, now);
        if bucket.tokens < 1.0 || self.global.tokens < 1.0 {
            return false;
        }
        bucket.tokens -= 1.0;
        self.global.tokens -= 1.0;
        true
    }

    fn slot(&self, source: SocketAddr) -> usize {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.key.hash(&mut hasher);
        let ip = canonical_ip(source.ip());
        ip.hash(&mut hasher);
        if ip.is_loopback() {
            source.port().hash(&mut hasher);
        }
        (hasher.finish() % self.slots.len() as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn per_source_limit_then_refill() {
        let now = Instant::now();
        let config =
            RateLimitConfig { per_source_rate: 2.0, per_source_burst: 4.0, ..Default::default() };
        let mut limiter = RateLimiter::new(config, 1);
        let a = addr("1.2.3.4:1");
        assert_eq!((0..10).filter(|_| limiter.allow(a, now)).count(), 4);
        assert!(limiter.allow(addr("5.6.7.8:1"), now), "other sources unaffected");
        assert!(!limiter.allow(addr("1.2.3.4:2"), now), "keyed by IP, not port");
        let later = now + Duration::from_secs(1);
        assert_eq!((0..10).filter(|_| limiter.allow(a, later)).count(), 2);
    }

    #[test]
    fn loopback_sources_are_keyed_by_port() {
        let now = Instant::now();
        let config = RateLimitConfig { per_source_burst: 1.0, ..Default::default() };
        let mut limiter = RateLimiter::new(config, 1);
        assert!(limiter.allow(addr("127.0.0.1:1000"), now));
        assert!(!limiter.allow(addr("127.0.0.1:1000"), now));
        assert!(limiter.allow(addr("127.0.0.1:1001"), now));
    }

    #[test]
    fn global_limit_caps_a_spoofed_flood() {
        let now = Instant::now();
        let config =
            RateLimitConfig { global_rate: 10.0, global_burst: 50.0, ..Default::default() };
        let mut limiter = RateLimiter::new(config, 7);
        let answered = (0..10_000u32)
            .filter(|n| limiter.allow(SocketAddr::from((std::net::Ipv4Addr::from(*n), 1)), now))
            .count();
        assert_eq!(answered, 50);
    }
}
