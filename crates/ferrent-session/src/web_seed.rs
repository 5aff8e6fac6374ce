//! Web seeds (BEP 19): HTTP servers that hold a torrent's files, listed in `url-list`.
//!
//! A web seed joins the torrent as one more peer. Its task speaks the peer wire protocol
//! to the engine over an in-memory pipe (it has every piece, and unchokes at once) and
//! turns the engine's block requests into HTTP range requests, coalescing runs of blocks
//! of one piece. Everything else is the engine's as for any peer: what to ask for, how
//! much to pipeline, hash checks, and banning a seed whose data fails them.
//!
//! A seed that fails (unreachable, wrong status, short body, banned) is tried again with
//! backoff, at most [`MAX_FAILURES`] times in a row (resuming the torrent starts the count
//! over); a torrent with nothing left to fetch does not use its web seeds.

use crate::torrent::Torrent;
use bytes::{Bytes, BytesMut};
use ferrent_storage::Layout;
use ferrent_wire::{BlockInfo, Decoder, Handshake, Message, Reserved};
use futures_util::stream::{FuturesOrdered, StreamExt};
use parking_lot::Mutex;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha1::{Digest, Sha1};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Failures in a row after which a seed is given up for the session.
pub(crate) const MAX_FAILURES: u32 = 6;
/// The wait after the first failure; it doubles with each further one.
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
/// HTTP fetches under way per seed.
const PARALLEL: usize = 4;
/// Most bytes asked for in one range request.
const MAX_RUN: u32 = 1 << 20;
/// A seed the engine has asked nothing of for this long is let go.
const IDLE: Duration = Duration::from_secs(30);
/// The pipe between the engine's side and the seed's side.
const PIPE: usize = 1 << 20;
/// How web seeds show in peer lists (`-WS` client code, never sent to anyone).
pub(crate) const PEER_ID_PREFIX: &[u8; 8] = b"-WS0000-";

/// The client behind a peer id, with web seeds named as such.
pub(crate) fn client_name(peer_id: &[u8; 20]) -> Option<String> {
    if peer_id.starts_with(PEER_ID_PREFIX) {
        return Some("web seed (HTTP)".to_owned());
    }
    ferrent_wire::PeerId(*peer_id).client_name()
}

/// Bytes left unescaped in URL path segments (RFC 3986 unreserved characters).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A torrent's web seeds and how each is doing.
pub(crate) struct WebSeeds {
    seeds: Mutex<Vec<Seed>>,
}

struct Seed {
    url: String,
    running: bool,
    failures: u32,
    next_try: Instant,
}

impl WebSeeds {
    /// The seeds of `urls` (`None` when there are none: most torrents carry no state).
    pub(crate) fn new(urls: &[String], now: Instant) -> Option<Box<WebSeeds>> {
        let seeds: Vec<Seed> = urls
            .iter()
            .map(|url| Seed { url: url.clone(), running: false, failures: 0, next_try: now })
            .collect();
        (!seeds.is_empty()).then(|| Box::new(WebSeeds { seeds: Mutex::new(seeds) }))
    }

    /// Seeds to start now: not running, not given up, past their backoff. Each is marked
    /// running.
    fn take_due(&self, now: Instant) -> Vec<(usize, String)> {
        let mut seeds = self.seeds.lock();
        let due = seeds.iter_mut().enumerate().filter(|(_, seed)| {
            !seed.running && seed.failures < MAX_FAILURES && seed.next_try <= now
        });
        due.map(|(index, seed)| {
            seed.running = true;
            (index, seed.url.clone())
        })
        .collect()
    }

    /// Records how a run of seed `index` ended, at `now`.
    fn finished(&self, index: usize, outcome: &Result<(), String>, now: Instant) {
        let mut seeds = self.seeds.lock();
        let Some(seed) = seeds.get_mut(index) else { return };
        seed.running = false;
        match outcome {
            Ok(()) => seed.failures = 0,
            Err(reason) => {
                seed.failures += 1;
                seed.next_try = now + FIRST_BACKOFF * (1 << (seed.failures - 1).min(6));
                if seed.failures == MAX_FAILURES {
                    let url = &seed.url;
                    tracing::warn!(%url, %reason, "web seed given up after repeated failures");
                }
            }
        }
    }

    fn forgive(&self, now: Instant) {
        for seed in self.seeds.lock().iter_mut() {
            seed.failures = 0;
            seed.next_try = now;
        }
    }
}

/// Starts the torrent's web seeds that are due: not running, not given up, past their
/// backoff. Called from the session's heartbeat while the torrent still wants pieces.
pub(crate) fn start_due(torrent: &Arc<Torrent>, now: Instant) {
    let Some(web) = torrent.web_seeds.as_ref() else { return };
    for (index, url) in web.take_due(now) {
        tokio::spawn(run(torrent.clone(), index, url));
    }
}

