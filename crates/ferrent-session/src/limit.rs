//! Upload and download caps, global and per torrent, applied where bytes cross sockets.

use ferrent_proto::TokenBucket;
use parking_lot::Mutex;
use std::time::Instant;

/// Which way bytes flow.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Direction {
    Up,
    Down,
}

/// A pair of token buckets (upload, download).
#[derive(Debug)]
pub(crate) struct Limits {
    up: Mutex<TokenBucket>,
    down: Mutex<TokenBucket>,
}

impl Limits {
    /// Caps in bytes per second; 0 is unlimited.
    pub(crate) fn new(up: u64, down: u64) -> Self {
        Self { up: Mutex::new(TokenBucket::new(up)), down: Mutex::new(TokenBucket::new(down)) }
    }

    /// Changes both caps.
    pub(crate) fn set(&self, up: u64, down: u64) {
        self.up.lock().set_rate(up);
        self.down.lock().set_rate(down);
    }

    fn bucket(&self, direction: Direction) -> &Mutex<TokenBucket> {
        match direction {
            Direction::Up => &self.up,
            Direction::Down => &self.down,
        }
    }
}

/// Charges `bytes` to every level of limits and waits as long as the strictest requires.
pub(crate) async fn throttle(levels: [&Limits; 2], direction: Direction, bytes: u64) {
    let now = Instant::now();
    let wait = levels.iter().map(|l| l.bucket(direction).lock().take(bytes, now)).max();
    if let Some(wait) = wait.filter(|w| !w.is_zero()) {
        tokio::time::sleep(wait).await;
    }
}
