//! Peer exchange (BEP 11) with libtorrent: ferrent is given one seeder, A, and must learn a
//! second seeder, B, from A's `ut_pex` messages alone.
//!
//! The torrent is public and names no tracker; ferrent runs without DHT and LSD. B runs with
//! PEX off and dials nobody, so it can never learn ferrent's address: any byte B uploads went
//! over a connection ferrent opened to an address only A's PEX gave it. A is throttled so
//! that, without B, the download would take a good while.

mod swarm;

use std::time::Duration;

use swarm::ferrent::{Ferrent, FerrentRun};
use swarm::fixture::{Fixture, Shape, SEED_READY, STATUS_WAIT};
use swarm::peers::{Peer, Role};

/// 4 MiB and a bit: 16 s from A alone at [`A_RATE`].
const PAYLOAD: Shape = Shape::Single((4 << 20) + 4321);

/// A's upload cap.
const A_RATE: u64 = 256 << 10;

/// Upper bound for the download (A alone would need about 16 s).
const DOWNLOAD: Duration = Duration::from_secs(90);

/// Two of a helper peer's status periods.
const STATUS_SETTLE: Duration = Duration::from_secs(1);

/// The swarm: seeder A connected to seeder B, B unreachable except through A's PEX.
struct Swarm {
    fx: Fixture,
    a: Peer,
    b: Peer,
}

impl Swarm {
    fn start(test: &str) -> Swarm {
        let fx = Fixture::public(test, PAYLOAD);
        let mut b = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent)
            .no_pex()
            .keep_seed_connections()
            .spawn();
        b.wait_ready(SEED_READY);
        let mut a = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent)
            .connect_to(b.addr())
            .keep_seed_connections()
            .upload_limit(A_RATE)
            .spawn();
        a.wait_ready(SEED_READY);
        a.wait_status(SEED_READY, "seeder A to connect to seeder B", |s| s.peers >= 1);
        b.wait_status(STATUS_WAIT, "seeder B to see seeder A", |s| s.peers >= 1);
        Swarm { fx, a, b }
    }

    /// Runs ferrent given only A and waits for it to finish with exact content.
    fn download(&self, ferrent: impl FnOnce(Ferrent) -> Ferrent) -> FerrentRun {
        let out = self.fx.out_dir("out");
        let builder = Ferrent::download(&self.fx.torrent.path, &out).peer(self.a.addr());
        let mut run = ferrent(builder).spawn("ferrent");
        run.wait_success(DOWNLOAD);
        self.fx.payload.assert_complete_in(&out);
        run
    }
}

#[test]
fn learns_a_second_seeder_through_pex() {
    let mut swarm = Swarm::start("pex");
    let _ferrent = swarm.download(|f| f);

    let from_b =
        swarm.b.wait_status(STATUS_WAIT, "seeder B to report an upload", |s| s.uploaded > 0);
    let from_a = swarm.a.status().map_or(0, |s| s.uploaded);
    assert!(from_a > 0, "seeder A, ferrent's only given peer, uploaded nothing");
    eprintln!("uploaded: A {from_a} bytes, B {} bytes", from_b.uploaded);
}

#[test]
fn no_pex_keeps_ferrent_to_its_given_peer() {
    let swarm = Swarm::start("no-pex");
    let _ferrent = swarm.download(Ferrent::no_pex);

    // B reports every half second and its count only grows: a line printed after the
    // download shows everything it ever sent.
    std::thread::sleep(STATUS_SETTLE);
    let status = swarm.b.status().expect("seeder B prints status lines");
    assert_eq!(status.uploaded, 0, "seeder B uploaded although ferrent ran with --no-pex");
}
