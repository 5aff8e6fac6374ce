//! The DHT (BEP 5) against a small DHT of libtorrent nodes on 127.0.0.1 (`lt_dht.py`).
//!
//! No tracker, no `--peer`, no `x.pe`, no LSD: the DHT is the only way the two sides can
//! find each other. Both directions are covered (ferrent looks a magnet up; libtorrent
//! looks up ferrent's seed), and a private torrent must never be looked up or announced.

mod swarm;

use std::time::{Duration, Instant};

use swarm::dht::LtDht;
use swarm::ferrent::{assert_metadata_saved, Event, Ferrent, FerrentRun};
use swarm::fixture::{Fixture, PIECE_LOG2, SEED_READY, SINGLE};
use swarm::payload::{Privacy, Torrent};
use swarm::peers::{Peer, Role};
use swarm::{free_port, local};

/// Nodes in the libtorrent DHT.
const NODES: usize = 4;

/// Upper bound for a lookup, the metadata and a few MiB on loopback.
const DOWNLOAD: Duration = Duration::from_secs(90);

/// ferrent's own bound on the metadata fetch (it fails with its own message first).
const METADATA_TIMEOUT: Duration = Duration::from_secs(60);

/// How long an announce may take to reach the DHT (libtorrent re-announces every 5 s here,
/// ferrent announces within a few seconds of adding a torrent).
const ANNOUNCE_WAIT: Duration = Duration::from_secs(30);

/// How long a private download is watched for any peer; the public control finds its
/// seeder within a few seconds.
const PRIVATE_WINDOW: Duration = Duration::from_secs(20);

#[test]
fn magnet_found_through_the_dht_alone() {
    let mut dht = LtDht::start(NODES);
    let fx = Fixture::public("dht-magnet", SINGLE);
    let mut seeder =
        Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).dht(&dht.nodes).spawn();
    seeder.wait_ready(SEED_READY);
    dht.wait_announce(ANNOUNCE_WAIT, &fx.torrent.info.info_hash, seeder.addr());

    let out = fx.out_dir("out");
    let magnet = fx.torrent.magnet(&[]);
    let mut ferrent = Ferrent::magnet(&magnet, &out)
        .dht(&dht.nodes)
        .metadata_timeout(METADATA_TIMEOUT)
        .spawn("ferrent");
    let events = ferrent.wait_success(DOWNLOAD);

    fx.payload.assert_complete_in(&out);
    assert_metadata_saved(&fx.torrent, &events, &out);
    let total = fx.payload.total_len();
    seeder.wait_status(Duration::from_secs(5), "the seeder to report the whole upload", |s| {
        s.uploaded >= total
    });
}

#[test]
fn libtorrent_finds_ferrents_seed_through_the_dht_alone() {
    let mut dht = LtDht::start(NODES);
    let fx = Fixture::public("dht-seed", SINGLE);
    let seed_dir = fx.out_dir("ferrent-seed");
    fx.torrent.partial_copy(&fx.payload, &seed_dir, |_| true);
    let port = free_port();
    let mut ferrent = Ferrent::download(&fx.torrent.path, &seed_dir)
        .seed()
        .listen_port(port)
        .dht(&dht.nodes)
        .spawn("ferrent-seed");
    let total = fx.torrent.info.num_pieces;
    ferrent.wait_event(SEED_READY, "ferrent to find its data complete", |e| match e {
        Event::Checked { have, total: t } if *t == total => {
            assert_eq!(*have, total, "ferrent's seed copy is incomplete");
            Some(())
        }
        _ => None,
    });
    dht.wait_announce(ANNOUNCE_WAIT, &fx.torrent.info.info_hash, local(port));

    let leech_dir = fx.out_dir("leech");
    let magnet = fx.torrent.magnet(&[]);
    let mut leecher = Peer::libtorrent_magnet(&magnet, &leech_dir)
        .dht(&dht.nodes)
        .timeout(DOWNLOAD - Duration::from_secs(10))
        .spawn();
    leecher.wait_done(DOWNLOAD);

    fx.payload.assert_complete_in(&leech_dir);
    let len = fx.payload.total_len();
    wait_uploaded(&mut ferrent, len);
}

/// Waits until ferrent reports having uploaded at least `len` bytes.
fn wait_uploaded(ferrent: &mut FerrentRun, len: u64) {
    ferrent.wait_event(Duration::from_secs(5), "ferrent to report the whole upload", |e| {
        matches!(e, Event::Progress { uploaded, .. } if *uploaded >= len).then_some(())
    });
}

#[test]
fn private_torrent_never_uses_the_dht() {
    let mut dht = LtDht::start(NODES);
    let fx = Fixture::with_privacy("dht-private", SINGLE, Privacy::Private, |_| Vec::new());
    let private = &fx.torrent;
    let public = Torrent::make_with(
        &fx.payload,
        &fx.scratch.path().join("public.torrent"),
        PIECE_LOG2,
        &[],
        Privacy::Public,
    );
    assert_ne!(private.info.info_hash, public.info.info_hash);
    // Seeders without a DHT node; their addresses are put into the DHT for them, so a
    // lookup of either info hash finds its seeder at once.
    let mut seeders = Vec::new();
    for torrent in [private, &public] {
        let mut seeder = Peer::libtorrent(Role::Seed, torrent, &fx.payload.parent).spawn();
        seeder.wait_ready(SEED_READY);
        dht.announce(&torrent.info.info_hash, seeder.port);
        seeders.push(seeder);
    }

    let private_port = free_port();
    let public_port = free_port();
    let started = Instant::now();
    let mut private_run = Ferrent::download(&private.path, &fx.out_dir("private"))
        .listen_port(private_port)
        .dht(&dht.nodes)
        .spawn("ferrent-private");
    let mut public_run = Ferrent::download(&public.path, &fx.out_dir("public"))
        .seed()
        .listen_port(public_port)
        .dht(&dht.nodes)
        .spawn("ferrent-public");

    // The control: the same data, public, comes through the DHT, and ferrent announces it.
    public_run.wait_event(DOWNLOAD, "the public download to finish", |e| {
        matches!(e, Event::Done { .. }).then_some(())
    });
    fx.payload.assert_complete_in(&fx.out_dir("public"));
    dht.wait_announce(ANNOUNCE_WAIT, &public.info.info_hash, local(public_port));

    let window = PRIVATE_WINDOW.max(started.elapsed() + Duration::from_secs(5));
    std::thread::sleep(window.saturating_sub(started.elapsed()));
    if let Some(status) = private_run.proc.try_status() {
        panic!("the private download exited ({status}) with only the DHT to find peers");
    }
    let events = private_run.events();
    assert!(
        events.iter().any(|e| matches!(e, Event::Progress { .. })),
        "the private download printed no progress in {window:?}"
    );
    for event in &events {
        if let Event::Progress { have, peers, downloaded, .. } = event {
            assert_eq!(
                (*have, *peers, *downloaded),
                (0, 0, 0),
                "the private torrent got a peer with only the DHT to find one: {event:?}"
            );
        }
    }
    let leaked: Vec<_> = dht
        .announces()
        .into_iter()
        .filter(|a| a.info_hash == private.info.info_hash || a.addr.port() == private_port)
        .filter(|a| a.addr.port() != seeders[0].port)
        .collect();
    assert!(leaked.is_empty(), "ferrent announced the private torrent into the DHT: {leaked:?}");
}