/// Gives every seed a fresh start (a user resumed the torrent: worth trying them again).
pub(crate) fn forgive(torrent: &Torrent) {
    if let Some(web) = torrent.web_seeds.as_ref() {
        web.forgive(Instant::now());
    }
}

/// One session with seed `index`; records how it ended.
async fn run(torrent: Arc<Torrent>, index: usize, url: String) {
    let outcome = serve(&torrent, &url).await;
    if let Err(reason) = &outcome {
        tracing::debug!(%url, %reason, "web seed failed");
    }
    if let Some(web) = torrent.web_seeds.as_ref() {
        web.finished(index, &outcome, Instant::now());
    }
}

/// Attaches the seed to the torrent as a peer and answers its requests until the engine
/// wants nothing more, the connection ends, or a fetch fails.
async fn serve(torrent: &Arc<Torrent>, url: &str) -> Result<(), String> {
    let addr = resolve(url).await?;
    let (engine_side, seed_side) = tokio::io::duplex(PIPE);
    let mut peer_id = [0u8; 20];
    peer_id[..8].copy_from_slice(PEER_ID_PREFIX);
    peer_id[8..].copy_from_slice(&Sha1::digest(url.as_bytes())[..12]);
    let mut reserved = Reserved::default();
    reserved.set_fast(true);
    let theirs = Handshake { reserved, info_hash: torrent.info_hash.0, peer_id };
    let mut peer =
        tokio::spawn(crate::peer::run(torrent.clone(), engine_side, addr, false, theirs));
    let single_file = torrent.meta.single_file;
    let fetcher = Fetcher { http: &torrent.session.http, url, single_file };
    let result = tokio::select! {
        // Returning drops the seed's end of the pipe: the connection then ends as any
        // other does, detached from the torrent.
        answered = answer(seed_side, torrent.storage.layout(), &fetcher) => {
            let _ = tokio::time::timeout(Duration::from_secs(5), &mut peer).await;
            answered
        }
        attached = &mut peer => match attached {
            Ok(true) => Err(CLOSED.to_owned()),
            _ => Err("the torrent took no more peers".to_owned()),
        },
    };
    if torrent.is_banned(addr) {
        return Err("banned: its data failed hash checks".to_owned());
    }
    // A connection the torrent closed counts against the seed (so that one the engine
    // keeps dropping backs off), unless the torrent needs nothing more.
    match result {
        Err(_) if torrent.is_complete() => Ok(()),
        other => other,
    }
}

/// Why a seed's run ended when the torrent's side of the pipe closed.
const CLOSED: &str = "the torrent closed the connection";

/// The address the seed's host resolves to: the peer's address in lists and bans.
///
/// A torrent is untrusted input, so its URLs must not become a way to poke at services on
/// this machine or its network (SSRF): a seed on a local address may not carry a query
/// string, which a web seed never needs and a local web application's actions do.
async fn resolve(url: &str) -> Result<SocketAddr, String> {
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{} is not a web seed scheme", parsed.scheme()));
    }
    let host = parsed.host_str().ok_or("no host")?.trim_matches(['[', ']']).to_owned();
    let port = parsed.port_or_known_default().ok_or("no port")?;
    let mut addrs =
        tokio::net::lookup_host((host.as_str(), port)).await.map_err(|e| e.to_string())?;
    let addr = addrs.next().ok_or_else(|| format!("{host} has no address"))?;
    if parsed.query().is_some() && is_local(addr.ip()) {
        return Err("a web seed on a local address may not have a query string".to_owned());
    }
    Ok(addr)
}

/// Loopback, private, link-local or unspecified: an address of this machine or its LAN.
fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified()
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || first & 0xfe00 == 0xfc00
                || first & 0xffc0 == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| is_local(IpAddr::V4(v4)))
        }
    }
}

