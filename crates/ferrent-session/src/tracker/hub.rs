//! The tracker hub: one task drives the [`Announcer`] of every torrent of a session.
//!
//! A torrent costs the hub its announcer state and an entry in a timer queue; only an
//! announce under way has a task of its own, for as long as it runs. Thousands of seeding
//! torrents that each announce every half hour so hold no task, channel or future between
//! announces.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrent_tracker::{
    AnnounceEvent, AnnounceJob, AnnounceRequest, AnnounceResponse, Announcer, AnnouncerConfig,
    TrackerError, TrackerList, UdpConfig,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{AbortHandle, JoinSet};

use super::transport::{announce, resolve_peer_hosts};
use super::{AnnounceConfig, TrackerEvent, TransferStats};

/// Most host-name peers resolved from one answer.
const MAX_PEER_HOSTS: usize = 16;
/// How long resolving them may take in all.
const PEER_HOSTS_TIMEOUT: Duration = Duration::from_secs(5);
/// UDP retransmissions before a tracker counts as failed. BEP 15 allows up to 8 (about two
/// hours with the 15 s base), but announces go through the tiers one tracker at a time, so a
/// silent tracker would hold back every tracker after it; with 2 it fails after 7 base
/// periods (105 s at 15 s).
const UDP_MAX_RETRANSMITS: u32 = 2;
/// Announces under way at once, at most; torrents due beyond that wait their turn, so that a
/// daemon starting with thousands of torrents does not open thousands of connections at once.
const MAX_ANNOUNCES: usize = 64;

/// Where a torrent's tracker reports go.
pub(super) type EventSink = Box<dyn Fn(TrackerEvent) + Send + Sync>;
/// Where a torrent's announce numbers come from.
pub(super) type StatsSource = Arc<dyn Fn() -> TransferStats + Send + Sync>;

/// Orders for the hub, each about one registered torrent.
pub(super) enum Command {
    Add {
        id: u64,
        cfg: AnnounceConfig,
        stats: StatsSource,
        events: EventSink,
    },
    Completed(u64),
    Reannounce(u64),
    /// Let the announce under way finish within half of `timeout`, then send `stopped`
    /// within the rest; `done` is told when all is over.
    Stop {
        id: u64,
        timeout: Duration,
        done: oneshot::Sender<()>,
    },
    /// Forget the torrent without telling its trackers.
    Remove(u64),
}

/// What an announce needs besides the job; shared with the task running it.
struct Context {
    info_hash: ferrent_core::InfoHashV1,
    peer_id: [u8; 20],
    port: u16,
    numwant: u32,
    key: u32,
    udp: UdpConfig,
    stats: StatsSource,
    events: EventSink,
}

impl Context {
    fn request(&self, job: &AnnounceJob) -> AnnounceRequest {
        let stats = (self.stats)();
        let numwant = if job.event == AnnounceEvent::Stopped { 0 } else { self.numwant };
        AnnounceRequest {
            info_hash: self.info_hash,
            peer_id: self.peer_id,
            port: self.port,
            uploaded: stats.uploaded,
            downloaded: stats.downloaded,
            left: stats.left,
            event: job.event,
            numwant: Some(numwant),
            key: self.key,
            tracker_id: job.tracker_id.clone(),
        }
    }

    fn emit(&self, event: TrackerEvent) {
        (self.events)(event);
    }

    /// Runs one announce and reports what the tracker said.
    async fn announce(
        &self,
        http: &reqwest::Client,
        job: &AnnounceJob,
    ) -> Result<AnnounceResponse, TrackerError> {
        let result = announce(http, &job.url, &self.request(job), self.udp).await;
        self.report(job, &result).await;
        result
    }

    async fn report(&self, job: &AnnounceJob, result: &Result<AnnounceResponse, TrackerError>) {
        let url = job.url.clone();
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                tracing::debug!(%url, event = ?job.event, %error, "announce failed");
                self.emit(TrackerEvent::Error { url, message: error.to_string() });
                return;
            }
        };
        tracing::debug!(%url, event = ?job.event, peers = response.peers.len(), "announced");
        let mut peers = response.peers.clone();
        if !response.peer_hosts.is_empty() {
            peers.extend(
                resolve_peer_hosts(&response.peer_hosts, MAX_PEER_HOSTS, PEER_HOSTS_TIMEOUT).await,
            );
        }
        let mut seen = HashSet::new();
        peers.retain(|peer| seen.insert(*peer));
        if !peers.is_empty() {
            self.emit(TrackerEvent::Peers(peers));
        }
        if let Some(message) = &response.warning {
            self.emit(TrackerEvent::Warning { url: url.clone(), message: message.clone() });
        }
        self.emit(TrackerEvent::Announced {
            url,
            interval: response.interval,
            seeders: response.seeders,
            leechers: response.leechers,
        });
    }
}

