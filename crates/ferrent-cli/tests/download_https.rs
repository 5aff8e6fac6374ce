//! `ferrent download` announcing to an HTTPS tracker on 127.0.0.1.
//!
//! opentracker serves plain HTTP; `tests/peers/tls_proxy.py` puts TLS in front of it with a
//! certificate from a CA made for the test. A libtorrent seeder announces over plain HTTP,
//! ferrent gets a copy of the torrent whose only tracker is the HTTPS URL. With the CA in
//! `SSL_CERT_FILE` ferrent must find the seeder through the tracker and download everything;
//! without it (or with another CA) the handshake must fail, the tracker must never see
//! ferrent, and ferrent must report a certificate error for that tracker.

mod swarm;

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use swarm::announce::probe;
use swarm::ferrent::{Event, Ferrent, FerrentRun};
use swarm::fixture::{Fixture, Shape, SEED_READY};
use swarm::https::{retarget, tracker_messages, TestCa, TlsProxy};
use swarm::payload::Torrent;
use swarm::peers::{Peer, Role};
use swarm::process::Stream;
use swarm::{free_port, local, wait_until};

/// Upper bound for one download of a few MiB on loopback.
const DOWNLOAD: Duration = Duration::from_secs(90);

/// How long an exited ferrent's output may take to be read to the end.
const EXIT: Duration = Duration::from_secs(5);

/// How long ferrent may take to report its first announce's failure.
const TRACKER_ERROR: Duration = Duration::from_secs(30);

/// How long the proxy's log may lag behind ferrent's report.
const PROXY_LOG: Duration = Duration::from_secs(5);

/// How long opentracker may take to list the seeder.
const LISTED: Duration = Duration::from_secs(15);

/// A swarm whose tracker is reachable over HTTPS, with one libtorrent seeder.
struct HttpsSwarm {
    /// The seeder (announces to opentracker over plain HTTP).
    seeder: Peer,
    /// TLS in front of opentracker.
    proxy: TlsProxy,
    /// The torrent as ferrent gets it: the HTTPS URL is its only tracker.
    torrent: Torrent,
    /// The CA that issued the proxy's certificate.
    ca: TestCa,
    /// Payload, original torrent, opentracker, scratch directory (dropped last).
    fx: Fixture,
}

impl HttpsSwarm {
    fn start(test: &str, shape: Shape) -> HttpsSwarm {
        let fx = Fixture::new(test, shape, |t| vec![t.http()]);
        let pki = fx.scratch.subdir("pki");
        let ca = TestCa::generate(&pki, "ca");
        let proxy = TlsProxy::start(&ca.issue_server(&pki, "tracker"), fx.tracker.addr.port);
        let torrent = retarget(&fx, &proxy.announce_url(), "https.torrent");
        let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
        seeder.wait_ready(SEED_READY);
        HttpsSwarm { seeder, proxy, torrent, ca, fx }
    }

    /// `ferrent download` of the HTTPS torrent into `out`, trusting only `ca_file` beyond the
    /// bundled roots (`SSL_CERT_DIR` removed; `SSL_CERT_FILE` removed if `None`).
    fn ferrent(&self, out: &Path, ca_file: Option<&Path>, listen_port: u16) -> FerrentRun {
        Ferrent::download(&self.torrent.path, out)
            .listen_port(listen_port)
            .env("SSL_CERT_FILE", ca_file.map(Path::as_os_str))
            .env("SSL_CERT_DIR", None::<&OsStr>)
            .spawn("ferrent")
    }
}

#[test]
fn downloads_through_https_tracker_trusted_via_ssl_cert_file() {
    let swarm = HttpsSwarm::start("https", Shape::Spanning);
    let out = swarm.fx.out_dir("out");

    let mut ferrent = swarm.ferrent(&out, Some(&swarm.ca.cert), free_port());
    // Fail at the first tracker error rather than at the download's time limit.
    wait_until(DOWNLOAD, "ferrent to finish the download", || {
        let errors = tracker_messages(&ferrent);
        assert!(errors.is_empty(), "ferrent reported tracker problems: {errors:?}");
        ferrent.proc.try_status()
    });
    let events = ferrent.wait_success(EXIT);

    swarm.fx.payload.assert_complete_in(&out);
    assert!(
        matches!(events.first(), Some(Event::Checked { have: 0, .. })),
        "ferrent started with data on disk: {events:?}"
    );
    // Announces went through over good TLS sessions (connections are reused, so there may be
    // fewer than announces), and none was cut off half-way.
    assert!(swarm.proxy.forwarded() >= 1, "no announce went through the HTTPS proxy");
    let failures = swarm.proxy.handshake_failures();
    assert!(failures.is_empty(), "TLS handshakes failed: {failures:?}");
    let errors = tracker_messages(&ferrent);
    assert!(errors.is_empty(), "ferrent reported tracker problems: {errors:?}");
}

