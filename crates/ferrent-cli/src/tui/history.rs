//! The session's recent download and upload rates, for the speed graph.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How far back the graph reaches.
pub const WINDOW: Duration = Duration::from_secs(300);

/// Graph points: (seconds, negative for the past; bytes per second).
pub type Points = Vec<(f64, f64)>;

/// One reading of the session's rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// When it was taken.
    pub at: Instant,
    /// Download rate, bytes per second.
    pub down: u64,
    /// Upload rate, bytes per second.
    pub up: u64,
}

/// Readings of the last [`WINDOW`], oldest first.
#[derive(Debug, Clone, Default)]
pub struct SpeedHistory {
    samples: VecDeque<Sample>,
}

impl SpeedHistory {
    /// Records a reading; readings older than the newest one are ignored, and those that
    /// fell out of the window are dropped.
    pub fn push(&mut self, sample: Sample) {
        if self.samples.back().is_some_and(|last| sample.at < last.at) {
            return;
        }
        self.samples.push_back(sample);
        while self.samples.front().is_some_and(|s| sample.at.duration_since(s.at) > WINDOW) {
            self.samples.pop_front();
        }
    }

    /// The newest reading.
    pub fn latest(&self) -> Option<Sample> {
        self.samples.back().copied()
    }

    /// How much time the readings cover.
    pub fn span(&self) -> Duration {
        match (self.samples.front(), self.samples.back()) {
            (Some(first), Some(last)) => last.at.duration_since(first.at),
            _ => Duration::ZERO,
        }
    }

    /// The highest rate of either direction.
    pub fn peak(&self) -> u64 {
        self.samples.iter().map(|s| s.down.max(s.up)).max().unwrap_or(0)
    }

    /// Download and upload points as (seconds before the newest reading, negative; rate).
    pub fn points(&self) -> (Points, Points) {
        let Some(last) = self.samples.back() else { return (Vec::new(), Vec::new()) };
        let x = |s: &Sample| -(last.at.duration_since(s.at).as_secs_f64());
        let down = self.samples.iter().map(|s| (x(s), s.down as f64)).collect();
        let up = self.samples.iter().map(|s| (x(s), s.up as f64)).collect();
        (down, up)
    }

    /// Number of readings kept.
    pub fn len(&self) -> usize {
        self.samples.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, secs: u64) -> Instant {
        start + Duration::from_secs(secs)
    }

    #[test]
    fn keeps_the_window_and_ignores_old_readings() {
        let start = Instant::now();
        let mut history = SpeedHistory::default();
        for i in 0..=400 {
            history.push(Sample { at: at(start, i), down: i * 10, up: i });
        }
        assert_eq!(history.len(), 301);
        assert_eq!(history.span(), WINDOW);
        assert_eq!(history.peak(), 4000);
        history.push(Sample { at: at(start, 5), down: 1 << 40, up: 0 });
        assert_eq!(history.peak(), 4000, "an out-of-order reading is ignored");
        let (down, up) = history.points();
        assert_eq!(down.first(), Some(&(-300.0, 1000.0)));
        assert_eq!(down.last(), Some(&(0.0, 4000.0)));
        assert_eq!(up.last(), Some(&(0.0, 400.0)));
        assert_eq!(history.latest().map(|s| s.down), Some(4000));
    }

    #[test]
    fn empty_history_has_no_points() {
        let history = SpeedHistory::default();
        assert_eq!(history.points(), (Vec::new(), Vec::new()));
        assert_eq!(history.span(), Duration::ZERO);
        assert_eq!(history.peak(), 0);
        assert!(history.latest().is_none());
    }
}
