//! Magnet links: fetching the info dictionary from peers (BEP 9) before a download starts.
//!
//! Connections made here are only for metadata: once the info dictionary is assembled and
//! its SHA-1 matches the info hash, they close and the torrent starts as if from a
//! .torrent file, with every address learnt so far in its address book.
//!
//! Each peer's pieces are assembled apart from every other peer's: a peer that lies about
//! the size or sends bad bytes only ever spoils its own copy, so one honest peer is enough
//! however many hostile ones answer first.

use crate::error::SessionError;
use crate::peer::exchange_handshakes;
use crate::session::{Session, SessionShared};
use crate::tracker::{AnnounceConfig, TrackerEvent, TransferStats};
use bytes::{Bytes, BytesMut};
use ferrent_core::{InfoHashV1, Magnet, Metainfo, PeerAddr};
use ferrent_proto::extension::{ExtHandshake, HANDSHAKE_ID, UT_METADATA};
use ferrent_proto::metadata::{MetadataAssembler, MetadataMessage};
use ferrent_wire::{Decoder, Handshake, Message};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Peers asked for metadata at once.
const PARALLEL: usize = 8;
/// Time one peer gets to deliver what it was asked.
const PEER_TIMEOUT: Duration = Duration::from_secs(15);
/// Times one address is tried before it is given up: a peer may not be listening yet, or
/// may not have the metadata itself yet.
const MAX_ATTEMPTS: u32 = 6;
/// The wait before the second attempt; it doubles with each further one.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// What the peers of one magnet fetch share.
struct Fetch {
    info_hash: InfoHashV1,
    done: Mutex<Option<Vec<u8>>>,
}

/// Metadata requests kept in flight per peer.
const PIPELINE: usize = 4;

/// The result of [`Session::fetch_metadata`]: the torrent, and every peer address seen.
pub struct FetchedMetadata {
    /// The verified metainfo (trackers from the magnet link).
    pub metainfo: Metainfo,
    /// Addresses learnt on the way, worth giving to the download.
    pub peers: Vec<SocketAddr>,
}

