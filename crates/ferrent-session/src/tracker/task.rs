//! The announcer task: one loop per torrent around [`Announcer`].

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrent_tracker::{
    AnnounceEvent, AnnounceJob, AnnounceRequest, AnnounceResponse, Announcer, AnnouncerConfig,
    TrackerError, TrackerList, UdpConfig,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::transport::{announce, resolve_peer_hosts};
use super::{AnnounceConfig, Command, TrackerEvent, TransferStats};

/// Most host-name peers resolved from one answer.
const MAX_PEER_HOSTS: usize = 16;
/// How long resolving them may take in all.
const PEER_HOSTS_TIMEOUT: Duration = Duration::from_secs(5);
/// UDP retransmissions before a tracker counts as failed. BEP 15 allows up to 8 (about two
/// hours with the 15 s base), but announces go through the tiers one tracker at a time, so a
/// silent tracker would hold back every tracker after it; with 2 it fails after 7 base
/// periods (105 s at 15 s).
const UDP_MAX_RETRANSMITS: u32 = 2;

/// Where the announcer's reports go.
pub(super) type EventSink = Box<dyn Fn(TrackerEvent) + Send + Sync>;

/// Everything an announce needs besides the job.
struct Context {
    cfg: AnnounceConfig,
    http: reqwest::Client,
    stats: Arc<dyn Fn() -> TransferStats + Send + Sync>,
    events: EventSink,
    udp: UdpConfig,
    key: u32,
}

impl Context {
    fn request(&self, job: &AnnounceJob) -> AnnounceRequest {
        let stats = (self.stats)();
        let numwant = if job.event == AnnounceEvent::Stopped { 0 } else { self.cfg.numwant };
        AnnounceRequest {
            info_hash: self.cfg.info_hash,
            peer_id: self.cfg.peer_id,
            port: self.cfg.port,
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

/// What to do after a command.
enum Flow {
    Continue,
    Stop(Duration),
    Exit,
}

fn apply(announcer: &mut Announcer, command: Option<Command>) -> Flow {
    let now = Instant::now();
    match command {
        Some(Command::Completed) => announcer.completed(now),
        Some(Command::Reannounce) => announcer.reannounce_now(now),
        Some(Command::Stop { timeout }) => return Flow::Stop(timeout),
        None => return Flow::Exit,
    }
    Flow::Continue
}

pub(super) async fn run(
    cfg: AnnounceConfig,
    http: reqwest::Client,
    stats: Arc<dyn Fn() -> TransferStats + Send + Sync>,
    events: EventSink,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut rng = StdRng::from_entropy();
    let list = TrackerList::new(cfg.tiers.clone(), &mut rng);
    let udp = UdpConfig {
        retransmit_base: cfg.udp_retransmit_base,
        max_retransmits: UDP_MAX_RETRANSMITS,
        ..UdpConfig::default()
    };
    let ctx = Context { cfg, http, stats, events, udp, key: rng.gen() };
    let mut announcer = Announcer::new(list, AnnouncerConfig::default(), Instant::now());

    let stop_timeout = loop {
        let flow = match announcer.poll_announce(Instant::now()) {
            Some(job) => {
                let request = ctx.request(&job);
                let work = announce(&ctx.http, &job.url, &request, ctx.udp);
                tokio::pin!(work);
                // Listen to commands while the announce runs; the loop ends with the announce.
                loop {
                    tokio::select! {
                        result = &mut work => {
                            ctx.report(&job, &result).await;
                            announcer.handle_result(&job, &result, Instant::now());
                            break Flow::Continue;
                        }
                        command = commands.recv() => match apply(&mut announcer, command) {
                            Flow::Continue => {}
                            // The announce under way may finish in half the stop's time
                            // rather than be cut off: a `started` the tracker acknowledges
                            // can then get the `completed` still owed, and a `completed` is
                            // not sent twice.
                            Flow::Stop(timeout) => {
                                let started = Instant::now();
                                let finish = tokio::time::timeout(timeout / 2, &mut work).await;
                                if let Ok(result) = finish {
                                    ctx.report(&job, &result).await;
                                    announcer.handle_result(&job, &result, Instant::now());
                                }
                                break Flow::Stop(timeout.saturating_sub(started.elapsed()));
                            }
                            other => break other,
                        },
                    }
                }
            }
            None => {
                let wake = announcer.poll_timeout();
                let sleep = async {
                    match wake {
                        Some(at) => tokio::time::sleep_until(at.into()).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    () = sleep => Flow::Continue,
                    command = commands.recv() => apply(&mut announcer, command),
                }
            }
        };
        match flow {
            Flow::Continue => {}
            Flow::Stop(timeout) => break timeout,
            Flow::Exit => return,
        }
    };
    send_stopped(&ctx, &mut announcer, stop_timeout).await;
}

/// Sends the last announces (an owed `completed`, then `stopped` to every tracker that knows
/// us) in parallel, for at most `timeout`.
async fn send_stopped(ctx: &Context, announcer: &mut Announcer, timeout: Duration) {
    announcer.stop();
    let mut jobs = JoinSet::new();
    let _ = tokio::time::timeout(timeout, async {
        loop {
            // A finished `completed` releases its tracker's `stopped`: poll after every result.
            while let Some(job) = announcer.poll_announce(Instant::now()) {
                let request = ctx.request(&job);
                let http = ctx.http.clone();
                let udp = ctx.udp;
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
