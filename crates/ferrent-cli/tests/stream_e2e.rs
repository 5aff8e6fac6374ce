//! Streaming while downloading, end to end: `GET /api/v1/torrents/{id}/files/{index}/stream`
//! of a `ferrent daemon` on 127.0.0.1 whose only source is a libtorrent seeder capped at
//! 2 MiB/s, so the 32 MiB download takes a while.
//!
//! Byte ranges at the start, middle and end of the file are answered with the source's
//! bytes while most of the file is still missing; a sequential reader of the first half
//! finishes while the torrent is far from complete (a rarest-first order would have needed
//! nearly all of it), and its first bytes arrive while most pieces are missing. Once
//! complete: the whole file (200), HEAD, If-Range, 416 and the errors.
//!
//! `ferrent download --sequential` (the same order for a whole download) is watched on
//! disk: the verified pieces stay a prefix of the file, give or take the requests in
//! flight.

mod daemon_support;
mod swarm;

use daemon_support::{valid_pieces, DaemonProc};
use ferrent_daemon::model::State;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use swarm::ferrent::Ferrent;
use swarm::fixture::{Fixture, Shape, SEED_READY};
use swarm::payload::{Payload, Torrent};
use swarm::peers::{Peer, Role};
use swarm::tracker::TrackerAddr;
use swarm::{wait_until, Scratch};

/// The file: 32 MiB and a bit, in 256 KiB pieces (129 pieces).
const FILE_LEN: u64 = (32 << 20) + 12_345;
const PIECE_LOG2: u32 = 18;
/// The seeder's upload cap: about 16 s for the whole file.
const SEED_RATE: u64 = 2 << 20;
/// Upper bound for any one answer.
const ANSWER: Duration = Duration::from_secs(60);

/// An HTTP answer, with when its body started and ended.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    first_byte: Option<Instant>,
    done: Instant,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json_code(&self) -> String {
        let value: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_default();
        value["error"]["code"].as_str().unwrap_or_default().to_owned()
    }
}

/// A minimal HTTP/1.1 exchange over a fresh connection, reading the body as it arrives.
fn http(base: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect to the daemon");
    stream.set_read_timeout(Some(ANSWER)).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).expect("status line");
    let status = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status code");
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("header line");
        let text = line.trim_end();
        if text.is_empty() {
            break;
        }
        let (name, value) = text.split_once(':').expect("header name: value");
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut reply =
        Reply { status, headers, body: Vec::new(), first_byte: None, done: Instant::now() };
    if method != "HEAD" {
        let mut buf = vec![0; 1 << 16];
        loop {
            let n = reader.read(&mut buf).expect("read the body");
            if n == 0 {
                break;
            }
            reply.first_byte.get_or_insert_with(Instant::now);
            reply.body.extend_from_slice(&buf[..n]);
        }
        if let Some(len) = reply.header("content-length") {
            assert_eq!(
                reply.body.len().to_string(),
                len,
                "{method} {path}: body shorter than announced"
            );
        }
    }
    reply.done = Instant::now();
    reply
}

/// Verified fraction of torrent `id` right now, and whether it is complete.
fn progress(daemon: &DaemonProc, id: &str) -> (f64, u32, u32) {
    let t = daemon.list().into_iter().find(|t| t.id == id).expect("the torrent is listed");
    (f64::from(t.pieces_have) / f64::from(t.pieces_total.max(1)), t.pieces_have, t.pieces_total)
}

