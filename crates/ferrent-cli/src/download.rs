//! `ferrent download`: fetch torrents into a directory, then exit or keep seeding.
//!
//! Output: on a terminal, a live progress bar on stderr; otherwise a status line on stderr
//! every few seconds. With `--json`, one JSON object per line on stdout (schema below) and
//! nothing else on stdout:
//!
//! * `{"event":"metadata","torrent":H,"saved":PATH}`: a magnet link's metadata arrived
//!   and was saved as a .torrent file.
//! * `{"event":"checked","torrent":H,"have":N,"total":M}`: existing data verified.
//! * `{"event":"progress","have":N,"total":M,"downloaded":B,"uploaded":B,"peers":P,
//!   "down_rate":R,"up_rate":R}` about every second (sums over all torrents; `downloaded` is
//!   payload fetched in this run).
//! * `{"event":"peer_dropped"|"peer_banned","torrent":H,"peer":"ip:port","reason":TEXT}`.
//! * `{"event":"tracker","torrent":H,"url":URL,"message":TEXT}`.
//! * `{"event":"completed","torrent":H}` per torrent, then `{"event":"done","downloaded":B,
//!   "uploaded":B}` once all are complete.
//! * `{"event":"error","torrent":H,"message":TEXT}` when a torrent stops on an error.