impl Session {
    /// Fetches a magnet link's info dictionary from its `x.pe` peers, `extra_peers`, its
    /// trackers (unless `no_trackers`) and the DHT (when the session runs it), giving up
    /// after `timeout`.
    pub async fn fetch_metadata(
        &self,
        magnet: &Magnet,
        extra_peers: &[SocketAddr],
        no_trackers: bool,
        timeout: Duration,
    ) -> Result<FetchedMetadata, SessionError> {
        let info_hash = magnet.info_hashes.v1.ok_or(SessionError::V2Only)?;
        let shared = self.shared();
        let (addr_tx, mut addr_rx) = mpsc::unbounded_channel::<SocketAddr>();
        for addr in extra_peers {
            let _ = addr_tx.send(*addr);
        }
        for peer in &magnet.peers {
            match peer {
                PeerAddr::Socket(addr) => {
                    let _ = addr_tx.send(*addr);
                }
                PeerAddr::Host { host, port } => {
                    if let Ok(addrs) = tokio::net::lookup_host((host.as_str(), *port)).await {
                        addrs.for_each(|a| {
                            let _ = addr_tx.send(a);
                        });
                    }
                }
            }
        }
        let trackers: Vec<Vec<String>> = magnet.trackers.iter().map(|t| vec![t.clone()]).collect();
        let announcer = (!no_trackers && !trackers.is_empty()).then(|| {
            let forward = addr_tx.clone();
            shared.trackers.add(
                AnnounceConfig {
                    info_hash,
                    peer_id: shared.peer_id,
                    port: shared.listen_port,
                    tiers: trackers.clone(),
                    numwant: shared.config.numwant,
                    udp_retransmit_base: shared.config.udp_retransmit_base,
                },
                // Size unknown yet: report one byte left so trackers treat us as a leecher.
                Arc::new(|| TransferStats { uploaded: 0, downloaded: 0, left: 1 }),
                move |event| {
                    if let TrackerEvent::Peers(peers) = event {
                        peers.into_iter().for_each(|a| {
                            let _ = forward.send(a);
                        });
                    }
                },
            )
        });
        if let Some(dht) = &shared.dht {
            let mut found = dht.get_peers(info_hash);
            let forward = addr_tx.clone();
            tokio::spawn(async move {
                while let Some(addr) = found.recv().await {
                    if forward.send(addr).is_err() {
                        break;
                    }
                }
            });
        }
        let fetch = Arc::new(Fetch { info_hash, done: Mutex::new(None) });
        // Every address seen, with the attempts made on it so far.
        let mut attempts: HashMap<SocketAddr, u32> = HashMap::new();
        let mut running = tokio::task::JoinSet::new();
        let mut backing_off = tokio::task::JoinSet::new();
        let mut queue = Vec::new();
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let result = loop {
            while running.len() < PARALLEL {
                let Some(addr) = queue.pop() else { break };
                *attempts.entry(addr).or_default() += 1;
                running.spawn(fetch_from(shared.clone(), fetch.clone(), addr));
            }
            if let Some(bytes) = fetch.done.lock().take() {
                break Ok(bytes);
            }
            tokio::select! {
                _ = &mut deadline => break Err(SessionError::MetadataTimeout(timeout)),
                Some(addr) = addr_rx.recv() => {
                    if let std::collections::hash_map::Entry::Vacant(new) = attempts.entry(addr) {
                        new.insert(0);
                        queue.push(addr);
                    }
                }
                Some(joined) = running.join_next(), if !running.is_empty() => {
                    let Ok(Some(addr)) = joined else { continue };
                    let made = attempts.get(&addr).copied().unwrap_or(MAX_ATTEMPTS);
                    if made < MAX_ATTEMPTS {
                        let wait = FIRST_RETRY * (1 << (made - 1).min(5));
                        backing_off.spawn(async move {
                            tokio::time::sleep(wait).await;
                            addr
                        });
                    }
                }
                Some(Ok(addr)) = backing_off.join_next(), if !backing_off.is_empty() => {
                    queue.push(addr);
                }
            }
        };
        backing_off.abort_all();
        running.abort_all();
        if let Some(announcer) = announcer {
            announcer.stop(Duration::from_secs(2)).await;
        }
        let bytes = result?;
        let metainfo = Metainfo::from_info_bytes(&bytes, trackers)
            .map_err(|e| SessionError::BadMetadata(e.to_string()))?;
        Ok(FetchedMetadata { metainfo, peers: attempts.into_keys().collect() })
    }
}

/// A peer's failure, and whether asking it again later may help.
struct Failure {
    reason: String,
    retry: bool,
}

impl From<String> for Failure {
    fn from(reason: String) -> Failure {
        Failure { reason, retry: true }
    }
}

impl From<&str> for Failure {
    fn from(reason: &str) -> Failure {
        reason.to_owned().into()
    }
}

/// A failure that asking again would not mend: the peer's metadata is wrong.
fn spoilt(reason: impl ToString) -> Failure {
    Failure { reason: reason.to_string(), retry: false }
}

/// Asks one peer for metadata until it has given all it can. Returns the address when it
/// failed in a way that may pass (not listening, went quiet, had no metadata yet).
async fn fetch_from(
    shared: Arc<SessionShared>,
    fetch: Arc<Fetch>,
    addr: SocketAddr,
) -> Option<SocketAddr> {
    let result = tokio::time::timeout(PEER_TIMEOUT * 4, talk(&shared, &fetch, addr)).await;
    let failure = match result {
        Ok(Ok(())) => return None,
        Ok(Err(failure)) => failure,
        Err(_) => Failure::from("timed out"),
    };
    tracing::debug!(%addr, reason = %failure.reason, "metadata peer gave up");
    failure.retry.then_some(addr)
}