#[test]
fn ranges_and_sequential_reads_while_downloading() {
    let scratch = Scratch::new("stream-e2e");
    let payload = Payload::single(&scratch.subdir("source"), "movie.mp4", FILE_LEN, 0x57ea);
    let tracker_addr = TrackerAddr::pick();
    let torrent = Torrent::make(
        &payload,
        &scratch.path().join("movie.torrent"),
        PIECE_LOG2,
        &[tracker_addr.http()],
    );
    let _tracker = tracker_addr.start(&scratch.subdir("tracker"), &[&torrent.info.info_hash]);
    let mut seeder =
        Peer::libtorrent(Role::Seed, &torrent, &payload.parent).upload_limit(SEED_RATE).spawn();
    seeder.wait_ready(SEED_READY);
    let source = std::fs::read(payload.target()).unwrap();
    let len = source.len();
    let mut daemon = DaemonProc::start(&scratch.subdir("daemon"), "");

    let added_at = Instant::now();
    let added = daemon.cli_json(&["add", torrent.path.to_str().unwrap()]);
    let id = added[0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/torrents/{id}/files/0/stream");
    let url = daemon.url.clone();
    // While it is checking its (empty) directory the file cannot be read yet: 409.
    wait_until(Duration::from_secs(20), "the stream to open", || {
        let head = http(&url, "HEAD", &path, &[]);
        assert!(matches!(head.status, 200 | 409), "HEAD while starting: {}", head.status);
        (head.status == 200).then_some(head)
    });

    // Ranges at the start, middle and end, while most of the file is missing.
    let middle = len / 2 + 1000;
    let cases: [(String, usize, usize); 3] = [
        ("bytes=0-65535".into(), 0, 65_536),
        (format!("bytes={middle}-{}", middle + 199_999), middle, middle + 200_000),
        ("bytes=-5000".into(), len - 5000, len),
    ];
    for (range, start, end) in &cases {
        let reply = http(&url, "GET", &path, &[("Range", range)]);
        assert_eq!(reply.status, 206, "{range}: {}", String::from_utf8_lossy(&reply.body));
        assert_eq!(
            reply.header("content-range"),
            Some(format!("bytes {start}-{}/{len}", end - 1).as_str())
        );
        assert_eq!(reply.header("accept-ranges"), Some("bytes"));
        assert_eq!(reply.header("content-type"), Some("video/mp4"));
        assert!(reply.body == source[*start..*end], "{range}: the bytes differ from the source");
    }
    let (fraction, have, total) = progress(&daemon, &id);
    println!("after the three ranges: {have}/{total} pieces, {:?} since added", added_at.elapsed());
    assert!(
        fraction < 0.5,
        "the ranges should be served long before the download ends ({have}/{total})"
    );

    // Past the end: 416 with the length.
    let past = http(&url, "GET", &path, &[("Range", &format!("bytes={len}-"))]);
    assert_eq!(past.status, 416);
    assert_eq!(past.header("content-range"), Some(format!("bytes */{len}").as_str()));
    assert_eq!(past.json_code(), "range_not_satisfiable");

    // A sequential reader of the first half, from the start.
    let half = len / 2;
    let began = Instant::now();
    let (_, have_at_start, _) = progress(&daemon, &id);
    let reply = http(&url, "GET", &path, &[("Range", &format!("bytes=0-{}", half - 1))]);
    let (fraction_done, have_done, _) = progress(&daemon, &id);
    assert_eq!(reply.status, 206);
    assert!(reply.body == source[..half], "the first half differs from the source");
    let first = reply.first_byte.expect("a body").duration_since(began);
    let read = reply.done.duration_since(began);
    daemon.wait_state(&id, State::Seeding, Duration::from_secs(120));
    let complete = began.elapsed();
    println!(
        "sequential read of the first half: first bytes after {first:?} ({have_at_start}/{total} \
         pieces when it began), done after {read:?} with {have_done}/{total} pieces; \
         the whole torrent after {complete:?}"
    );
    // Rarest-first (or any order blind to the reader) has the first half's pieces only
    // near the very end; the stream had them with much of the file still to come.
    assert!(fraction_done < 0.8, "the first half was read only at {have_done}/{total} pieces");
    assert!(
        read.as_secs_f64() < complete.as_secs_f64() * 0.85,
        "read {read:?}, complete {complete:?}"
    );

    // Complete: the whole file, HEAD, validators.
    let full = http(&url, "GET", &path, &[]);
    assert_eq!(full.status, 200);
    assert_eq!(full.header("content-length"), Some(len.to_string().as_str()));
    assert!(full.body == source, "the whole file differs from the source");
    let etag = full.header("etag").expect("an entity tag").to_owned();
    assert_eq!(full.header("x-content-type-options"), Some("nosniff"));
    assert!(full.header("content-disposition").is_some_and(|v| v.contains("movie.mp4")));
    let head = http(&url, "HEAD", &path, &[]);
    assert_eq!((head.status, head.body.len()), (200, 0));
    assert_eq!(head.header("content-length"), Some(len.to_string().as_str()));
    let same = http(&url, "GET", &path, &[("Range", "bytes=10-19"), ("If-Range", &etag)]);
    assert_eq!((same.status, &same.body[..]), (206, &source[10..20]));
    let changed = http(&url, "GET", &path, &[("Range", "bytes=10-19"), ("If-Range", "\"other\"")]);
    assert_eq!((changed.status, changed.body.len()), (200, len));

    // With its seeder gone the torrent sleeps, and streaming it does not wake it.
    drop(seeder);
    daemon.wait_metric("ferrent_sleeping_torrents", 1, Duration::from_secs(25));
    let again = http(&url, "GET", &path, &[]);
    assert!(again.status == 200 && again.body == source, "a sleeping torrent streams");
    assert_eq!(daemon.metric("ferrent_sleeping_torrents"), 1, "streaming woke the torrent");

    // Errors: no such file, a bad index, a torrent without metadata yet.
    let missing = http(&url, "GET", &format!("/api/v1/torrents/{id}/files/1/stream"), &[]);
    assert_eq!((missing.status, missing.json_code().as_str()), (404, "not_found"));
    let bad = http(&url, "GET", &format!("/api/v1/torrents/{id}/files/x/stream"), &[]);
    assert_eq!(bad.status, 400);
    let lonely = "magnet:?xt=urn:btih:5e1f7e5ad1f1c0ffee0ddba11dec0de5eed5eed5&dn=lonely";
    let magnet = daemon.cli_json(&["add", lonely]);
    let magnet_id = magnet[0]["id"].as_str().unwrap();
    let waiting = http(&url, "GET", &format!("/api/v1/torrents/{magnet_id}/files/0/stream"), &[]);
    assert_eq!((waiting.status, waiting.json_code().as_str()), (409, "conflict"));
}

#[test]
fn download_sequential_fetches_pieces_in_order() {
    // 8 MiB in 64 KiB pieces (129 pieces) from a seeder capped at 1 MiB/s: about 8 s.
    let fx =
        Fixture::with_piece_log2("stream-sequential", Shape::Single((8 << 20) + 1234), 16, |t| {
            vec![t.http()]
        });
    let mut seeder =
        Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).upload_limit(1 << 20).spawn();
    seeder.wait_ready(SEED_READY);
    let out = fx.out_dir("out");
    let mut run =
        Ferrent::download(&fx.torrent.path, &out).arg("--sequential").spawn("ferrent-seq");
    let total = fx.torrent.info.num_pieces as usize;
    let (mut samples, mut worst) = (0, (0, 0, 0));
    while run.proc.try_status().is_none() {
        let bits = valid_pieces(&fx.torrent.path, &out);
        let have = bits.iter().filter(|b| **b).count();
        let end = bits.iter().rposition(|b| *b).map_or(0, |i| i + 1);
        // Pieces missing below the furthest one verified: zero for a perfect prefix.
        let holes = end - have;
        if have > total / 10 && have < total * 9 / 10 {
            samples += 1;
            worst = worst.max((holes, have, end));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    run.wait_success(Duration::from_secs(5));
    fx.payload.assert_complete_in(&out);
    let (holes, have, end) = worst;
    println!("{samples} samples mid-download; at worst {holes} holes ({have} verified, up to piece {end})");
    assert!(samples >= 5, "the download was too quick to watch ({samples} samples)");
    // Rarest first would leave about half the pieces below the furthest one missing.
    assert!(holes <= 16, "not sequential: {holes} holes below piece {end} with {have} verified");
}