/// The wire side of the pipe: every piece, unchoked, and blocks for requests.
async fn answer(
    pipe: tokio::io::DuplexStream,
    layout: &Layout,
    fetcher: &Fetcher<'_>,
) -> Result<(), String> {
    let (mut reader, mut writer) = tokio::io::split(pipe);
    let mut out = BytesMut::new();
    Message::HaveAll.encode(&mut out);
    Message::Unchoke.encode(&mut out);
    writer.write_all(&out).await.map_err(|e| e.to_string())?;
    let mut decoder = Decoder::default();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut pending: VecDeque<BlockInfo> = VecDeque::new();
    let mut fetching = FuturesOrdered::new();
    // The engine says it is interested once it sees our pieces, and not interested once it
    // wants nothing more: then the seed leaves (or after IDLE without a word).
    let mut not_interested = false;
    loop {
        while fetching.len() < PARALLEL {
            let Some(run) = take_run(&mut pending) else { break };
            fetching.push_back(fetcher.fetch(layout, run));
        }
        let idle = pending.is_empty() && fetching.is_empty();
        if idle && not_interested {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(IDLE), if idle => return Ok(()),
            read = reader.read_buf(&mut buf) => {
                if read.map_err(|e| e.to_string())? == 0 {
                    return Err(CLOSED.to_owned());
                }
                while let Some(message) = decoder.decode(&mut buf).map_err(|e| e.to_string())? {
                    match message {
                        Message::Interested => not_interested = false,
                        Message::NotInterested => not_interested = true,
                        Message::Request(block) => pending.push_back(block),
                        Message::Cancel(block) => {
                            if let Some(at) = pending.iter().position(|b| *b == block) {
                                pending.remove(at);
                                out.clear();
                                Message::Reject(block).encode(&mut out);
                                writer.write_all(&out).await.map_err(|e| e.to_string())?;
                            }
                        }
                        _ => {}
                    }
                }
                buf.reserve(decoder.wanted(&buf).max(16 * 1024));
            }
            Some(fetched) = fetching.next(), if !fetching.is_empty() => {
                out.clear();
                for (block, data) in fetched? {
                    let BlockInfo { index, begin, .. } = block;
                    Message::Piece { index, begin, data }.encode(&mut out);
                }
                writer.write_all(&out).await.map_err(|e| e.to_string())?;
            }
        }
    }
}

/// Consecutive blocks of one piece from the front of `pending`, at most [`MAX_RUN`] bytes.
fn take_run(pending: &mut VecDeque<BlockInfo>) -> Option<Vec<BlockInfo>> {
    let first = pending.pop_front()?;
    let mut run = vec![first];
    let mut end = first.begin + first.length;
    while let Some(next) = pending.front().copied() {
        if next.index != first.index
            || next.begin != end
            || end - first.begin + next.length > MAX_RUN
        {
            break;
        }
        end += next.length;
        run.push(next);
        pending.pop_front();
    }
    Some(run)
}

/// Turns runs of blocks into range requests against one seed.
struct Fetcher<'a> {
    /// The session's client, whose timeout bounds each request, body included.
    http: &'a reqwest::Client,
    url: &'a str,
    single_file: bool,
}

impl Fetcher<'_> {
    /// The blocks of `run` (consecutive, one piece), read from the seed's files.
    async fn fetch(
        &self,
        layout: &Layout,
        run: Vec<BlockInfo>,
    ) -> Result<Vec<(BlockInfo, Bytes)>, String> {
        let first = run[0];
        let len: u32 = run.iter().map(|b| b.length).sum();
        let piece = layout.lengths().piece(first.index).ok_or("request for no piece")?;
        let mut data = BytesMut::zeroed(len as usize);
        for segment in layout.segments(piece, first.begin, len) {
            if segment.pad {
                continue;
            }
            let file = &layout.files()[segment.file];
            let url = file_url(self.url, &file.path, self.single_file);
            let range = segment.file_offset..segment.file_offset + u64::from(segment.len);
            let bytes = self.get(&url, range, file.length).await?;
            data[segment.buf_range()].copy_from_slice(&bytes);
        }
        let mut data = data.freeze();
        Ok(run.into_iter().map(|b| (b, data.split_to(b.length as usize))).collect())
    }

    /// Bytes `range` of the file at `url` (`file_len` bytes long).
    async fn get(
        &self,
        url: &str,
        range: std::ops::Range<u64>,
        file_len: u64,
    ) -> Result<Bytes, String> {
        let header = format!("bytes={}-{}", range.start, range.end - 1);
        let mut response = self
            .http
            .get(url)
            .header(reqwest::header::RANGE, header)
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        let whole = range.start == 0 && range.end == file_len;
        let status = response.status().as_u16();
        if status != 206 && !(status == 200 && whole) {
            return Err(format!("{url}: HTTP {status} for a range request"));
        }
        let want = (range.end - range.start) as usize;
        let mut body = BytesMut::with_capacity(want);
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("{url}: {e}"))? {
            if body.len() + chunk.len() > want {
                return Err(format!("{url}: more bytes than asked for"));
            }
            body.extend_from_slice(&chunk);
        }
        if body.len() != want {
            return Err(format!("{url}: {} of {want} bytes", body.len()));
        }
        Ok(body.freeze())
    }
}

