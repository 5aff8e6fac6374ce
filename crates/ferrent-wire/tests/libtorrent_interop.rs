//! Talks to a real libtorrent 2.0 seed over loopback with nothing but this crate: the
//! handshake, libtorrent's opening messages, our requests and its piece data must all agree.
//!
//! Needs Debian's `/usr/bin/python3` with python3-libtorrent and `mktorrent`; the seed is
//! the project's `tests/peers/lt_peer.py`, bound to 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use ferrent_wire::{BlockInfo, Decoder, Handshake, Message, PeerId};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

const PIECE_LEN: usize = 32 * 1024;
/// Four pieces, the last one 1 696 bytes long.
const TOTAL_LEN: usize = 100_000;
const PATIENCE: Duration = Duration::from_secs(30);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The libtorrent seed process, killed when dropped.
struct Seed(Child);

impl Drop for Seed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Makes the payload and its torrent in `dir`; returns the payload and its info hash.
fn make_torrent(dir: &Path) -> (Vec<u8>, [u8; 20]) {
    let mut payload = vec![0; TOTAL_LEN];
    StdRng::seed_from_u64(0x5eed).fill_bytes(&mut payload);
    let data = dir.join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("payload.bin"), &payload).unwrap();
    let torrent = dir.join("payload.torrent");
    let status = Command::new("mktorrent")
        .args(["-l", "15", "-o"])
        .arg(&torrent)
        .arg(data.join("payload.bin"))
        .stdout(Stdio::null())
        .status()
        .expect("mktorrent is installed");
    assert!(status.success());

    let info = Command::new("/usr/bin/python3")
        .arg(repo_root().join("tests/peers/lt_peer.py"))
        .arg("info")
        .arg(&torrent)
        .output()
        .expect("python3 with libtorrent is installed");
    assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    let mut info_hash = [0; 20];
    hex::decode_to_slice(info["info_hash"].as_str().unwrap(), &mut info_hash).unwrap();
    (payload, info_hash)
}

/// Starts the seed on a free loopback port and waits until it has checked the data.
fn start_seed(dir: &Path) -> (Seed, u16) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new("/usr/bin/python3")
        .arg(repo_root().join("tests/peers/lt_peer.py"))
        .arg("seed")
        .arg("--torrent")
        .arg(dir.join("payload.torrent"))
        .arg("--data")
        .arg(dir.join("data"))
        .args(["--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 with libtorrent is installed");
    let stdout = child.stdout.take().unwrap();
    let seed = Seed(child);
    let (ready_tx, ready_rx) = mpsc::channel();
    // Drains the status lines for as long as the seed runs.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("READY") {
                let _ = ready_tx.send(line);
            }
        }
    });
    let ready = ready_rx.recv_timeout(PATIENCE).expect("the seed checks its data");
    assert!(ready.starts_with("READY have=4 total=4"), "{ready}");
    (seed, port)
}

/// Reads until the decoder yields a message, or panics after [`PATIENCE`].
fn next_message(stream: &mut TcpStream, decoder: &mut Decoder, buf: &mut BytesMut) -> Message {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(message) = decoder.decode(buf).unwrap() {
            return message;
        }
        assert!(Instant::now() < deadline, "no message from libtorrent");
        let mut chunk = vec![0; decoder.wanted(buf).max(4096)];
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "libtorrent closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[test]
fn a_libtorrent_seed_understands_us_and_we_understand_it() {
    let dir = tempfile::tempdir().unwrap();
    let (payload, info_hash) = make_torrent(dir.path());
    let (_seed, port) = start_seed(dir.path());

    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let ours = Handshake::new(info_hash, PeerId::generate(&mut StdRng::seed_from_u64(1)).0);
    stream.write_all(&ours.encode()).unwrap();

    let mut theirs = [0; Handshake::LEN];
    stream.read_exact(&mut theirs).unwrap();
    let theirs = Handshake::decode(&theirs).unwrap();
    assert_eq!(theirs.info_hash, info_hash);
    assert!(theirs.reserved.extension_protocol() && theirs.reserved.fast());
    let client = PeerId(theirs.peer_id).client_name().unwrap_or_default();
    assert!(client.starts_with("libtorrent (Rasterbar) 2.0"), "{client:?}");

    let mut out = BytesMut::new();
    Message::HaveNone.encode(&mut out);
    Message::Interested.encode(&mut out);
    stream.write_all(&out).unwrap();

    // libtorrent opens with its extension handshake and, being a seed, have-all; it unchokes
    // us once it sees our interest.
    let mut decoder = Decoder::for_piece_count(4);
    let mut buf = BytesMut::new();
    let (mut extended, mut has_all, mut unchoked) = (false, false, false);
    while !(extended && has_all && unchoked) {
        match next_message(&mut stream, &mut decoder, &mut buf) {
            Message::Extended { id: 0, payload } => {
                assert!(payload.starts_with(b"d") && payload.windows(4).any(|w| w == b"1:md"));
                extended = true;
            }
            Message::HaveAll => has_all = true,
            Message::Unchoke => unchoked = true,
            Message::AllowedFast { index } => assert!(index < 4),
            other => panic!("unexpected opening message {other:?}"),
        }
    }

    let blocks = [
        BlockInfo { index: 0, begin: 0, length: 16_384 },
        BlockInfo { index: 1, begin: 16_384, length: 16_384 },
        BlockInfo { index: 3, begin: 0, length: (TOTAL_LEN - 3 * PIECE_LEN) as u32 },
    ];
    let mut out = BytesMut::new();
    for block in blocks {
        ferrent_wire::encode_request(block, &mut out);
    }
    Message::KeepAlive.encode(&mut out);
    stream.write_all(&out).unwrap();

    let mut received = Vec::new();
    while received.len() < blocks.len() {
        match next_message(&mut stream, &mut decoder, &mut buf) {
            Message::Piece { index, begin, data } => received.push((index, begin, data)),
            // A seed may repeat its unchoke; a reject or choke would fail the test.
            Message::KeepAlive
            | Message::Unchoke
            | Message::AllowedFast { .. }
            | Message::Suggest { .. } => {}
            other => panic!("unexpected message {other:?} while waiting for pieces"),
        }
    }
    for block in blocks {
        let (_, _, data) = received
            .iter()
            .find(|(index, begin, _)| (*index, *begin) == (block.index, block.begin))
            .unwrap_or_else(|| panic!("no data for {block:?}"));
        let start = block.index as usize * PIECE_LEN + block.begin as usize;
        assert_eq!(data[..], payload[start..start + block.length as usize], "{block:?}");
    }
}