use anyhow::{bail, Context, Result};
use ferrent_core::{Magnet, Metainfo};
use ferrent_session::dht::DhtConfig;
use ferrent_session::{
    Session, SessionConfig, TorrentEvent, TorrentHandle, TorrentOptions, TorrentStats,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Arguments of `ferrent download`.
#[derive(clap::Args, Debug)]
pub struct DownloadArgs {
    /// .torrent files or magnet links to download.
    #[arg(required = true, value_name = "TORRENT|MAGNET")]
    torrents: Vec<String>,
    /// Directory to download into.
    #[arg(short = 'o', long = "output", default_value = ".", value_name = "DIR")]
    output: PathBuf,
    /// Keep running and seeding after the download completes (until Ctrl-C / SIGTERM).
    #[arg(long)]
    seed: bool,
    /// TCP port for incoming peers (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    listen_port: u16,
    /// Address to listen on (default: all, IPv4 and IPv6).
    #[arg(long, value_name = "IP")]
    bind: Option<IpAddr>,
    /// Extra peer to connect to, HOST:PORT (repeatable).
    #[arg(long = "peer", value_name = "HOST:PORT")]
    peers: Vec<String>,
    /// Download only these files (indices as `ferrent info` lists them), e.g. `--only 0,2`.
    #[arg(long, value_delimiter = ',', value_name = "N,M,...")]
    only: Vec<usize>,
    /// Fetch pieces in order instead of rarest first.
    #[arg(long)]
    sequential: bool,
    /// Ban a peer after it sent data for this many pieces that failed their hash check.
    #[arg(long, default_value_t = 3)]
    ban_after: u32,
    /// Connections per torrent at the most.
    #[arg(long, default_value_t = 100)]
    max_peers: usize,
    /// Do not contact the torrents' trackers (use --peer).
    #[arg(long)]
    no_trackers: bool,
    /// Session-wide upload cap in bytes per second (K, M, G suffixes; 0 = unlimited).
    #[arg(long, value_parser = crate::create::parse_size, default_value = "0", value_name = "RATE")]
    upload_limit: u64,
    /// Session-wide download cap in bytes per second (K, M, G suffixes; 0 = unlimited).
    #[arg(long, value_parser = crate::create::parse_size, default_value = "0", value_name = "RATE")]
    download_limit: u64,
    /// With --seed: stop once this much has been uploaded relative to the torrents' size.
    #[arg(long, requires = "seed", value_name = "RATIO")]
    seed_ratio: Option<f64>,
    /// With --seed: stop after seeding this long (e.g. 90s, 30m, 2h).
    #[arg(long, requires = "seed", value_parser = parse_duration, value_name = "DURATION")]
    seed_time: Option<Duration>,
    /// Do not use the DHT (BEP 5).
    #[arg(long)]
    no_dht: bool,
    /// DHT bootstrap node, HOST:PORT (repeatable; default: the well-known public routers).
    #[arg(long = "dht-bootstrap", value_name = "HOST:PORT")]
    dht_bootstrap: Vec<String>,
    /// Keep DHT nodes on loopback and private addresses (local test swarms, LANs).
    #[arg(long)]
    dht_allow_local: bool,
    /// Do not look for peers on the local network (LSD, BEP 14).
    #[arg(long)]
    no_lsd: bool,
    /// Do not exchange peer lists with peers (PEX, BEP 11).
    #[arg(long)]
    no_pex: bool,
    /// Give up on a magnet link whose metadata no peer delivers within this time.
    #[arg(long, value_parser = parse_duration, default_value = "5m", value_name = "DURATION")]
    metadata_timeout: Duration,
    /// Print nothing but errors.
    #[arg(long, short = 'q', conflicts_with = "json")]
    quiet: bool,
    /// Print one JSON object per line on stdout.
    #[arg(long)]
    json: bool,
}

/// Runs `ferrent download`.
pub fn run(args: DownloadArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(download(args))
}

#[derive(Clone, Copy, PartialEq)]
enum Output {
    Bar,
    Lines,
    Json,
    Quiet,
}

async fn download(args: DownloadArgs) -> Result<()> {
    let output = if args.json {
        Output::Json
    } else if args.quiet {
        Output::Quiet
    } else if std::io::stderr().is_terminal() {
        Output::Bar
    } else {
        Output::Lines
    };
    let peers = resolve_peers(&args.peers)?;
    let mut inputs = Vec::new();
    for input in &args.torrents {
        inputs.push(Input::parse(input)?);
    }
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let config = SessionConfig {
        listen_addr: args.bind,
        listen_port: args.listen_port,
        max_peers_per_torrent: args.max_peers,
        ban_after: args.ban_after,
        upload_limit: args.upload_limit,
        download_limit: args.download_limit,
        lsd: !args.no_lsd,
        ..SessionConfig::default()
    };
    let config = SessionConfig { dht: dht_config(&args, config.dht.clone()), ..config };
    let session = Session::new(config).await?;
    tracing::info!(port = session.listen_port(), "listening");
    let mut metainfos = Vec::new();
    let mut learnt = Vec::new();
    let mut selections = Vec::new();
    for input in inputs {
        let (metainfo, found, selection) = match input {
            Input::Torrent(metainfo) => (metainfo, Vec::new(), args.only.clone()),
            Input::Magnet(magnet) => {
                let (metainfo, found) =
                    fetch_magnet(&session, &magnet, &peers, &args, output).await?;
                // `--only` wins over the link's own BEP 53 selection.
                let files = metainfo.info.files.iter().filter(|f| !f.pad).count();
                let selection = if args.only.is_empty() && !magnet.select_only.is_empty() {
                    (0..files).filter(|&i| magnet.selects(i)).collect()
                } else {
                    args.only.clone()
                };
                (metainfo, found, selection)
            }
        };
        metainfos.push(metainfo);
        learnt.push(found);
        selections.push(selection);
    }
    let mut events = session.events().context("the session's events were already taken")?;
    let mut handles = Vec::new();
    for ((metainfo, found), only_files) in metainfos.iter().zip(learnt).zip(selections) {
        let options = TorrentOptions {
            download_dir: args.output.clone(),
            peers: peers.iter().copied().chain(found).collect(),
            no_pex: args.no_pex,
            only_files,
            sequential: args.sequential,
            no_trackers: args.no_trackers,
            ..TorrentOptions::default()
        };
        let handle = session
            .add_torrent(metainfo, options)
            .await
            .with_context(|| format!("cannot start {}", metainfo.info.name))?;
        handles.push(handle);
    }
    let total_size: u64 = metainfos.iter().map(|m| m.info.total_length()).sum();
    let mut seeding_since: Option<Instant> = None;
    let mut progress = Progress::new(output, &handles);
    let mut completed = vec![false; handles.len()];
    let mut done_reported = false;
    let mut failure = None;
    let second = Duration::from_secs(1);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + second, second);
    let mut signals = Signals::new()?;
    loop {
        tokio::select! {
            biased;
            event = events.recv() => {
                let Some((info_hash, event)) = event else { break };
                let hash = info_hash.to_hex();
                if let TorrentEvent::Completed = event {
                    if let Some(i) = handles.iter().position(|h| h.info_hash() == info_hash) {
                        completed[i] = true;
                        handles[i].announce_completed();
                    }
                }
                if let TorrentEvent::Failed(message) = &event {
                    failure = Some(message.clone());
                }
                progress.event(&hash, &event);
                if failure.is_some() {
                    break;
                }
                if completed.iter().all(|c| *c) && !done_reported {
                    done_reported = true;
                    progress.done(&handles);
                    if !args.seed {
                        break;
                    }
                    seeding_since = Some(Instant::now());
                }
            }
            _ = tick.tick() => {
                progress.tick(&handles);
                if let Some(since) = seeding_since {
                    let uploaded = sum(&handles).uploaded;
                    let ratio_met = args.seed_ratio.is_some_and(|r| uploaded as f64 >= r * total_size as f64);
                    let time_met = args.seed_time.is_some_and(|t| since.elapsed() >= t);
                    if ratio_met || time_met {
                        break;
                    }
                }
            }
            _ = signals.recv() => {
                progress.finish();
                stop_all(handles).await;
                if done_reported {
                    return Ok(());
                }
                eprintln!("interrupted; verified data is kept and a rerun resumes");
                std::process::exit(130);
            }
        }
    }
    progress.finish();
    stop_all(handles).await;
    session.shutdown();
    match failure {
        Some(message) => bail!(message),
        None => Ok(()),
    }
}

