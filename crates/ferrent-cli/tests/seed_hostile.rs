//! `ferrent download --seed` against a hostile leecher of our own
//! (`tests/peers/hostile_leecher.py`) while an honest libtorrent leecher downloads alongside.
//!
//! Per misbehaviour: ferrent keeps running, hangs up on the offender (seen from the offender's
//! socket and in a `peer_dropped` event), never sends data it should not, stays below
//! 100 MiB of peak memory, and the honest leecher completes with identical data. The payload
//! has 1 MiB pieces, so a 1 MiB request lies inside a piece and is refused for its length
//! alone. The seeder's upload is capped so the honest download is still running when the
//! offence arrives.

mod swarm;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use swarm::ferrent::{Event, Ferrent, FerrentRun};
use swarm::fixture::{Fixture, Shape, SEED_READY};
use swarm::peers::{Peer, Role};
use swarm::process::Proc;
use swarm::{free_port, local, peers_dir, PYTHON};

/// 12 MiB + 12345 bytes in 1 MiB pieces: 13 pieces, the last one short.
const PAYLOAD: Shape = Shape::Single((12 << 20) + 12_345);

/// 1 MiB pieces (`mktorrent -l 20`).
const PIECE_LOG2: u32 = 20;

/// The seeder's upload cap: the honest download takes about six seconds.
const SEED_RATE: u64 = 2 << 20;

/// How long the hostile leecher waits for ferrent to hang up after the offence.
const HANG_UP: Duration = Duration::from_secs(5);

/// Upper bound for the hostile leecher's whole run (connect, unchoke, offence, watch,
/// control fetch).
const HOSTILE_RUN: Duration = Duration::from_secs(45);

/// Upper bound for the honest leecher.
const LEECH: Duration = Duration::from_secs(60);

/// ferrent's peak resident memory must stay below this.
const PEAK_LIMIT: u64 = 100 << 20;

/// Requests the `choked` mode sends before it is interested (see the script).
const CHOKED_REQUESTS: u64 = 64;

/// How ferrent may take to exit after SIGTERM.
const SHUTDOWN: Duration = Duration::from_secs(10);

/// What one run against the hostile leecher left behind, for the per-mode checks.
struct Outcome {
    /// The script's `SUMMARY` fields.
    summary: BTreeMap<String, String>,
    /// ferrent's events.
    events: Vec<Event>,
    /// The hostile leecher (exited; kept so a failing check dumps its output).
    _hostile: Proc,
    /// The fixture (its torrent's geometry).
    fx: Fixture,
}

impl Outcome {
    /// A numeric summary field; panics if the script did not report it.
    fn num(&self, key: &str) -> i64 {
        let value = self.summary.get(key).unwrap_or_else(|| {
            panic!("the hostile leecher's summary lacks {key}: {:?}", self.summary)
        });
        value.parse().unwrap_or_else(|_| panic!("summary field {key}={value} is not an integer"))
    }

    /// The hostile leecher's own address, as ferrent sees it.
    fn hostile_addr(&self) -> SocketAddr {
        self.summary["local"].parse().expect("the summary's local address")
    }

    /// Panics unless ferrent hung up on the hostile leecher within [`HANG_UP`] and reported
    /// it in a `peer_dropped` or `peer_banned` event.
    fn assert_hung_up(&self) {
        assert_eq!(
            self.num("closed"),
            1,
            "ferrent kept the connection open for {HANG_UP:?} after the offence: {:?}",
            self.summary
        );
        let addr = self.hostile_addr();
        let reported = self.events.iter().filter_map(Event::peer).any(|p| same_peer(p, addr));
        assert!(reported, "no peer_dropped/peer_banned event names the offender {addr}");
    }
}

/// Whether ferrent's `ip:port` text names `addr` (ferrent may print IPv4-mapped IPv6).
fn same_peer(text: &str, addr: SocketAddr) -> bool {
    text.parse::<SocketAddr>()
        .map(|p| SocketAddr::new(p.ip().to_canonical(), p.port()) == addr)
        .unwrap_or(false)
}

/// Seeds with ferrent, starts an honest libtorrent leecher, runs the hostile leecher in
/// `mode`, and checks what every mode must satisfy.
fn run(test: &str, mode: &str, fast: bool) -> Outcome {
    let fx = Fixture::with_piece_log2(test, PAYLOAD, PIECE_LOG2, |t| vec![t.http()]);
    let port = free_port();
    let mut ferrent = Ferrent::download(&fx.torrent.path, &fx.payload.parent)
        .seed()
        .listen_port(port)
        .upload_limit(SEED_RATE)
        .spawn("ferrent-seed");
    let total = fx.torrent.info.num_pieces;
    ferrent.wait_checked_complete(total);

    let out = fx.out_dir("honest");
    let mut honest = Peer::libtorrent(Role::Leech, &fx.torrent, &out).timeout(LEECH).spawn();
    honest.wait_status(SEED_READY, "the honest leecher to start downloading", |s| s.downloaded > 0);

    let (hostile, summary) = run_hostile(&fx, port, mode, fast);
    let sent_at = hostile_sent_at(&hostile);
    if let Some(done_at) = line_time(&honest.proc, "DONE") {
        assert!(done_at > sent_at, "the honest leecher finished before the offence went out");
    }
    if let Some(status) = ferrent.proc.try_status() {
        panic!("ferrent exited ({status}) after the hostile leecher's {mode} offence");
    }
    assert_peak_below_limit(&ferrent);

    honest.wait_done(LEECH);
    fx.payload.assert_complete_in(&out);
    assert_peak_below_limit(&ferrent);
    let events = stop(ferrent);
    Outcome { summary, events, _hostile: hostile, fx }
}

