//! Engines talking to each other and to scripted misbehaving peers, with no sockets: the
//! test plays the driver, moving messages and answering verification requests.

use bytes::Bytes;
use ferrent_core::{Bitfield, Lengths};
use ferrent_proto::{Action, Engine, EngineConfig, PeerError, PeerInfo, PeerKey};
use ferrent_wire::{BlockInfo, Message};
use sha1::{Digest, Sha1};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

const PIECE: u64 = 32 * 1024;

fn peer_info(fast: bool) -> PeerInfo {
    PeerInfo { addr: "127.0.0.1:6881".parse().unwrap(), outgoing: true, fast, extensions: false }
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn hashes(data: &[u8]) -> Vec<[u8; 20]> {
    data.chunks(PIECE as usize).map(|c| Sha1::digest(c).into()).collect()
}

/// One simulated node: an engine plus the bytes it holds.
struct Node {
    engine: Engine,
    data: Vec<u8>,
    hashes: Vec<[u8; 20]>,
    disconnects: Vec<(PeerKey, PeerError)>,
}

impl Node {
    fn new(content: &[u8], have_all: bool, seed: u64) -> Self {
        let lengths = Lengths::new(content.len() as u64, PIECE).unwrap();
        let n = lengths.piece_count();
        let have = if have_all { Bitfield::full(n) } else { Bitfield::new(n) };
        let data = if have_all { content.to_vec() } else { vec![0; content.len()] };
        Self {
            engine: Engine::new(lengths, have, EngineConfig::default(), seed),
            data,
            hashes: hashes(content),
            disconnects: vec![],
        }
    }

    /// Carries out the engine's actions; returns messages for the other side.
    fn drive(&mut self, now: Instant) -> Vec<Message> {
        let mut out = Vec::new();
        let mut verify = VecDeque::new();
        loop {
            while let Some(action) = self.engine.poll_action() {
                match action {
                    Action::Send(_, m) => out.push(m),
                    Action::Discovered(_) => {}
                    Action::Disconnect(k, e) => self.disconnects.push((k, e)),
                    Action::Verify(piece, blocks) => verify.push_back((piece, blocks)),
                    Action::Read(k, block) => {
                        let ready = self.engine.upload_ready(k, &block);
                        self.engine.upload_done(k);
                        if ready {
                            let start = (u64::from(block.piece.get()) * PIECE) as usize
                                + block.offset as usize;
                            let bytes = self.data[start..start + block.len as usize].to_vec();
                            out.push(Message::Piece {
                                index: block.piece.get(),
                                begin: block.offset,
                                data: bytes.into(),
                            });
                        }
                    }
                }
            }
            let Some((piece, blocks)) = verify.pop_front() else { return out };
            let joined: Vec<u8> = blocks.iter().flat_map(|b| b.iter().copied()).collect();
            let good = <[u8; 20]>::from(Sha1::digest(&joined)) == self.hashes[piece.as_usize()];
            if good {
                let start = (u64::from(piece.get()) * PIECE) as usize;
                self.data[start..start + joined.len()].copy_from_slice(&joined);
            }
            self.engine.handle_verified(piece, good, now);
        }
    }
}

/// Runs two nodes until neither has anything to say; returns the rounds taken.
fn exchange(a: &mut Node, b: &mut Node, now: &mut Instant, max_rounds: usize) -> usize {
    for round in 0..max_rounds {
        let to_b = a.drive(*now);
        let to_a = b.drive(*now);
        if to_a.is_empty() && to_b.is_empty() {
            *now += Duration::from_secs(1);
            a.engine.handle_tick(*now);
            b.engine.handle_tick(*now);
            if a.engine.is_complete() && b.engine.is_complete() {
                return round;
            }
        }
        for m in to_b {
            b.engine.handle_message(1, m, *now);
        }
        for m in to_a {
            a.engine.handle_message(1, m, *now);
        }
    }
    max_rounds
}

#[test]
fn leecher_gets_everything_from_seeder() {
    let content = data(10 * PIECE as usize + 1234);
    let mut now = Instant::now();
    for fast in [false, true] {
        let mut seeder = Node::new(&content, true, 1);
        let mut leecher = Node::new(&content, false, 2);
        seeder.engine.add_peer(1, peer_info(fast), now);
        leecher.engine.add_peer(1, peer_info(fast), now);
        let rounds = exchange(&mut seeder, &mut leecher, &mut now, 1000);
        assert!(rounds < 1000, "did not finish");
        assert!(leecher.engine.is_complete());
        assert_eq!(leecher.data, content);
        assert_eq!(leecher.engine.transferred().downloaded, content.len() as u64);
        assert_eq!(seeder.engine.transferred().uploaded, content.len() as u64);
        assert_eq!(leecher.engine.transferred().wasted, 0);
    }
}

#[test]
fn an_idle_engine_rebuilds_without_losing_pieces_or_counts() {
    let content = data(4 * PIECE as usize);
    let mut now = Instant::now();
    let mut seeder = Node::new(&content, true, 1);
    let mut leecher = Node::new(&content, false, 2);
    seeder.engine.add_peer(1, peer_info(true), now);
    leecher.engine.add_peer(1, peer_info(true), now);
    assert!(!leecher.engine.is_idle(), "a peer is connected");
    assert!(exchange(&mut seeder, &mut leecher, &mut now, 1000) < 1000, "did not finish");
    leecher.engine.remove_peer(1);
    while leecher.engine.poll_action().is_some() {}
    assert!(leecher.engine.is_idle());
    let lengths = leecher.engine.lengths();
    let (have, transferred) = leecher.engine.into_have();
    assert_eq!(have.count(), lengths.piece_count());
    assert_eq!(transferred.downloaded, content.len() as u64);
    let mut rebuilt = Engine::new(lengths, have, EngineConfig::default(), 9);
    rebuilt.set_transferred(transferred);
    assert!(rebuilt.is_complete());
    assert_eq!(rebuilt.transferred(), transferred);
}

fn leecher_with_peer(content: &[u8], now: Instant) -> Node {
    let mut leecher = Node::new(content, false, 3);
    leecher.engine.add_peer(1, peer_info(false), now);
    leecher
}

#[test]
fn wrong_length_bitfield_drops_peer() {
    let content = data(10 * PIECE as usize);
    let now = Instant::now();
    let mut leecher = leecher_with_peer(&content, now);
    leecher.engine.handle_message(1, Message::Bitfield(Bytes::from_static(&[0xff])), now);
    leecher.drive(now);
    assert!(matches!(leecher.disconnects[..], [(1, PeerError::BadBitfield(_))]));
    assert_eq!(leecher.engine.peer_count(), 0);
}

#[test]
fn unrequested_block_drops_peer() {
    let content = data(4 * PIECE as usize);
    let now = Instant::now();
    let mut leecher = leecher_with_peer(&content, now);
    let block = Message::Piece { index: 0, begin: 0, data: content[..16384].to_vec().into() };
    leecher.engine.handle_message(1, block, now);
    leecher.drive(now);
    assert_eq!(leecher.disconnects, vec![(1, PeerError::Unrequested { index: 0, begin: 0 })]);
}

#[test]
fn corrupt_pieces_get_the_peer_banned_and_nothing_bad_is_kept() {
    let content = data(8 * PIECE as usize);
    let mut now = Instant::now();
    let mut leecher = leecher_with_peer(&content, now);
    leecher.engine.handle_message(1, Message::Bitfield(vec![0xff].into()), now);
    leecher.engine.handle_message(1, Message::Unchoke, now);
    for _ in 0..20 {
        let out = leecher.drive(now);
        if !leecher.disconnects.is_empty() {
            break;
        }
        for m in out {
            if let Message::Request(BlockInfo { index, begin, length }) = m {
                let junk = vec![0xAA; length as usize].into();
                leecher.engine.handle_message(1, Message::Piece { index, begin, data: junk }, now);
            }
        }
        now += Duration::from_millis(10);
    }
    assert_eq!(leecher.disconnects, vec![(1, PeerError::Banned(3))]);
    assert_eq!(leecher.engine.have().count(), 0);
    assert!(leecher.data.iter().all(|&b| b == 0));
}

#[test]
fn hostile_requests_are_refused() {
    let content = data(4 * PIECE as usize);
    let now = Instant::now();
    let cases: Vec<(Message, PeerError)> = vec![
        (
            Message::Request(BlockInfo { index: 9, begin: 0, length: 16384 }),
            PeerError::BadRequest { index: 9, begin: 0, len: 16384 },
        ),
        (
            Message::Request(BlockInfo { index: 0, begin: 0, length: 1 << 20 }),
            PeerError::BadRequest { index: 0, begin: 0, len: 1 << 20 },
        ),
        (
            Message::Request(BlockInfo { index: 0, begin: 32760, length: 16384 }),
            PeerError::BadRequest { index: 0, begin: 32760, len: 16384 },
        ),
    ];
    for (message, error) in cases {
        let mut seeder = Node::new(&content, true, 4);
        seeder.engine.add_peer(1, peer_info(false), now);
        seeder.engine.handle_message(1, Message::Interested, now);
        seeder.engine.handle_message(1, message, now);
        seeder.drive(now);
        assert_eq!(seeder.disconnects, vec![(1, error)]);
    }
    // A flood: more requests than allowed at once.
    let mut seeder = Node::new(&content, true, 4);
    seeder.engine.add_peer(1, peer_info(false), now);
    seeder.engine.handle_message(1, Message::Interested, now);
    seeder.drive(now);
    for i in 0..10_000u32 {
        let begin = (i % 2) * 16384;
        let index = (i / 2) % 4;
        // Different (index, begin) pairs repeat, so make each request unique by length.
        let length = 16384 - (i / 8) % 16000;
        seeder.engine.handle_message(1, Message::Request(BlockInfo { index, begin, length }), now);
    }
    let _ = seeder.drive(now);
    assert!(
        seeder.disconnects.iter().any(|(_, e)| matches!(e, PeerError::RequestFlood(_))),
        "flood not detected: {:?}",
        seeder.disconnects
    );
}

#[test]
fn requests_while_choked_are_ignored_or_rejected() {
    let content = data(4 * PIECE as usize);
    let now = Instant::now();
    for fast in [false, true] {
        let mut seeder = Node::new(&content, true, 5);
        seeder.engine.add_peer(1, peer_info(fast), now);
        seeder.drive(now);
        let req = BlockInfo { index: 0, begin: 0, length: 16384 };
        seeder.engine.handle_message(1, Message::Request(req), now);
        let out = seeder.drive(now);
        assert!(seeder.disconnects.is_empty());
        assert!(!out.iter().any(|m| matches!(m, Message::Piece { .. })));
        assert_eq!(out.iter().any(|m| matches!(m, Message::Reject(_))), fast);
    }
}

#[test]
fn stalled_peer_loses_its_requests_to_another() {
    let content = data(2 * PIECE as usize);
    let mut now = Instant::now();
    let mut leecher = Node::new(&content, false, 6);
    for key in [1, 2] {
        leecher.engine.add_peer(key, peer_info(false), now);
        leecher.engine.handle_message(key, Message::Bitfield(vec![0xc0].into()), now);
    }
    let requests_to = |actions: &[Action], key: PeerKey| {
        actions
            .iter()
            .filter(|a| matches!(a, Action::Send(k, Message::Request(_)) if *k == key))
            .count()
    };
    leecher.engine.handle_message(1, Message::Unchoke, now);
    let first: Vec<_> = std::iter::from_fn(|| leecher.engine.poll_action()).collect();
    assert_eq!(requests_to(&first, 1), 4);
    // Peer 1 sends nothing for longer than the request timeout: it is snubbed and keeps
    // a single request; the rest become free for others.
    now += Duration::from_secs(21);
    leecher.engine.handle_tick(now);
    let after: Vec<_> = std::iter::from_fn(|| leecher.engine.poll_action()).collect();
    assert_eq!(requests_to(&after, 1), 1);
    assert!(leecher.engine.peer_stats(1).unwrap().snubbed);
    leecher.engine.handle_message(2, Message::Unchoke, now);
    let second: Vec<_> = std::iter::from_fn(|| leecher.engine.poll_action()).collect();
    assert_eq!(requests_to(&second, 2), 4);
}

#[test]
fn requests_pause_while_the_disk_is_behind() {
    let content = data(8 * PIECE as usize);
    let now = Instant::now();
    let lengths = Lengths::new(content.len() as u64, PIECE).unwrap();
    // One piece may wait for verification; a second complete piece stops requesting.
    let config = EngineConfig {
        max_verifying_bytes: PIECE,
        min_queue: 2,
        max_queue: 2,
        ..EngineConfig::default()
    };
    let mut engine = Engine::new(lengths, Bitfield::new(8), config, 11);
    engine.add_peer(1, peer_info(false), now);
    engine.handle_message(1, Message::Bitfield(vec![0xff].into()), now);
    engine.handle_message(1, Message::Unchoke, now);
    let mut verifying = Vec::new();
    for _ in 0..10 {
        let actions: Vec<Action> = std::iter::from_fn(|| engine.poll_action()).collect();
        let requests: Vec<BlockInfo> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Send(1, Message::Request(info)) => Some(*info),
                _ => None,
            })
            .collect();
        verifying.extend(actions.into_iter().filter_map(|a| match a {
            Action::Verify(piece, _) => Some(piece),
            _ => None,
        }));
        if requests.is_empty() {
            break;
        }
        for BlockInfo { index, begin, length } in requests {
            let at = (u64::from(index) * PIECE) as usize + begin as usize;
            let data = content[at..at + length as usize].to_vec().into();
            engine.handle_message(1, Message::Piece { index, begin, data }, now);
        }
    }
    assert_eq!(verifying.len(), 1, "requests must stop once a piece awaits the disk");
    engine.handle_verified(verifying[0], true, now);
    let resumed = std::iter::from_fn(|| engine.poll_action())
        .filter(|a| matches!(a, Action::Send(1, Message::Request(_))))
        .count();
    assert_eq!(resumed, 2, "requests resume once the disk caught up");
}