async fn stop_all(handles: Vec<TorrentHandle>) {
    let stops = handles.into_iter().map(|h| h.stop(Duration::from_secs(3)));
    for result in futures_join(stops).await {
        if let Err(error) = result {
            eprintln!("error: {error}");
        }
    }
}

async fn futures_join<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let tasks: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for task in tasks {
        if let Ok(result) = task.await {
            out.push(result);
        }
    }
    out
}

/// The DHT settings the flags ask for (`None`: off).
fn dht_config(args: &DownloadArgs, default: Option<DhtConfig>) -> Option<DhtConfig> {
    let mut config = default.filter(|_| !args.no_dht)?;
    if let Some(IpAddr::V4(ip)) = args.bind {
        config.bind.set_ip(IpAddr::V4(ip));
    }
    if !args.dht_bootstrap.is_empty() {
        config.bootstrap = args.dht_bootstrap.clone();
    }
    if args.dht_allow_local {
        config.allow_loopback = true;
        config.enforce_node_id = false;
    }
    Some(config)
}

/// A command-line torrent: a parsed .torrent file or a magnet link.
enum Input {
    Torrent(Metainfo),
    Magnet(Magnet),
}

impl Input {
    fn parse(text: &str) -> Result<Input> {
        if text.starts_with("magnet:") {
            return Ok(Input::Magnet(Magnet::parse(text).context("invalid magnet link")?));
        }
        let bytes = std::fs::read(text).with_context(|| format!("cannot read {text}"))?;
        let metainfo = Metainfo::from_bytes(&bytes)
            .with_context(|| format!("{text} is not a valid torrent"))?;
        Ok(Input::Torrent(metainfo))
    }
}