async fn talk(shared: &SessionShared, fetch: &Fetch, addr: SocketAddr) -> Result<(), Failure> {
    let timeout = shared.config.connect_timeout;
    let mut stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let ours = Handshake {
        reserved: shared.reserved(),
        info_hash: fetch.info_hash.0,
        peer_id: shared.peer_id,
    };
    let theirs =
        exchange_handshakes(&mut stream, &ours, false, timeout).await.map_err(|e| e.to_string())?;
    if theirs.info_hash != fetch.info_hash.0 || !theirs.reserved.extension_protocol() {
        return Err(spoilt("peer lacks the torrent or the extension protocol"));
    }
    let hello = ExtHandshake {
        extensions: vec![("ut_metadata".into(), UT_METADATA)],
        client: Some(concat!("ferrent ", env!("CARGO_PKG_VERSION")).into()),
        ..ExtHandshake::default()
    };
    send(&mut stream, Message::Extended { id: HANDSHAKE_ID, payload: hello.encode().into() })
        .await?;
    let mut decoder = Decoder::default();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut their_id = None;
    let mut assembler: Option<MetadataAssembler> = None;
    let mut in_flight = 0;
    loop {
        if fetch.done.lock().is_some() {
            return Ok(());
        }
        if let (Some(id), Some(asm)) = (their_id, assembler.as_mut()) {
            while in_flight < PIPELINE {
                let Some(piece) = asm.next_request() else { break };
                in_flight += 1;
                let payload = Bytes::from(MetadataMessage::Request { piece }.encode());
                send(&mut stream, Message::Extended { id, payload }).await?;
            }
        }
        let message = next_message(&mut stream, &mut decoder, &mut buf).await?;
        let Message::Extended { id, payload } = message else { continue };
        if id == HANDSHAKE_ID {
            let hs = ExtHandshake::decode(&payload).map_err(spoilt)?;
            their_id =
                Some(hs.id_of("ut_metadata").ok_or_else(|| spoilt("peer has no ut_metadata"))?);
            // No size yet: it may still be fetching the metadata itself.
            let size = hs.metadata_size.ok_or("peer gave no metadata_size")?;
            assembler = Some(MetadataAssembler::new(fetch.info_hash.0, size).map_err(spoilt)?);
        } else if id == UT_METADATA {
            let Some(asm) = assembler.as_mut() else { continue };
            match MetadataMessage::decode(&payload).map_err(spoilt)? {
                MetadataMessage::Data { piece, total_size, data } => {
                    in_flight = in_flight.saturating_sub(1);
                    // Any error (wrong size, bad hash) is this peer's alone: drop it.
                    if let Some(bytes) = asm.receive(piece, total_size, data).map_err(spoilt)? {
                        *fetch.done.lock() = Some(bytes);
                        return Ok(());
                    }
                }
                MetadataMessage::Reject { .. } => {
                    // It may not have the metadata yet itself (another magnet leecher).
                    return Err("peer rejected a metadata request".into());
                }
                MetadataMessage::Request { .. } => {}
            }
        }
    }
}

async fn send(stream: &mut TcpStream, message: Message) -> Result<(), String> {
    let mut out = BytesMut::new();
    message.encode(&mut out);
    stream.write_all(&out).await.map_err(|e| e.to_string())
}

async fn next_message(
    stream: &mut TcpStream,
    decoder: &mut Decoder,
    buf: &mut BytesMut,
) -> Result<Message, Failure> {
    loop {
        if let Some(message) = decoder.decode(buf).map_err(spoilt)? {
            return Ok(message);
        }
        buf.reserve(decoder.wanted(buf).max(16 * 1024));
        let n = tokio::time::timeout(PEER_TIMEOUT, stream.read_buf(buf))
            .await
            .map_err(|_| "peer went quiet")?
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed by peer".into());
        }
    }
}
