//! `ferrent download` with a misbehaving peer next to an honest libtorrent seeder.
//!
//! The hostile peer (`tests/peers/hostile_peer.py`) claims every piece, unchokes, then
//! misbehaves. ferrent must still finish with exact content and report the hostile peer as
//! dropped or banned. The honest seeder is throttled so ferrent has reason to use both.

mod swarm;

use std::time::{Duration, Instant};

use swarm::ferrent::{Event, Ferrent, FerrentRun};
use swarm::fixture::{Fixture, SEED_READY, SINGLE};
use swarm::peers::{HostilePeer, Hostility, Peer, Role};

/// Upper bound for one download (the honest seeder alone takes ~3 s).
const DOWNLOAD: Duration = Duration::from_secs(90);

/// The honest seeder's upload cap.
const HONEST_RATE: u64 = 1 << 20;

/// Peak memory allowed while a peer announces a 100 MiB message.
const OVERSIZE_PEAK_LIMIT: u64 = 90 << 20;

/// What a finished run against a hostile peer left behind.
struct Outcome {
    /// ferrent's events, with when each was read.
    events: Vec<(Instant, Event)>,
    /// The hostile peer (still running, for its logs).
    hostile: HostilePeer,
    /// The swarm's fixture.
    fx: Fixture,
}

impl Outcome {
    /// Panics unless the hostile peer shows up in a `peer_dropped` or `peer_banned` event.
    fn assert_rejected(&self) {
        let addr = self.hostile.addr().to_string();
        assert!(
            self.events.iter().any(|(_, e)| e.peer() == Some(addr.as_str())),
            "no peer_dropped/peer_banned event names the hostile peer {addr}"
        );
    }
}

/// Runs ferrent against a `mode` peer plus an honest seeder, checks it completes with exact
/// content, and returns what happened.
fn run_against(test: &str, mode: Hostility, ban_after: Option<u32>) -> Outcome {
    let fx = Fixture::new(test, SINGLE, |t| vec![t.http()]);
    let hostile = HostilePeer::start(&fx.torrent, mode);
    let mut honest = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent)
        .upload_limit(HONEST_RATE)
        .spawn();
    honest.wait_ready(SEED_READY);

    let out = fx.out_dir("out");
    let mut ferrent = Ferrent::download(&fx.torrent.path, &out).peer(hostile.addr());
    if let Some(n) = ban_after {
        ferrent = ferrent.ban_after(n);
    }
    let mut ferrent = ferrent.spawn("ferrent");
    if mode == Hostility::Oversize {
        assert_small_peak(&mut ferrent, &hostile);
    }
    ferrent.wait_success(DOWNLOAD);
    fx.payload.assert_complete_in(&out);
    Outcome { events: ferrent.events_timed(), hostile, fx }
}

/// Once ferrent has dealt with the oversize prefix, its peak RSS must be far below 100 MiB.
fn assert_small_peak(ferrent: &mut FerrentRun, hostile: &HostilePeer) {
    let gone = hostile.addr().to_string();
    ferrent.wait_event(DOWNLOAD, "the oversize peer to be dropped", |e| {
        (e.peer() == Some(gone.as_str())).then_some(())
    });
    let status = std::fs::read_to_string(format!("/proc/{}/status", ferrent.proc.pid()))
        .expect("read ferrent's /proc status");
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status");
    assert!(
        peak_kib * 1024 < OVERSIZE_PEAK_LIMIT,
        "ferrent's peak RSS reached {peak_kib} KiB after a 100 MiB length prefix"
    );
}

#[test]
fn corrupt_peer_is_banned_after_ban_after_failures() {
    let ban_after = 2;
    let Outcome { events, hostile, .. } =
        run_against("corrupt", Hostility::Corrupt, Some(ban_after));
    let addr = hostile.addr().to_string();
    let banned_at = events
        .iter()
        .find_map(|(at, e)| {
            matches!(e, Event::PeerBanned { peer, .. } if *peer == addr).then_some(*at)
        })
        .unwrap_or_else(|| panic!("no peer_banned event for the corrupt peer {addr}"));
    let pieces = hostile.pieces_served();
    assert!(
        pieces.len() >= ban_after as usize,
        "banned after bad data for only {} pieces ({pieces:?}), --ban-after is {ban_after}",
        pieces.len()
    );
    // A banned peer is not dialled again (allow for a connection already under way).
    let grace = Duration::from_millis(500);
    let late: Vec<_> =
        hostile.connection_times().into_iter().filter(|t| *t > banned_at + grace).collect();
    assert!(late.is_empty(), "ferrent reconnected to the banned peer {} time(s)", late.len());
}

#[test]
fn oversize_length_prefix_drops_the_peer() {
    let outcome = run_against("oversize", Hostility::Oversize, None);
    assert!(outcome.hostile.count("SENT") > 0, "the oversize prefix was never sent");
    outcome.assert_rejected();
}

#[test]
fn overlong_bitfield_drops_the_peer() {
    let outcome = run_against("bitfield", Hostility::BadBitfield, None);
    assert!(outcome.hostile.count("SENT") > 0, "the bad bitfield was never sent");
    outcome.assert_rejected();
}

#[test]
fn bitfield_with_spare_bits_drops_the_peer() {
    let outcome = run_against("spare-bits", Hostility::SpareBits, None);
    assert_ne!(outcome.fx.torrent.info.num_pieces % 8, 0, "the torrent has no spare bits to set");
    assert!(outcome.hostile.count("SENT") > 0, "the bitfield was never sent");
    outcome.assert_rejected();
}

#[test]
fn unrequested_blocks_drop_the_peer() {
    let outcome = run_against("unrequested", Hostility::Unrequested, None);
    assert!(outcome.hostile.count("SENT") > 0, "no unrequested block was sent");
    outcome.assert_rejected();
}
