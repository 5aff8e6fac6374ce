//! One peer connection: handshake, then a reader and a writer over any byte stream.

use crate::limit::Direction;
use crate::torrent::{Outgoing, Torrent};
use bytes::{Buf, Bytes, BytesMut};
use ferrent_proto::{PeerInfo, PeerKey};
use ferrent_wire::{encode_piece_header, Decoder, Handshake, Message};
use std::io::IoSlice;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// Sent when nothing else was written for this long.
const KEEPALIVE: Duration = Duration::from_secs(90);
/// Reads go into a buffer with at least this much free space.
const READ_CHUNK: usize = 256 * 1024;
/// The writer flushes once this much is queued.
const WRITE_BATCH: usize = 512 * 1024;

/// Sends our handshake and reads theirs, bounded by `timeout`.
pub(crate) async fn exchange_handshakes<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    ours: &Handshake,
    theirs_first: bool,
    timeout: Duration,
) -> std::io::Result<Handshake> {
    tokio::time::timeout(timeout, async {
        let mut buf = [0u8; Handshake::LEN];
        if theirs_first {
            stream.read_exact(&mut buf).await?;
            stream.write_all(&ours.encode()).await?;
        } else {
            stream.write_all(&ours.encode()).await?;
            stream.read_exact(&mut buf).await?;
        }
        Handshake::decode(&buf)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))
    })
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "handshake timed out"))?
}

/// Runs an established connection until either side ends it. Returns whether the
/// connection got as far as being attached to the torrent.
pub(crate) async fn run<S>(
    torrent: Arc<Torrent>,
    stream: S,
    addr: SocketAddr,
    outgoing: bool,
    theirs: Handshake,
) -> bool
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let ours = torrent.session.reserved();
    let info = PeerInfo {
        addr,
        outgoing,
        fast: theirs.reserved.fast() && ours.fast(),
        extensions: theirs.reserved.extension_protocol() && ours.extension_protocol(),
    };
    let Some((key, rx, close)) = torrent.attach(theirs.peer_id, info) else {
        return false;
    };
    if let Some(dht) =
        torrent.session.dht.as_ref().filter(|_| theirs.reserved.dht() && !torrent.private)
    {
        torrent.send_to(key, Message::Port(dht.local_addr().port()));
    }
    let (reader, writer) = tokio::io::split(stream);
    let write_task = tokio::spawn(write_loop(writer, rx, torrent.clone(), key));
    let end = tokio::select! {
        r = read_loop(&torrent, key, reader) => r,
        _ = close.notified() => End::Quiet("closed by us".into()),
    };
    write_task.abort();
    match end {
        End::Quiet(reason) => {
            tracing::debug!(%addr, %reason, "connection ended");
            torrent.detach(key, None);
        }
        End::Violation(reason) => torrent.detach(key, Some(reason)),
    }
    true
}

/// How a connection's reader stopped.
enum End {
    /// Closed, timed out or dropped by the engine (which reported it already).
    Quiet(String),
    /// The peer broke the wire protocol (oversized or malformed message).
    Violation(String),
}

async fn read_loop<R: AsyncRead + Unpin>(
    torrent: &Arc<Torrent>,
    key: PeerKey,
    mut reader: R,
) -> End {
    let idle = torrent.session.config.idle_timeout;
    let mut decoder = Decoder::for_piece_count(torrent.storage.layout().lengths().piece_count());
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut batch = Vec::new();
    loop {
        let wanted = decoder.wanted(&buf).max(READ_CHUNK / 4);
        if buf.capacity() - buf.len() < wanted {
            buf.reserve(wanted.max(READ_CHUNK));
        }
        match tokio::time::timeout(idle, reader.read_buf(&mut buf)).await {
            Err(_) => return End::Quiet("idle timeout".into()),
            Ok(Err(e)) => return End::Quiet(format!("read error: {e}")),
            Ok(Ok(0)) => return End::Quiet("closed by peer".into()),
            Ok(Ok(n)) => torrent.throttle(Direction::Down, n as u64).await,
        }
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(message)) => batch.push(message),
                Ok(None) => break,
                Err(e) => {
                    torrent.handle_messages(key, &mut batch);
                    return End::Violation(format!("protocol error: {e}"));
                }
            }
        }
        if !batch.is_empty() {
            torrent.note_dht_ports(key, &batch);
            torrent.handle_messages(key, &mut batch);
            if !torrent.is_attached(key) {
                return End::Quiet("dropped".into());
            }
        }
    }
}

async fn write_loop<W: AsyncWrite + Unpin>(
    mut writer: W,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    torrent: Arc<Torrent>,
    key: PeerKey,
) {
    let mut batch = WriteBatch::default();
    loop {
        let first = match tokio::time::timeout(KEEPALIVE, rx.recv()).await {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(_) => Outgoing::Message(Message::KeepAlive),
        };
        batch.push(first);
        while batch.len < WRITE_BATCH {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let blocks = batch.blocks;
        torrent.throttle(Direction::Up, batch.len as u64).await;
        if batch.write(&mut writer).await.is_err() {
            break;
        }
        if blocks > 0 {
            torrent.uploads_done(key, blocks);
        }
    }
    let _ = writer.shutdown().await;
}

/// Outgoing bytes gathered for one vectored write: message bytes are encoded into a
/// buffer, served blocks are sent from their own buffers without copying.
#[derive(Default)]
struct WriteBatch {
    encoded: BytesMut,
    chunks: Vec<Bytes>,
    len: usize,
    blocks: u32,
}

impl WriteBatch {
    fn push(&mut self, item: Outgoing) {
        let before = self.encoded.len();
        match item {
            Outgoing::Message(message) => message.encode(&mut self.encoded),
            Outgoing::Block(block, data) => {
                encode_piece_header(
                    block.piece.get(),
                    block.offset,
                    data.len() as u32,
                    &mut self.encoded,
                );
                self.chunks.push(self.encoded.split().freeze());
                self.len += data.len();
                self.chunks.push(data);
                self.blocks += 1;
            }
        }
        self.len += self.encoded.len().saturating_sub(before);
    }

    async fn write<W: AsyncWrite + Unpin>(&mut self, writer: &mut W) -> std::io::Result<()> {
        if !self.encoded.is_empty() {
            self.chunks.push(self.encoded.split().freeze());
        }
        let mut chunks = std::mem::take(&mut self.chunks);
        let mut start = 0;
        while start < chunks.len() {
            let slices: Vec<IoSlice<'_>> =
                chunks[start..].iter().take(64).map(|c| IoSlice::new(c)).collect();
            let mut written = writer.write_vectored(&slices).await?;
            if written == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            while written > 0 {
                let chunk = &mut chunks[start];
                if written >= chunk.len() {
                    written -= chunk.len();
                    start += 1;
                } else {
                    chunk.advance(written);
                    written = 0;
                }
            }
        }
        chunks.clear();
        self.chunks = chunks;
        self.len = 0;
        self.blocks = 0;
        Ok(())
    }
}