/// A stop waiting for the announce under way.
struct PendingStop {
    asked: Instant,
    timeout: Duration,
    done: oneshot::Sender<()>,
}

/// One registered torrent.
struct Tracked {
    announcer: Announcer,
    ctx: Arc<Context>,
    /// The announce under way.
    in_flight: Option<AbortHandle>,
    /// When the timer queue next looks at this torrent.
    timer: Option<Instant>,
    /// Due, and in the queue for an announce slot.
    waiting: bool,
    stop: Option<PendingStop>,
}

/// An announce's outcome, as its task returns it.
type Finished = (u64, AnnounceJob, Result<AnnounceResponse, TrackerError>);

/// The hub's state, owned by its task.
struct Hub {
    http: reqwest::Client,
    rng: StdRng,
    /// Boxed: the table's slots stay small however large an announcer's state grows.
    torrents: HashMap<u64, Box<Tracked>>,
    /// When to look at which torrent (entries that no longer match `Tracked::timer` are
    /// skipped).
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    announces: JoinSet<Finished>,
    /// The torrent each announce task works for.
    tasks: HashMap<tokio::task::Id, u64>,
    /// Torrents due for an announce while every slot was taken, in turn.
    waiting: VecDeque<u64>,
}

/// The hub's task: runs until every sender of `commands` is gone.
pub(super) async fn run(http: reqwest::Client, mut commands: mpsc::UnboundedReceiver<Command>) {
    let mut hub = Hub {
        http,
        rng: StdRng::from_entropy(),
        torrents: HashMap::new(),
        timers: BinaryHeap::new(),
        announces: JoinSet::new(),
        tasks: HashMap::new(),
        waiting: VecDeque::new(),
    };
    loop {
        let next = hub.timers.peek().map(|Reverse((at, _))| *at);
        tokio::select! {
            command = commands.recv() => match command {
                Some(command) => hub.apply(command),
                None => return,
            },
            Some(joined) = hub.announces.join_next_with_id() => hub.finished(joined),
            () = sleep_until(next), if next.is_some() => hub.timers_due(Instant::now()),
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at.into()).await;
    }
}

impl Hub {
    fn apply(&mut self, command: Command) {
        let now = Instant::now();
        match command {
            Command::Add { id, cfg, stats, events } => {
                self.add(id, cfg, stats, events, now);
                self.drive(id, now);
            }
            Command::Completed(id) => {
                if let Some(t) = self.torrents.get_mut(&id) {
                    t.announcer.completed(now);
                    self.drive(id, now);
                }
            }
            Command::Reannounce(id) => {
                if let Some(t) = self.torrents.get_mut(&id) {
                    t.announcer.reannounce_now(now);
                    self.drive(id, now);
                }
            }
            Command::Stop { id, timeout, done } => self.stop(id, timeout, done, now),
            Command::Remove(id) => {
                if let Some(t) = self.torrents.remove(&id) {
                    t.in_flight.inspect(AbortHandle::abort);
                }
            }
        }
    }

    fn add(
        &mut self,
        id: u64,
        cfg: AnnounceConfig,
        stats: StatsSource,
        events: EventSink,
        now: Instant,
    ) {
        let udp = UdpConfig {
            retransmit_base: cfg.udp_retransmit_base,
            max_retransmits: UDP_MAX_RETRANSMITS,
            ..UdpConfig::default()
        };
        let ctx = Context {
            info_hash: cfg.info_hash,
            peer_id: cfg.peer_id,
            port: cfg.port,
            numwant: cfg.numwant,
            key: self.rng.gen(),
            udp,
            stats,
            events,
        };
        let list = TrackerList::new(cfg.tiers, &mut self.rng);
        let tracked = Tracked {
            announcer: Announcer::new(list, AnnouncerConfig::default(), now),
            ctx: Arc::new(ctx),
            in_flight: None,
            timer: None,
            waiting: false,
            stop: None,
        };
        self.torrents.insert(id, Box::new(tracked));
    }

    /// Starts the torrent's announce if one is due, else sets its timer for the next.
    fn drive(&mut self, id: u64, now: Instant) {
        let Some(t) = self.torrents.get_mut(&id) else { return };
        if t.in_flight.is_some() || t.stop.is_some() || t.waiting {
            return;
        }
        let due = t.announcer.poll_timeout().is_some_and(|at| at <= now);
        if due && self.announces.len() >= MAX_ANNOUNCES {
            t.waiting = true;
            t.timer = None;
            self.waiting.push_back(id);
            return;
        }
        if let Some(job) = t.announcer.poll_announce(now) {
            let (ctx, http) = (t.ctx.clone(), self.http.clone());
            let task = self.announces.spawn(async move {
                let result = ctx.announce(&http, &job).await;
                (id, job, result)
            });
            self.tasks.insert(task.id(), id);
            t.in_flight = Some(task);
            t.timer = None;
        } else if let Some(at) = t.announcer.poll_timeout() {
            if t.timer != Some(at) {
                t.timer = Some(at);
                self.timers.push(Reverse((at, id)));
            }
        }
    }

