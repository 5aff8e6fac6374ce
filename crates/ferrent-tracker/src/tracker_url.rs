//! Tracker URLs: which transport, the HTTP announce URL with its query, and the scrape URL.

use std::fmt::Write as _;

use percent_encoding::{percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::{AnnounceRequest, TrackerError};

/// Bytes left as they are in a query value: the unreserved characters of RFC 3986.
const QUERY_VALUE: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The longest BEP 41 request string (path and query) sent to a UDP tracker.
pub const MAX_UDP_REQUEST_LEN: usize = 1024;

/// A tracker URL, sorted by transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackerUrl {
    /// An `http` or `https` tracker, with the base announce URL (fragment removed).
    Http(String),
    /// A UDP tracker (BEP 15).
    Udp(UdpTrackerAddr),
}

/// Where a UDP tracker is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpTrackerAddr {
    /// A host name or an IP address (an IPv6 address without brackets).
    pub host: String,
    /// The UDP port.
    pub port: u16,
    /// The path and query of the URL, sent as BEP 41 URL data; empty for a bare `/`.
    pub request: Vec<u8>,
}

impl TrackerUrl {
    /// Classifies and checks a tracker URL from a torrent or magnet link.
    pub fn parse(text: &str) -> Result<Self, TrackerError> {
        let invalid = |reason| TrackerError::InvalidUrl { url: text.to_owned(), reason };
        let mut url = url::Url::parse(text.trim()).map_err(|_| invalid("not an absolute URL"))?;
        let host = match url.host() {
            Some(url::Host::Domain(name)) => name.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(invalid("no host")),
        };
        url.set_fragment(None);
        match url.scheme() {
            "http" | "https" => Ok(TrackerUrl::Http(url.into())),
            "udp" => {
                let port = url.port().ok_or_else(|| invalid("a UDP tracker needs a port"))?;
                let mut request = url.path().as_bytes().to_vec();
                if let Some(query) = url.query() {
                    request.push(b'?');
                    request.extend_from_slice(query.as_bytes());
                }
                if request == b"/" {
                    request.clear();
                }
                if request.len() > MAX_UDP_REQUEST_LEN {
                    return Err(invalid("path and query too long for a UDP tracker"));
                }
                Ok(TrackerUrl::Udp(UdpTrackerAddr { host, port, request }))
            }
            other => Err(TrackerError::UnsupportedScheme(other.to_owned())),
        }
    }
}

/// Builds the full HTTP announce URL for `request` from the tracker's base URL (BEP 3, 23).
///
/// The base may already carry a query string (a passkey, say); the announce parameters are
/// appended to it. `info_hash`, `peer_id` and `trackerid` are percent-encoded byte by byte.
pub fn announce_url(base: &str, request: &AnnounceRequest) -> Result<String, TrackerError> {
    let TrackerUrl::Http(mut url) = TrackerUrl::parse(base)? else {
        return Err(TrackerError::UnsupportedScheme("udp".to_owned()));
    };
    match url.find('?') {
        None => url.push('?'),
        Some(at) if at + 1 == url.len() || url.ends_with('&') => {}
        Some(_) => url.push('&'),
    }
    // Writing to a String cannot fail, so the fmt::Results below are always Ok.
    let _ = write!(
        url,
        "info_hash={}&peer_id={}&port={}&uploaded={}&downloaded={}&left={}&compact=1&key={:08x}",
        percent_encode(&request.info_hash.0, QUERY_VALUE),
        percent_encode(&request.peer_id, QUERY_VALUE),
        request.port,
        request.uploaded,
        request.downloaded,
        request.left,
        request.key,
    );
    if let Some(numwant) = request.numwant {
        let _ = write!(url, "&numwant={numwant}");
    }
    if let Some(event) = request.event.http_name() {
        let _ = write!(url, "&event={event}");
    }
    if let Some(id) = &request.tracker_id {
        let _ = write!(url, "&trackerid={}", percent_encode(id, QUERY_VALUE));
    }
    Ok(url)
}

/// The scrape URL of an HTTP announce URL, by the convention of BEP 48: the last path
/// segment must start with `announce`, which becomes `scrape`. `None` when the tracker
/// cannot be scraped that way.
pub fn scrape_url(announce: &str) -> Option<String> {
    let TrackerUrl::Http(url) = TrackerUrl::parse(announce).ok()? else {
        return None;
    };
    let path_end = url.find('?').unwrap_or(url.len());
    let slash = url.get(..path_end)?.rfind('/')?;
    let segment = url.get(slash + 1..path_end)?;
    let rest = segment.strip_prefix("announce")?;
    Some(format!("{}scrape{}{}", &url[..=slash], rest, &url[path_end..]))
}

#[cfg(test)]
mod tests {
    use ferrent_core::InfoHashV1;

    use super::*;
    use crate::AnnounceEvent;

    fn request() -> AnnounceRequest {
        let mut info_hash = [0u8; 20];
        for (i, b) in info_hash.iter_mut().enumerate() {
            *b = i as u8 * 13;
        }
        AnnounceRequest {
            info_hash: InfoHashV1(info_hash),
            peer_id: *b"-FE0100-a.b_c~d e/f!",
            port: 6881,
            uploaded: 1,
            downloaded: 2,
            left: 3,
            event: AnnounceEvent::Started,
            numwant: Some(50),
            key: 0xbeef,
            tracker_id: None,
        }
    }