#[test]
fn untrusted_https_tracker_without_ssl_cert_file_is_refused() {
    let swarm = HttpsSwarm::start("https-untrusted", Shape::Single((1 << 20) + 77));
    assert_refused(&swarm, None);
}

#[test]
fn https_tracker_signed_by_another_ca_is_refused() {
    let swarm = HttpsSwarm::start("https-other-ca", Shape::Single((1 << 20) + 77));
    let other = TestCa::generate(&swarm.fx.scratch.subdir("other-pki"), "other");
    assert_refused(&swarm, Some(&other.cert));
}

#[test]
fn unusable_ssl_cert_file_falls_back_to_bundled_roots() {
    let swarm = HttpsSwarm::start("https-bad-store", Shape::Single((1 << 20) + 77));
    // A PEM certificate block whose contents are not a certificate.
    let bad = swarm.fx.scratch.path().join("garbage.pem");
    std::fs::write(
        &bad,
        "-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n",
    )
    .expect("write the garbage certificate");
    let ferrent = assert_refused(&swarm, Some(&bad));
    let warned = ferrent.proc.lines(Stream::Stderr).iter().any(|l| {
        l.text.contains("WARN") && l.text.contains("ignoring the system certificate store")
    });
    assert!(warned, "ferrent did not warn that it ignores the unusable certificate store");
}

/// Runs ferrent trusting `ca_file` (not the proxy's CA) and checks that the TLS handshake
/// fails, nothing reaches opentracker, and ferrent reports a certificate error.
fn assert_refused(swarm: &HttpsSwarm, ca_file: Option<&Path>) -> FerrentRun {
    let url = swarm.proxy.announce_url();
    let port = free_port();
    let mut ferrent = swarm.ferrent(&swarm.fx.out_dir("out"), ca_file, port);

    ferrent.wait_event(TRACKER_ERROR, "a tracker event", |e| {
        matches!(e, Event::Other(name) if name == "tracker").then_some(())
    });
    let messages = tracker_messages(&ferrent);
    let (_, message) = messages
        .iter()
        .find(|(u, _)| *u == url)
        .unwrap_or_else(|| panic!("no tracker event names {url}: {messages:?}"));
    let lower = message.to_lowercase();
    assert!(
        lower.contains("certificate") && lower.contains("unknownissuer"),
        "the tracker error does not name the untrusted certificate: {message:?}"
    );

    // The proxy logs the alert a moment after ferrent reports the error.
    let failures = wait_until(PROXY_LOG, "the proxy to log an unknown_ca alert", || {
        let failures = swarm.proxy.handshake_failures();
        failures.iter().any(|f| f.contains("UNKNOWN_CA")).then_some(failures)
    });
    assert!(
        failures.iter().all(|f| !f.contains("ALERT") || f.contains("UNKNOWN_CA")),
        "ferrent sent another TLS alert than unknown_ca: {failures:?}"
    );
    assert_eq!(swarm.proxy.forwarded(), 0, "a connection got past the TLS handshake");

    // The tracker works and lists the seeder, but never heard of ferrent.
    let hash = &swarm.fx.torrent.info.info_hash;
    let seeder = swarm.seeder.addr();
    let listed = wait_until(LISTED, "opentracker to list the seeder", || {
        let peers = probe(swarm.fx.tracker.addr.port, hash);
        peers.contains(&seeder).then_some(peers)
    });
    assert!(!listed.contains(&local(port)), "opentracker lists ferrent: {listed:?}");

    assert!(ferrent.proc.try_status().is_none(), "ferrent exited on a tracker error");
    let events = ferrent.events();
    assert!(
        !events.iter().any(|e| matches!(e, Event::Done { .. })),
        "ferrent finished without a tracker: {events:?}"
    );
    ferrent
}
