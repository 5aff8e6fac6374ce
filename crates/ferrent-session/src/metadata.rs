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
use std::collections::HashSet;
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
        let mut seen = HashSet::new();
        let mut running = tokio::task::JoinSet::new();
        let mut queue = Vec::new();
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let result = loop {
            while running.len() < PARALLEL {
                let Some(addr) = queue.pop() else { break };
                running.spawn(fetch_from(shared.clone(), fetch.clone(), addr));
            }
            if let Some(bytes) = fetch.done.lock().take() {
                break Ok(bytes);
            }
            tokio::select! {
                _ = &mut deadline => break Err(SessionError::MetadataTimeout(timeout)),
                Some(addr) = addr_rx.recv() => {
                    if seen.insert(addr) {
                        queue.push(addr);
                    }
                }
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
        };
        running.abort_all();
        if let Some(announcer) = announcer {
            announcer.stop(Duration::from_secs(2)).await;
        }
        let bytes = result?;
        let metainfo = Metainfo::from_info_bytes(&bytes, trackers)
            .map_err(|e| SessionError::BadMetadata(e.to_string()))?;
        Ok(FetchedMetadata { metainfo, peers: seen.into_iter().collect() })
    }
}

/// Asks one peer for metadata until it has given all it can.
async fn fetch_from(shared: Arc<SessionShared>, fetch: Arc<Fetch>, addr: SocketAddr) {
    let result = tokio::time::timeout(PEER_TIMEOUT * 4, talk(&shared, &fetch, addr)).await;
    if let Ok(Err(reason)) | Err(reason) = result.map_err(|_| "timed out".to_string()) {
        tracing::debug!(%addr, %reason, "metadata peer gave up");
    }
}

async fn talk(shared: &SessionShared, fetch: &Fetch, addr: SocketAddr) -> Result<(), String> {
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
        return Err("peer lacks the torrent or the extension protocol".into());
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
            let hs = ExtHandshake::decode(&payload).map_err(|e| e.to_string())?;
            their_id = Some(hs.id_of("ut_metadata").ok_or("peer has no ut_metadata")?);
            let size = hs.metadata_size.ok_or("peer gave no metadata_size")?;
            assembler =
                Some(MetadataAssembler::new(fetch.info_hash.0, size).map_err(|e| e.to_string())?);
        } else if id == UT_METADATA {
            let Some(asm) = assembler.as_mut() else { continue };
            match MetadataMessage::decode(&payload).map_err(|e| e.to_string())? {
                MetadataMessage::Data { piece, total_size, data } => {
                    in_flight = in_flight.saturating_sub(1);
                    // Any error (wrong size, bad hash) is this peer's alone: drop it.
                    if let Some(bytes) =
                        asm.receive(piece, total_size, data).map_err(|e| e.to_string())?
                    {
                        *fetch.done.lock() = Some(bytes);
                        return Ok(());
                    }
                }
                MetadataMessage::Reject { .. } => {
                    return Err("peer rejected a metadata request".into())
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
) -> Result<Message, String> {
    loop {
        if let Some(message) = decoder.decode(buf).map_err(|e| e.to_string())? {
            return Ok(message);
        }
        buf.reserve(decoder.wanted(buf).max(16 * 1024));
        let n = tokio::time::timeout(PEER_TIMEOUT, stream.read_buf(buf))
            .await
            .map_err(|_| "peer went quiet".to_string())?
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed by peer".into());
        }
    }
}