/// Runs `hostile_leecher.py` against ferrent on `port`; returns it (exited) and its summary.
fn run_hostile(
    fx: &Fixture,
    port: u16,
    mode: &str,
    fast: bool,
) -> (Proc, BTreeMap<String, String>) {
    let mut cmd = Command::new(PYTHON);
    cmd.arg(peers_dir().join("hostile_leecher.py"))
        .arg("--torrent")
        .arg(&fx.torrent.path)
        .arg("--peer")
        .arg(local(port).to_string())
        .arg("--mode")
        .arg(mode)
        .arg("--watch")
        .arg(HANG_UP.as_secs().to_string());
    if fast {
        cmd.arg("--fast");
    }
    let mut hostile = Proc::spawn(&format!("hostile-leecher-{mode}"), cmd);
    let status = hostile.wait_exit(HOSTILE_RUN);
    assert!(status.success(), "the hostile leecher failed ({status})");
    let summary = hostile
        .stdout()
        .iter()
        .find_map(|l| l.strip_prefix("SUMMARY ").map(str::to_owned))
        .expect("a SUMMARY line from the hostile leecher");
    let fields = summary
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    (hostile, fields)
}

/// When the hostile leecher's `SENT` line (the offence) was read.
fn hostile_sent_at(hostile: &Proc) -> Instant {
    line_time(hostile, "SENT").expect("the hostile leecher never sent its offence")
}

/// When the first stdout line starting with `tag` was read, if any.
fn line_time(proc: &Proc, tag: &str) -> Option<Instant> {
    let lines = proc.lines(swarm::process::Stream::Stdout);
    lines.iter().find(|l| l.text.starts_with(tag)).map(|l| l.at)
}

fn assert_peak_below_limit(ferrent: &FerrentRun) {
    let peak = ferrent.proc.peak_rss();
    assert!(
        peak < PEAK_LIMIT,
        "ferrent's peak RSS is {} KiB, over the {} KiB limit",
        peak >> 10,
        PEAK_LIMIT >> 10
    );
}

/// SIGTERMs the seeder, checks it exits 0 and returns its events.
fn stop(mut ferrent: FerrentRun) -> Vec<Event> {
    ferrent.proc.signal(libc::SIGTERM);
    let status = ferrent.wait_exit(SHUTDOWN);
    assert!(status.success(), "ferrent --seed exited with {status} after SIGTERM");
    ferrent.events()
}

/// A bad request in every mode: ferrent hangs up and never sends a block.
fn assert_bad_request_refused(outcome: &Outcome) {
    outcome.assert_hung_up();
    assert_eq!(outcome.num("pieces"), 0, "ferrent sent blocks for an invalid request");
}

#[test]
fn request_for_a_piece_past_the_end_is_refused() {
    let outcome = run("hostile-index", "bad-index", false);
    assert_bad_request_refused(&outcome);
}

#[test]
fn request_past_the_end_of_a_piece_is_refused() {
    let outcome = run("hostile-offset", "bad-offset", false);
    assert_bad_request_refused(&outcome);
}

#[test]
fn one_mebibyte_request_inside_a_piece_is_refused() {
    let outcome = run("hostile-length", "huge-length", false);
    let piece = outcome.fx.torrent.info.piece_length;
    assert!(piece >= 1 << 20, "a 1 MiB request must fit in a {piece} byte piece for this test");
    assert_bad_request_refused(&outcome);
}

#[test]
fn flood_of_ten_thousand_requests_is_cut_off() {
    let outcome = run("hostile-flood", "flood", false);
    assert_eq!(outcome.num("unchoked"), 1, "ferrent never unchoked the (interested) flooder");
    outcome.assert_hung_up();
}

/// Requests sent while choked are ignored (or rejected with BEP 6), never served, and the
/// connection stays usable: once unchoked, the same leecher fetches and verifies piece 0,
/// receiving exactly its blocks and nothing left over from the choked requests.
fn assert_choked_requests_not_served(outcome: &Outcome) {
    let s = &outcome.summary;
    assert_eq!(
        outcome.num("unchokes_while_uninterested"),
        0,
        "ferrent unchoked a peer that never said it was interested: {s:?}"
    );
    assert_eq!(outcome.num("closed"), 0, "ferrent hung up on requests made while choked: {s:?}");
    assert_eq!(outcome.num("pieces_while_choked"), 0, "ferrent served a choked peer: {s:?}");
    assert_eq!(outcome.num("verified"), 1, "the control fetch of piece 0 failed: {s:?}");
    let blocks = outcome.fx.torrent.info.piece_length.div_ceil(16 << 10) as i64;
    assert_eq!(
        outcome.num("pieces"),
        blocks,
        "blocks received: piece 0 has {blocks}; more means choked requests were served late"
    );
}

#[test]
fn requests_while_choked_are_never_served() {
    let outcome = run("hostile-choked", "choked", false);
    assert_choked_requests_not_served(&outcome);
    assert_eq!(outcome.num("rejects"), 0, "ferrent sent BEP 6 rejects to a peer without it");
}

#[test]
fn requests_while_choked_are_rejected_with_the_fast_extension() {
    let outcome = run("hostile-choked-fast", "choked", true);
    assert_choked_requests_not_served(&outcome);
    assert_eq!(
        outcome.num("rejects"),
        CHOKED_REQUESTS as i64,
        "a fast-extension peer's choked requests should each be rejected"
    );
}