/// Gets a magnet link's metadata from peers and saves it as `DIR/<name>.torrent` so the
/// download can be resumed or shared without the swarm's help.
async fn fetch_magnet(
    session: &Session,
    magnet: &Magnet,
    peers: &[SocketAddr],
    args: &DownloadArgs,
    output: Output,
) -> Result<(Metainfo, Vec<SocketAddr>)> {
    let name = magnet.display_name.clone().unwrap_or_else(|| magnet.info_hashes.wire().to_hex());
    if output != Output::Quiet && output != Output::Json {
        eprintln!("{name}: fetching metadata from peers");
    }
    let fetched = session
        .fetch_metadata(magnet, peers, args.no_trackers, args.metadata_timeout)
        .await
        .with_context(|| format!("cannot get the metadata of {name}"))?;
    let metainfo = fetched.metainfo;
    let path = args.output.join(format!("{}.torrent", metainfo.info.name));
    if !path.exists() {
        std::fs::write(&path, metainfo.to_torrent_bytes())
            .with_context(|| format!("cannot save {}", path.display()))?;
    }
    if output == Output::Json {
        let hash = metainfo.info_hashes.wire().to_hex();
        println!(
            "{}",
            json!({"event": "metadata", "torrent": hash, "saved": path.display().to_string()})
        );
    }
    Ok((metainfo, fetched.peers))
}

/// Parses `90`, `90s`, `30m`, `2h` or `1d`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().map_err(|_| format!("`{text}` is not a duration"))?;
    let unit_secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("unknown unit `{unit}` (use s, m, h or d)")),
    };
    number
        .checked_mul(unit_secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is too long"))
}

fn resolve_peers(peers: &[String]) -> Result<Vec<SocketAddr>> {
    let mut out = Vec::new();
    for peer in peers {
        let addrs =
            peer.to_socket_addrs().with_context(|| format!("--peer {peer}: expected HOST:PORT"))?;
        out.extend(addrs);
    }
    Ok(out)
}

/// SIGINT and SIGTERM as one stream.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            term: signal(SignalKind::terminate()).context("cannot watch SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("cannot watch SIGINT")?,
        })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

/// Progress output in the chosen style.
struct Progress {
    output: Output,
    bar: Option<ProgressBar>,
    last_line: Instant,
    started: Instant,
}

fn sum(handles: &[TorrentHandle]) -> TorrentStats {
    handles.iter().map(|h| h.stats()).fold(TorrentStats::default(), |a, s| TorrentStats {
        have: a.have + s.have,
        total: a.total + s.total,
        remaining: a.remaining + s.remaining,
        downloaded: a.downloaded + s.downloaded,
        uploaded: a.uploaded + s.uploaded,
        wasted: a.wasted + s.wasted,
        peers: a.peers + s.peers,
        down_rate: a.down_rate + s.down_rate,
        up_rate: a.up_rate + s.up_rate,
        left: a.left + s.left,
        complete: a.complete && s.complete,
    })
}

fn human(bytes: u64) -> String {
    indicatif::HumanBytes(bytes).to_string()
}

impl Progress {
    fn new(output: Output, handles: &[TorrentHandle]) -> Self {
        let bar = (output == Output::Bar).then(|| {
            let total = sum(handles).total;
            let bar = ProgressBar::new(u64::from(total));
            bar.set_style(
                ProgressStyle::with_template("{bar:30.cyan/blue} {percent:>3}% {msg}")
                    .expect("static template")
                    .progress_chars("=> "),
            );
            bar
        });
        Self { output, bar, last_line: Instant::now(), started: Instant::now() }
    }

