//! A token bucket for upload and download caps.

use std::time::{Duration, Instant};

/// A byte-rate cap. Taking more than is available puts the bucket in debt; the caller waits
/// the returned time, which keeps the long-run rate at the cap. A rate of 0 is unlimited.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: u64,
    tokens: f64,
    last: Option<Instant>,
}

impl TokenBucket {
    /// A bucket refilled at `rate` bytes per second (0 = unlimited).
    pub fn new(rate: u64) -> Self {
        Self { rate, tokens: 0.0, last: None }
    }

    /// The cap in bytes per second (0 = unlimited).
    pub fn rate(&self) -> u64 {
        self.rate
    }

    /// Changes the cap.
    pub fn set_rate(&mut self, rate: u64) {
        self.rate = rate;
        self.tokens = self.tokens.min(self.burst());
    }

    /// At most this many bytes accumulate while idle: a quarter second's worth, so a pause
    /// is not followed by a burst far over the cap.
    fn burst(&self) -> f64 {
        (self.rate as f64 / 4.0).max(16_384.0)
    }

    /// Takes `bytes` at `now`; returns how long the caller must wait before using them.
    pub fn take(&mut self, bytes: u64, now: Instant) -> Duration {
        if self.rate == 0 {
            return Duration::ZERO;
        }
        let rate = self.rate as f64;
        if let Some(last) = self.last {
            let refill = now.saturating_duration_since(last).as_secs_f64() * rate;
            self.tokens = (self.tokens + refill).min(self.burst());
        }
        self.last = Some(now);
        self.tokens -= bytes as f64;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_never_waits() {
        let mut bucket = TokenBucket::new(0);
        assert_eq!(bucket.take(u64::MAX, Instant::now()), Duration::ZERO);
    }

    #[test]
    fn long_run_rate_matches_the_cap() {
        // Simulate a sender that always waits as told: 100 KiB/s for 20 s.
        let mut bucket = TokenBucket::new(100 * 1024);
        let start = Instant::now();
        let mut now = start;
        let mut sent = 0u64;
        while now.duration_since(start) < Duration::from_secs(20) {
            now += bucket.take(16_384, now);
            sent += 16_384;
        }
        let rate = sent as f64 / now.duration_since(start).as_secs_f64();
        assert!((rate - 102_400.0).abs() / 102_400.0 < 0.05, "rate {rate}");
    }

    #[test]
    fn idle_time_buys_only_a_small_burst() {
        let mut bucket = TokenBucket::new(1_000_000);
        let t = Instant::now();
        bucket.take(0, t);
        let later = t + Duration::from_secs(60);
        assert_eq!(bucket.take(250_000, later), Duration::ZERO);
        assert!(bucket.take(250_000, later) >= Duration::from_millis(200));
    }
}
