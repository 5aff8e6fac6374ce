//! One announce over HTTP(S) or UDP: the I/O around the sans-IO codecs.

use std::error::Error as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use ferrent_tracker::{
    announce_url, parse_announce_response, AnnounceRequest, AnnounceResponse, TrackerError,
    TrackerUrl, UdpConfig, UdpEvent, UdpTracker, UdpTrackerAddr, MAX_RESPONSE_LEN,
};
use tokio::net::UdpSocket;

/// How long resolving a tracker's host name may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);
/// Room for the largest UDP datagram.
const MAX_DATAGRAM: usize = 65_536;

/// Announces `request` to the tracker at `url` (http, https or udp) and returns its answer.
///
/// HTTP goes through `http` (see [`http_client`](super::http_client)) and reads at most
/// [`MAX_RESPONSE_LEN`] bytes of body. UDP binds a fresh socket of the tracker's address family
/// and retransmits as `udp` says; it fails at once if the tracker's port is closed.
pub async fn announce(
    http: &reqwest::Client,
    url: &str,
    request: &AnnounceRequest,
    udp: UdpConfig,
) -> Result<AnnounceResponse, TrackerError> {
    match TrackerUrl::parse(url)? {
        TrackerUrl::Http(base) => announce_http(http, &base, request).await,
        TrackerUrl::Udp(addr) => announce_udp(&addr, request, udp).await,
    }
}

async fn announce_http(
    client: &reqwest::Client,
    base: &str,
    request: &AnnounceRequest,
) -> Result<AnnounceResponse, TrackerError> {
    let url = announce_url(base, request)?;
    let mut response = client.get(url).send().await.map_err(http_error)?;
    let too_large = TrackerError::TooLarge { limit: MAX_RESPONSE_LEN };
    if response.content_length().is_some_and(|len| len > MAX_RESPONSE_LEN as u64) {
        return Err(too_large);
    }
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(http_error)? {
        if body.len().saturating_add(chunk.len()) > MAX_RESPONSE_LEN {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    let parsed = parse_announce_response(&body);
    if status.is_success() {
        return parsed;
    }
    // Some trackers pair a `failure reason` with an error status; that text is the better report.
    match parsed {
        Err(failure @ TrackerError::Failure(_)) => Err(failure),
        _ => Err(TrackerError::HttpStatus(status.as_u16())),
    }
}

/// Describes a reqwest error with its causes, but without the URL (which holds our peer id).
fn http_error(error: reqwest::Error) -> TrackerError {
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    TrackerError::Transport(message)
}

fn io_error(what: &str, error: std::io::Error) -> TrackerError {
    TrackerError::Transport(format!("{what}: {error}"))
}

/// Resolves `host:port`, bounded by [`RESOLVE_TIMEOUT`]; the first address wins.
pub(super) async fn resolve(host: &str, port: u16) -> Result<SocketAddr, TrackerError> {
    let lookup = tokio::net::lookup_host((host, port));
    let mut addrs = tokio::time::timeout(RESOLVE_TIMEOUT, lookup)
        .await
        .map_err(|_| TrackerError::Transport(format!("resolving {host}: timed out")))?
        .map_err(|e| io_error(&format!("resolving {host}"), e))?;
    addrs.next().ok_or_else(|| TrackerError::Transport(format!("resolving {host}: no address")))
}

async fn announce_udp(
    addr: &UdpTrackerAddr,
    request: &AnnounceRequest,
    config: UdpConfig,
) -> Result<AnnounceResponse, TrackerError> {
    let target = resolve(&addr.host, addr.port).await?;
    let local: IpAddr =
        if target.is_ipv6() { Ipv6Addr::UNSPECIFIED.into() } else { Ipv4Addr::UNSPECIFIED.into() };
    let socket =
        UdpSocket::bind((local, 0)).await.map_err(|e| io_error("binding UDP socket", e))?;
    // A connected socket only hears from the tracker and reports a closed port at once.
    socket.connect(target).await.map_err(|e| io_error("connecting UDP socket", e))?;

    let mut tracker =
        UdpTracker::new(config, target.is_ipv6(), addr.request.clone(), &mut rand::thread_rng());
    tracker.announce(request.clone(), Instant::now());
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        while let Some(datagram) = tracker.poll_transmit() {
            socket.send(&datagram).await.map_err(|e| io_error("sending to UDP tracker", e))?;
        }
        if let Some(event) = tracker.poll_event() {
            return match event {
                UdpEvent::Announced(response) => Ok(response),
                UdpEvent::Error(message) => Err(TrackerError::Failure(message)),
                UdpEvent::GaveUp { attempts } => Err(TrackerError::TimedOut { attempts }),
            };
        }
        // The state machine always has a deadline while an announce is in progress, and an
        // event once it is not; this fallback only guards against a logic error.
        let deadline = tracker.poll_timeout().ok_or(TrackerError::TimedOut { attempts: 0 })?;
        tokio::select! {
            received = socket.recv(&mut buf) => {
                let len = received.map_err(|e| io_error("receiving from UDP tracker", e))?;
                tracker.handle_datagram(buf.get(..len).unwrap_or_default(), Instant::now());
            }
            () = tokio::time::sleep_until(deadline.into()) => tracker.handle_timeout(Instant::now()),
        }
    }
}

/// Resolves host-name peers concurrently: at most `max` names, all within `within`.
pub(super) async fn resolve_peer_hosts(
    hosts: &[(String, u16)],
    max: usize,
    within: Duration,
) -> Vec<SocketAddr> {
    let mut lookups = tokio::task::JoinSet::new();
    for (host, port) in hosts.iter().take(max).cloned() {
        lookups.spawn(async move { resolve(&host, port).await.ok() });
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(within, async {
        while let Some(found) = lookups.join_next().await {
            if let Ok(Some(addr)) = found {
                out.push(addr);
            }
        }
    })
    .await;
    out
}
