//! Announce scheduling for one torrent over its tracker tiers.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::tiers::{TrackerList, TrackerPos};
use crate::{AnnounceEvent, AnnounceResponse, TrackerError};

/// Bounds on announce timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnouncerConfig {
    /// The shortest wait between scheduled announces, whatever the tracker asks (30 s).
    pub min_interval: Duration,
    /// The longest wait between scheduled announces, whatever the tracker asks (1 h).
    pub max_interval: Duration,
    /// The wait after the first round in which every tracker failed (15 s); it doubles after
    /// each further failed round.
    pub backoff_base: Duration,
    /// The longest wait after failed rounds (30 min).
    pub backoff_max: Duration,
}

impl Default for AnnouncerConfig {
    fn default() -> Self {
        Self {
            min_interval: Duration::from_secs(30),
            max_interval: Duration::from_secs(60 * 60),
            backoff_base: Duration::from_secs(15),
            backoff_max: Duration::from_secs(30 * 60),
        }
    }
}

/// Identifies one announce handed out by [`Announcer::poll_announce`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(u64);

/// An announce to perform: send it to `url`, then report with [`Announcer::handle_result`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceJob {
    /// Identifies the job in [`Announcer::handle_result`].
    pub id: JobId,
    /// The tracker.
    pub url: String,
    /// The event to send.
    pub event: AnnounceEvent,
    /// The `tracker id` this tracker gave earlier, to echo back.
    pub tracker_id: Option<Vec<u8>>,
}

/// Whether the `completed` event is still owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Completion {
    NotYet,
    Pending,
    Sent,
}

#[derive(Debug)]
enum Phase {
    /// Regular announces: at most one in flight.
    Running { in_flight: Option<(JobId, AnnounceEvent, String)> },
    /// Sending the last announces: jobs not handed out yet, jobs in flight, and a tracker
    /// whose `stopped` waits for its `completed` to be answered.
    Stopping {
        queue: VecDeque<(String, AnnounceEvent)>,
        in_flight: HashMap<JobId, AnnounceEvent>,
        stop_after_completed: Option<String>,
    },
    /// Done; nothing more to send.
    Stopped,
}

/// When and where one torrent announces (BEP 3 events over BEP 12 tiers), sans IO.
///
/// * The first announce to each tracker carries `started`; the set of trackers that
///   acknowledged it is kept, and [`stop`](Self::stop) sends `stopped` to exactly those.
/// * [`completed`](Self::completed) queues one `completed` announce, sent at once.
/// * After a success the next announce comes after the tracker's `interval`, clamped to
///   [`AnnouncerConfig`]'s bounds and to at least the tracker's `min interval`, and starts again
///   from the first tier. A failure moves on to the next tracker at once; when every tracker
///   has failed, the next round waits with exponential backoff.
#[derive(Debug)]
pub struct Announcer {
    config: AnnouncerConfig,
    list: TrackerList,
    phase: Phase,
    next_id: u64,
    cursor: TrackerPos,
    due: Instant,
    started: Vec<String>,
    tracker_ids: HashMap<String, Vec<u8>>,
    completion: Completion,
    failed_rounds: u32,
    /// The time of the last success plus the tracker's `min interval`.
    earliest_unscheduled: Option<Instant>,
}

impl Announcer {
    /// A scheduler whose first announce is due at `now`.
    pub fn new(list: TrackerList, config: AnnouncerConfig, now: Instant) -> Self {
        Self {
            config,
            list,
            phase: Phase::Running { in_flight: None },
            next_id: 0,
            cursor: TrackerPos::default(),
            due: now,
            started: Vec::new(),
            tracker_ids: HashMap::new(),
            completion: Completion::NotYet,
            failed_rounds: 0,
            earliest_unscheduled: None,
        }
    }

    /// The trackers in their current trying order.
    pub fn tracker_list(&self) -> &TrackerList {
        &self.list
    }

    /// The trackers that acknowledged `started` and have not been sent `stopped` yet.
    pub fn started_trackers(&self) -> &[String] {
        &self.started
    }

    /// Whether [`stop`](Self::stop) was called and every `stopped` announce has been reported.
    pub fn is_stopped(&self) -> bool {
        matches!(self.phase, Phase::Stopped)
    }

    /// The next announce to perform, if one is due at `now`.
    ///
    /// While running, one job at a time is handed out. After [`stop`](Self::stop), every
    /// `stopped` job is handed out at once, so that they can run in parallel.
    pub fn poll_announce(&mut self, now: Instant) -> Option<AnnounceJob> {
        let id = JobId(self.next_id);
        let (url, event) = match &mut self.phase {
            Phase::Running { in_flight: Some(_) } | Phase::Stopped => return None,
            Phase::Running { in_flight } => {
                if now < self.due {
                    return None;
                }
                let url = self.list.get(self.cursor)?.to_owned();
                let event = if !self.started.contains(&url) {
                    AnnounceEvent::Started
                } else if self.completion == Completion::Pending {
                    AnnounceEvent::Completed
                } else {
                    AnnounceEvent::None
                };
                *in_flight = Some((id, event, url.clone()));
                (url, event)
            }
            Phase::Stopping { queue, in_flight, .. } => {
                let (url, event) = queue.pop_front()?;
                in_flight.insert(id, event);
                (url, event)
            }
        };
        self.next_id += 1;
        let tracker_id = self.tracker_ids.get(&url).cloned();
        Some(AnnounceJob { id, url, event, tracker_id })
    }