/// Where a file lives on a seed (BEP 19): a single-file torrent's URL names the file
/// itself, unless it ends in `/`, when the torrent's name is added; a multi-file torrent's
/// URL is a directory, and the torrent's name and the file's path are added to it.
pub(crate) fn file_url(base: &str, path: &Path, single_file: bool) -> String {
    if single_file && !base.ends_with('/') {
        return base.to_owned();
    }
    let mut url = base.to_owned();
    if !url.ends_with('/') {
        url.push('/');
    }
    let segments: Vec<String> = path
        .components()
        .map(|c| utf8_percent_encode(&c.as_os_str().to_string_lossy(), SEGMENT).to_string())
        .collect();
    url.push_str(&segments.join("/"));
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_follow_bep_19() {
        let single = Path::new("movie one.mkv");
        assert_eq!(file_url("http://h/x.mkv", single, true), "http://h/x.mkv");
        assert_eq!(file_url("http://h/files/", single, true), "http://h/files/movie%20one.mkv");
        let multi = Path::new("Album/CD 1/01#a?.flac");
        assert_eq!(
            file_url("http://h/pub/", multi, false),
            "http://h/pub/Album/CD%201/01%23a%3F.flac"
        );
        assert_eq!(
            file_url("http://h/pub", multi, false),
            "http://h/pub/Album/CD%201/01%23a%3F.flac"
        );
    }

    #[tokio::test]
    async fn local_seeds_with_a_query_are_refused() {
        let refused = resolve("http://127.0.0.1:8080/admin?action=reboot").await.unwrap_err();
        assert!(refused.contains("query"), "{refused}");
        assert!(resolve("http://127.0.0.1:8080/files/").await.is_ok());
        assert!(resolve("ftp://127.0.0.1/x").await.is_err());
        assert!(is_local("192.168.1.1".parse().unwrap()));
        assert!(is_local("fd00::1".parse().unwrap()));
        assert!(is_local("::ffff:10.0.0.1".parse().unwrap()));
        assert!(!is_local("93.184.216.34".parse().unwrap()));
    }

    #[test]
    fn failures_back_off_then_give_up_until_forgiven() {
        let start = Instant::now();
        let web = WebSeeds::new(&["http://a/".to_owned(), "http://b/".to_owned()], start).unwrap();
        assert_eq!(web.take_due(start).len(), 2);
        assert!(web.take_due(start).is_empty(), "a running seed is not started twice");
        let failed = Err("refused".to_owned());
        web.finished(0, &failed, start);
        web.finished(1, &Ok(()), start);
        assert_eq!(web.take_due(start), vec![(1, "http://b/".to_owned())]);
        assert!(web.take_due(start + FIRST_BACKOFF / 2).is_empty(), "backing off");
        let mut now = start + FIRST_BACKOFF;
        assert_eq!(web.take_due(now), vec![(0, "http://a/".to_owned())]);
        for _ in 1..MAX_FAILURES {
            web.finished(0, &failed, now);
            now += Duration::from_secs(3600);
            web.take_due(now);
        }
        web.finished(0, &failed, now);
        assert!(web.take_due(now + Duration::from_secs(86_400)).is_empty(), "given up");
        web.forgive(now);
        assert_eq!(web.take_due(now), vec![(0, "http://a/".to_owned())]);
    }

    #[test]
    fn web_seeds_are_named_in_peer_lists() {
        let mut id = [b'x'; 20];
        id[..8].copy_from_slice(PEER_ID_PREFIX);
        assert_eq!(client_name(&id).as_deref(), Some("web seed (HTTP)"));
        assert_eq!(client_name(b"-qB4500-abcdefghijkl").as_deref(), Some("qBittorrent 4.5.0"));
    }

    #[test]
    fn runs_are_consecutive_blocks_of_one_piece() {
        let b = |index, begin| BlockInfo { index, begin, length: 16384 };
        let mut pending: VecDeque<BlockInfo> =
            [b(0, 0), b(0, 16384), b(0, 49152), b(1, 0), b(1, 16384)].into_iter().collect();
        assert_eq!(take_run(&mut pending), Some(vec![b(0, 0), b(0, 16384)]));
        assert_eq!(take_run(&mut pending), Some(vec![b(0, 49152)]));
        assert_eq!(take_run(&mut pending), Some(vec![b(1, 0), b(1, 16384)]));
        assert_eq!(take_run(&mut pending), None);
        let mut long: VecDeque<BlockInfo> = (0..100).map(|i| b(7, i * 16384)).collect();
        let run = take_run(&mut long).unwrap();
        assert_eq!(run.len() as u32 * 16384, MAX_RUN, "a run stops at MAX_RUN bytes");
    }
}