    fn tick(&mut self, handles: &[TorrentHandle]) {
        let s = sum(handles);
        match self.output {
            Output::Json => {
                println!(
                    "{}",
                    json!({"event": "progress", "have": s.have, "total": s.total,
                        "downloaded": s.downloaded, "uploaded": s.uploaded, "peers": s.peers,
                        "down_rate": s.down_rate, "up_rate": s.up_rate})
                );
            }
            Output::Bar => {
                if let Some(bar) = &self.bar {
                    bar.set_position(u64::from(s.have));
                    bar.set_message(status_text(&s));
                }
            }
            Output::Lines => {
                if self.last_line.elapsed() >= Duration::from_secs(5) {
                    self.last_line = Instant::now();
                    let pct = if s.total == 0 {
                        100.0
                    } else {
                        100.0 * f64::from(s.have) / f64::from(s.total)
                    };
                    eprintln!("{pct:5.1}% {}", status_text(&s));
                }
            }
            Output::Quiet => {}
        }
    }

    fn event(&mut self, torrent: &str, event: &TorrentEvent) {
        let value = match event {
            TorrentEvent::Checked { have, total } => {
                json!({"event": "checked", "torrent": torrent, "have": have, "total": total})
            }
            TorrentEvent::PeerDropped { peer, reason } => json!({"event": "peer_dropped",
                "torrent": torrent, "peer": peer.to_string(), "reason": reason}),
            TorrentEvent::PeerBanned { peer, reason } => json!({"event": "peer_banned",
                "torrent": torrent, "peer": peer.to_string(), "reason": reason}),
            TorrentEvent::Tracker { url, message } => {
                json!({"event": "tracker", "torrent": torrent, "url": url, "message": message})
            }
            TorrentEvent::Completed => json!({"event": "completed", "torrent": torrent}),
            TorrentEvent::FilesChanged { files } => {
                json!({"event": "files_changed", "torrent": torrent, "files": files})
            }
            TorrentEvent::Failed(message) => {
                json!({"event": "error", "torrent": torrent, "message": message})
            }
        };
        match self.output {
            Output::Json => println!("{value}"),
            Output::Quiet => {}
            Output::Bar | Output::Lines => {
                let text = match event {
                    TorrentEvent::Checked { have, total } => {
                        format!("{torrent}: {have}/{total} pieces already on disk")
                    }
                    TorrentEvent::PeerBanned { peer, reason } => format!("banned {peer}: {reason}"),
                    TorrentEvent::Tracker { url, message } => format!("tracker {url}: {message}"),
                    TorrentEvent::Completed => format!("{torrent}: complete"),
                    TorrentEvent::FilesChanged { files } => {
                        format!("{torrent}: changed on disk, rechecked: {}", files.join(", "))
                    }
                    TorrentEvent::Failed(message) => format!("{torrent}: stopped: {message}"),
                    TorrentEvent::PeerDropped { .. } => return,
                };
                match &self.bar {
                    Some(bar) => bar.println(text),
                    None => eprintln!("{text}"),
                }
            }
        }
    }

    fn done(&mut self, handles: &[TorrentHandle]) {
        let s = sum(handles);
        match self.output {
            Output::Json => println!(
                "{}",
                json!({"event": "done", "downloaded": s.downloaded, "uploaded": s.uploaded})
            ),
            Output::Quiet => {}
            Output::Bar | Output::Lines => {
                let secs = self.started.elapsed().as_secs_f64();
                let text = format!(
                    "done: {} fetched in {:.1} s ({}/s)",
                    human(s.downloaded),
                    secs,
                    human((s.downloaded as f64 / secs.max(0.001)) as u64)
                );
                match &self.bar {
                    Some(bar) => bar.println(text),
                    None => eprintln!("{text}"),
                }
            }
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

fn status_text(s: &TorrentStats) -> String {
    let eta = if s.down_rate > 0 && s.left > 0 {
        let secs = s.left / s.down_rate;
        format!("ETA {}:{:02}", secs / 60, secs % 60)
    } else if s.complete {
        "seeding".to_string()
    } else {
        "ETA --".to_string()
    };
    format!("down {}/s up {}/s, {} peers, {}", human(s.down_rate), human(s.up_rate), s.peers, eta)
}