    /// Looks at every torrent whose timer is due: an announce to start, or a stop that
    /// waited long enough for the announce under way.
    fn timers_due(&mut self, now: Instant) {
        while let Some(&Reverse((at, id))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(t) = self.torrents.get_mut(&id) else { continue };
            if t.timer != Some(at) {
                continue;
            }
            t.timer = None;
            match t.stop.take() {
                Some(stop) => {
                    t.in_flight.take().inspect(AbortHandle::abort);
                    let left = stop.timeout.saturating_sub(stop.asked.elapsed());
                    self.finish_stop(id, left, stop.done);
                }
                None => self.drive(id, now),
            }
        }
    }

    /// An announce task ended (finished, or aborted with its torrent).
    fn finished(&mut self, joined: Result<(tokio::task::Id, Finished), tokio::task::JoinError>) {
        let task = match &joined {
            Ok((task, _)) => *task,
            Err(error) => error.id(),
        };
        let Some(id) = self.tasks.remove(&task) else { return };
        self.next_waiting();
        let Some(t) = self.torrents.get_mut(&id) else { return };
        if t.in_flight.as_ref().is_none_or(|h| h.id() != task) {
            return;
        }
        t.in_flight = None;
        let now = Instant::now();
        if let Ok((_, (_, job, result))) = &joined {
            t.announcer.handle_result(job, result, now);
        }
        match t.stop.take() {
            Some(stop) => {
                let left = stop.timeout.saturating_sub(stop.asked.elapsed());
                self.finish_stop(id, left, stop.done);
            }
            None => self.drive(id, now),
        }
    }

    /// Gives a free announce slot to the torrent that waited longest for one.
    fn next_waiting(&mut self) {
        let now = Instant::now();
        while self.announces.len() < MAX_ANNOUNCES {
            let Some(id) = self.waiting.pop_front() else { return };
            let Some(t) = self.torrents.get_mut(&id) else { continue };
            t.waiting = false;
            self.drive(id, now);
        }
    }

    fn stop(&mut self, id: u64, timeout: Duration, done: oneshot::Sender<()>, now: Instant) {
        let Some(t) = self.torrents.get_mut(&id) else {
            let _ = done.send(());
            return;
        };
        if t.in_flight.is_none() {
            return self.finish_stop(id, timeout, done);
        }
        // The announce under way may finish in half the stop's time rather than be cut
        // off: a `started` the tracker acknowledges can then get the `completed` still
        // owed, and a `completed` is not sent twice.
        let deadline = now + timeout / 2;
        t.stop = Some(PendingStop { asked: now, timeout, done });
        t.timer = Some(deadline);
        self.timers.push(Reverse((deadline, id)));
    }

    /// Takes the torrent out of the hub and sends its last announces on a task of their own.
    fn finish_stop(&mut self, id: u64, timeout: Duration, done: oneshot::Sender<()>) {
        let Some(t) = self.torrents.remove(&id) else {
            let _ = done.send(());
            return;
        };
        let http = self.http.clone();
        tokio::spawn(async move {
            send_stopped(&t.ctx, &http, t.announcer, timeout).await;
            let _ = done.send(());
        });
    }
}

/// Sends the last announces (an owed `completed`, then `stopped` to every tracker that knows
/// us) in parallel, for at most `timeout`.
async fn send_stopped(
    ctx: &Arc<Context>,
    http: &reqwest::Client,
    mut announcer: Announcer,
    timeout: Duration,
) {
    announcer.stop();
    let mut jobs = JoinSet::new();
    let _ = tokio::time::timeout(timeout, async {
        loop {
            // A finished `completed` releases its tracker's `stopped`: poll after every result.
            while let Some(job) = announcer.poll_announce(Instant::now()) {
                let request = ctx.request(&job);
                let (http, udp) = (http.clone(), ctx.udp);
                jobs.spawn(async move {
                    let result = announce(&http, &job.url, &request, udp).await;
                    (job, result)
                });
            }
            let Some(joined) = jobs.join_next().await else { break };
            let Ok((job, result)) = joined else { continue };
            if let Err(error) = &result {
                ctx.emit(TrackerEvent::Error { url: job.url.clone(), message: error.to_string() });
            }
            announcer.handle_result(&job, &result, Instant::now());
        }
    })
    .await;
    // Dropping the set aborts the announces still running.
}
