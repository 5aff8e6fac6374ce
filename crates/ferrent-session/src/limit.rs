//! Upload and download caps, global and per torrent, applied where bytes cross sockets.

use ferrent_proto::TokenBucket;
use parking_lot::Mutex;
use std::time::{Duration, Instant};

/// Which way bytes flow.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Direction {
    Up,
    Down,
}

/// Upload and download caps, as token buckets made only once a cap is set (most torrents
/// have none, and thousands of them should not carry empty buckets).
#[derive(Debug, Default)]
pub(crate) struct Limits {
    /// Upload, then download.
    buckets: Mutex<Option<Box<[TokenBucket; 2]>>>,
}

impl Limits {
    /// Caps in bytes per second; 0 is unlimited.
    pub(crate) fn new(up: u64, down: u64) -> Self {
        let limits = Self::default();
        limits.set(up, down);
        limits
    }

    /// Changes both caps.
    pub(crate) fn set(&self, up: u64, down: u64) {
        let mut buckets = self.buckets.lock();
        match buckets.as_deref_mut() {
            Some([up_bucket, down_bucket]) => {
                up_bucket.set_rate(up);
                down_bucket.set_rate(down);
            }
            None if up == 0 && down == 0 => {}
            None => *buckets = Some(Box::new([TokenBucket::new(up), TokenBucket::new(down)])),
        }
    }

    /// Charges `bytes`; how long to wait for them (none without caps).
    fn take(&self, direction: Direction, bytes: u64, now: Instant) -> Option<Duration> {
        let mut buckets = self.buckets.lock();
        let [up, down] = buckets.as_deref_mut()?;
        Some(match direction {
            Direction::Up => up.take(bytes, now),
            Direction::Down => down.take(bytes, now),
        })
    }
}

/// Charges `bytes` to every level of limits and waits as long as the strictest requires.
pub(crate) async fn throttle(levels: [&Limits; 2], direction: Direction, bytes: u64) {
    let now = Instant::now();
    let wait = levels.iter().filter_map(|l| l.take(direction, bytes, now)).max();
    if let Some(wait) = wait.filter(|w| !w.is_zero()) {
        tokio::time::sleep(wait).await;
    }
}