    /// Decodes a percent-encoded value back to bytes, refusing anything not encoded byte-wise.
    fn decode(value: &str) -> Vec<u8> {
        for b in value.bytes() {
            assert!(b.is_ascii_alphanumeric() || b"-._~%".contains(&b), "{value:?} has {b}");
        }
        percent_encoding::percent_decode_str(value).collect()
    }

    fn query_pairs(url: &str) -> Vec<(String, String)> {
        let query = url.split_once('?').unwrap().1;
        query
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
        let mut found = pairs.iter().filter(|(k, _)| k == key);
        let first = found.next().map(|(_, v)| v.as_str());
        assert!(found.next().is_none(), "{key} appears twice");
        first
    }

    #[test]
    fn announce_url_encodes_every_parameter() {
        let req = request();
        let url = announce_url("http://tracker.example/announce", &req).unwrap();
        assert!(url.starts_with("http://tracker.example/announce?"));
        let pairs = query_pairs(&url);
        assert_eq!(decode(value(&pairs, "info_hash").unwrap()), req.info_hash.0);
        assert_eq!(decode(value(&pairs, "peer_id").unwrap()), req.peer_id);
        assert_eq!(value(&pairs, "port"), Some("6881"));
        assert_eq!(value(&pairs, "uploaded"), Some("1"));
        assert_eq!(value(&pairs, "downloaded"), Some("2"));
        assert_eq!(value(&pairs, "left"), Some("3"));
        assert_eq!(value(&pairs, "compact"), Some("1"));
        assert_eq!(value(&pairs, "numwant"), Some("50"));
        assert_eq!(value(&pairs, "key"), Some("0000beef"));
        assert_eq!(value(&pairs, "event"), Some("started"));
        assert_eq!(value(&pairs, "trackerid"), None);
    }

    #[test]
    fn regular_announce_omits_event_and_echoes_tracker_id() {
        let mut req = request();
        req.event = AnnounceEvent::None;
        req.numwant = None;
        req.tracker_id = Some(b"id &=\x00".to_vec());
        let pairs = query_pairs(&announce_url("https://t.example:8443/a", &req).unwrap());
        assert_eq!(value(&pairs, "event"), None);
        assert_eq!(value(&pairs, "numwant"), None);
        assert_eq!(decode(value(&pairs, "trackerid").unwrap()), b"id &=\x00");
    }

    #[test]
    fn existing_query_is_kept_and_fragment_dropped() {
        let req = request();
        let url = announce_url("http://t.example/announce.php?passkey=abc#frag", &req).unwrap();
        assert!(url.starts_with("http://t.example/announce.php?passkey=abc&info_hash="), "{url}");
        assert!(!url.contains('#'));
        let url = announce_url("http://t.example/a?", &req).unwrap();
        assert!(url.starts_with("http://t.example/a?info_hash="), "{url}");
        let url = announce_url("http://t.example/a?x=1&", &req).unwrap();
        assert!(url.starts_with("http://t.example/a?x=1&info_hash="), "{url}");
    }

    #[test]
    fn announce_url_refuses_other_schemes() {
        let req = request();
        assert!(matches!(
            announce_url("udp://t.example:80", &req),
            Err(TrackerError::UnsupportedScheme(_))
        ));
        assert!(matches!(
            announce_url("wss://t.example/", &req),
            Err(TrackerError::UnsupportedScheme(s)) if s == "wss"
        ));
        assert!(matches!(announce_url("not a url", &req), Err(TrackerError::InvalidUrl { .. })));
    }

    #[test]
    fn udp_urls_give_host_port_and_request_string() {
        let parsed = TrackerUrl::parse("udp://tracker.example:1337/announce?key=1").unwrap();
        assert_eq!(
            parsed,
            TrackerUrl::Udp(UdpTrackerAddr {
                host: "tracker.example".into(),
                port: 1337,
                request: b"/announce?key=1".to_vec()
            })
        );
        let TrackerUrl::Udp(v6) = TrackerUrl::parse("udp://[::1]:6969").unwrap() else {
            panic!("not udp");
        };
        assert_eq!((v6.host.as_str(), v6.port, v6.request.len()), ("::1", 6969, 0));
        assert!(matches!(
            TrackerUrl::parse("udp://tracker.example/announce"),
            Err(TrackerError::InvalidUrl { reason, .. }) if reason.contains("port")
        ));
        let long = format!("udp://t.example:1/{}", "a".repeat(MAX_UDP_REQUEST_LEN));
        assert!(TrackerUrl::parse(&long).is_err());
    }

    #[test]
    fn scrape_url_follows_the_announce_convention() {
        assert_eq!(
            scrape_url("http://t.example/announce").as_deref(),
            Some("http://t.example/scrape")
        );
        assert_eq!(
            scrape_url("http://t.example/x/announce.php?pk=1").as_deref(),
            Some("http://t.example/x/scrape.php?pk=1")
        );
        assert_eq!(scrape_url("http://t.example/a"), None);
        assert_eq!(scrape_url("http://t.example/announce/x"), None);
        assert_eq!(scrape_url("udp://t.example:1/announce"), None);
    }
}