    /// When [`poll_announce`](Self::poll_announce) will next have a job; `None` while a job is
    /// in flight, while stopping, or when there is no tracker.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Running { in_flight: None } if !self.list.is_empty() => Some(self.due),
            _ => None,
        }
    }

    /// Reports how `job` went. Results for jobs that are no longer awaited are ignored.
    pub fn handle_result(
        &mut self,
        job: &AnnounceJob,
        result: &Result<AnnounceResponse, TrackerError>,
        now: Instant,
    ) {
        match &mut self.phase {
            Phase::Running { in_flight } => {
                if in_flight.as_ref().map(|(id, ..)| *id) != Some(job.id) {
                    return;
                }
                *in_flight = None;
                match result {
                    Ok(response) => self.succeeded(job, response, now),
                    Err(_) => self.failed(now),
                }
            }
            Phase::Stopping { queue, in_flight, stop_after_completed } => {
                match in_flight.remove(&job.id) {
                    Some(AnnounceEvent::Stopped) => self.started.retain(|url| *url != job.url),
                    Some(_) => {
                        if result.is_ok() {
                            self.completion = Completion::Sent;
                        }
                        if let Some(url) = stop_after_completed.take() {
                            queue.push_back((url, AnnounceEvent::Stopped));
                        }
                    }
                    None => return,
                }
                if queue.is_empty() && in_flight.is_empty() {
                    self.phase = Phase::Stopped;
                }
            }
            Phase::Stopped => {}
        }
    }

    fn succeeded(&mut self, job: &AnnounceJob, response: &AnnounceResponse, now: Instant) {
        self.list.promote(&job.url);
        self.cursor = TrackerPos::default();
        self.failed_rounds = 0;
        if let Some(id) = &response.tracker_id {
            self.tracker_ids.insert(job.url.clone(), id.clone());
        }
        match job.event {
            AnnounceEvent::Started if !self.started.contains(&job.url) => {
                // Most torrents have one tracker or a few: grow one at a time.
                self.started.reserve_exact(1);
                self.started.push(job.url.clone());
            }
            AnnounceEvent::Completed => self.completion = Completion::Sent,
            _ => {}
        }
        let config = &self.config;
        let tracker_min = response.min_interval.unwrap_or_default().min(config.max_interval);
        let lower = config.min_interval.max(tracker_min).min(config.max_interval);
        let interval = response.interval.clamp(lower, config.max_interval);
        self.earliest_unscheduled = now.checked_add(tracker_min);
        self.due = if self.completion == Completion::Pending { now } else { later(now, interval) };
    }

    fn failed(&mut self, now: Instant) {
        if let Some(next) = self.list.next(self.cursor) {
            self.cursor = next;
            self.due = now;
            return;
        }
        self.cursor = TrackerPos::default();
        self.failed_rounds = self.failed_rounds.saturating_add(1);
        let doublings = self.failed_rounds.saturating_sub(1).min(20);
        let wait = self.config.backoff_base.saturating_mul(1 << doublings);
        self.due = later(now, wait.min(self.config.backoff_max));
    }

    /// The download has finished: queue one `completed` announce, due at once. Later calls,
    /// and calls after [`stop`](Self::stop), do nothing. Do not call it for a torrent that
    /// was already complete when it started.
    pub fn completed(&mut self, now: Instant) {
        if self.completion != Completion::NotYet {
            return;
        }
        if let Phase::Running { .. } = self.phase {
            self.completion = Completion::Pending;
            self.due = self.due.min(now);
        }
    }

    /// Asks for an announce as soon as the last tracker's `min interval` allows. Does nothing
    /// while an announce is in flight or after [`stop`](Self::stop).
    pub fn reannounce_now(&mut self, now: Instant) {
        if let Phase::Running { in_flight: None } = self.phase {
            let earliest = self.earliest_unscheduled.map_or(now, |t| t.max(now));
            self.due = self.due.min(earliest);
        }
    }

    /// Ends regular announces and queues `stopped` for every tracker that acknowledged
    /// `started`, and for the tracker of a `started` announce still in flight (it may have
    /// registered us). The job in flight is abandoned: its result will be ignored.
    ///
    /// A `completed` still owed goes first, to the tracker it was meant for (or the current
    /// one, or else the first that acknowledged `started`), and that tracker's `stopped` waits for its answer:
    /// trackers count finished downloads by that event, and a torrent that stops as soon as
    /// it completes would otherwise never report it.
    pub fn stop(&mut self) {
        let Phase::Running { in_flight } = &mut self.phase else { return };
        let in_flight = in_flight.take();
        let mut stopping: Vec<String> = self.started.clone();
        let mut completed_to = None;
        match in_flight {
            Some((_, AnnounceEvent::Started, url)) if !stopping.contains(&url) => {
                stopping.push(url);
            }
            Some((_, AnnounceEvent::Completed, url)) => completed_to = Some(url),
            _ => {}
        }
        if self.completion == Completion::Pending {
            let current =
                self.list.get(self.cursor).filter(|url| self.started.iter().any(|u| u == url));
            completed_to = completed_to
                .or_else(|| current.map(str::to_owned))
                .or_else(|| self.started.first().cloned());
        } else {
            completed_to = None;
        }
        let mut queue = VecDeque::new();
        let mut stop_after_completed = None;
        if let Some(url) = completed_to {
            stopping.retain(|u| *u != url);
            queue.push_back((url.clone(), AnnounceEvent::Completed));
            stop_after_completed = Some(url);
        }
        queue.extend(stopping.into_iter().map(|url| (url, AnnounceEvent::Stopped)));
        self.phase = if queue.is_empty() {
            Phase::Stopped
        } else {
            Phase::Stopping { queue, in_flight: HashMap::new(), stop_after_completed }
        };
    }
}

#[cfg(test)]
#[path = "announcer_tests.rs"]
mod tests;

/// `now + wait`, saturating at `now` if the clock cannot represent the sum.
fn later(now: Instant, wait: Duration) -> Instant {
    now.checked_add(wait).unwrap_or(now)
}
