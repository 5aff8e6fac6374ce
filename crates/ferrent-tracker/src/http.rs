//! Parsing HTTP announce responses (BEP 3, BEP 23 compact peers, BEP 7 `peers6`).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ferrent_bencode::{Decoder, Limits, Value};

use crate::peers::{parse_compact, push_peer, Family};
use crate::text::printable;
use crate::{AnnounceResponse, TrackerError, DEFAULT_INTERVAL};

/// The largest announce response body accepted, in bytes.
pub const MAX_RESPONSE_LEN: usize = 2 << 20;

/// Parses the body of an HTTP announce response.
///
/// A `failure reason` becomes [`TrackerError::Failure`]. Compact `peers` and `peers6` must be
/// whole numbers of entries; in a list of peer dictionaries, entries without a usable `ip`
/// and `port` are skipped. A missing `interval` means [`DEFAULT_INTERVAL`]. Seeder and leecher
/// counts that are not integers in `u32` range are dropped rather than failing the announce.
pub fn parse_announce_response(body: &[u8]) -> Result<AnnounceResponse, TrackerError> {
    if body.len() > MAX_RESPONSE_LEN {
        return Err(TrackerError::TooLarge { limit: MAX_RESPONSE_LEN });
    }
    let limits = Limits { max_depth: 16, max_input: MAX_RESPONSE_LEN, ..Limits::default() };
    // Some trackers end the body with a newline; what follows the dictionary is ignored.
    let root = Decoder::new().limits(limits).allow_trailing(true).decode(body)?.value;
    if root.as_dict().is_none() {
        return Err(TrackerError::NotADictionary);
    }
    if let Some(reason) = root.get(b"failure reason") {
        let text = reason
            .as_bytes()
            .ok_or(TrackerError::BadField { field: "failure reason", reason: "is not a string" })?;
        return Err(TrackerError::Failure(printable(text)));
    }

    let mut response = AnnounceResponse {
        interval: seconds(&root, "interval")?.unwrap_or(DEFAULT_INTERVAL),
        min_interval: seconds(&root, "min interval")?,
        seeders: count(&root, "complete"),
        leechers: count(&root, "incomplete"),
        warning: root.get(b"warning message").and_then(Value::as_bytes).map(printable),
        tracker_id: root.get(b"tracker id").and_then(Value::as_bytes).map(<[u8]>::to_vec),
        ..AnnounceResponse::default()
    };
    match root.get(b"peers") {
        None => {}
        Some(peers) => {
            if let Some(compact) = peers.as_bytes() {
                compact_peers(compact, "peers", Family::V4, &mut response.peers)?;
            } else if let Some(list) = peers.as_list() {
                for entry in list {
                    dictionary_peer(entry, &mut response);
                }
            } else {
                return Err(TrackerError::BadField {
                    field: "peers",
                    reason: "is neither a string nor a list",
                });
            }
        }
    }
    if let Some(peers6) = root.get(b"peers6") {
        let compact = peers6
            .as_bytes()
            .ok_or(TrackerError::BadField { field: "peers6", reason: "is not a string" })?;
        compact_peers(compact, "peers6", Family::V6, &mut response.peers)?;
    }
    Ok(response)
}

/// Reads an optional non-negative number of seconds.
fn seconds(root: &Value<'_>, field: &'static str) -> Result<Option<Duration>, TrackerError> {
    let Some(value) = root.get(field.as_bytes()) else { return Ok(None) };
    let n = value.as_int().ok_or(TrackerError::BadField { field, reason: "is not an integer" })?;
    let secs =
        u64::try_from(n).map_err(|_| TrackerError::BadField { field, reason: "is negative" })?;
    Ok(Some(Duration::from_secs(secs)))
}

/// Reads an optional peer count, dropping values that are not integers in `u32` range.
fn count(root: &Value<'_>, field: &str) -> Option<u32> {
    root.get(field.as_bytes())?.as_int().and_then(|n| u32::try_from(n).ok())
}

fn compact_peers(
    bytes: &[u8],
    field: &'static str,
    family: Family,
    out: &mut Vec<std::net::SocketAddr>,
) -> Result<(), TrackerError> {
    let entry_len = family.entry_len();
    if !bytes.chunks_exact(entry_len).remainder().is_empty() {
        return Err(TrackerError::CompactPeersLength { field, len: bytes.len(), entry_len });
    }
    parse_compact(bytes, family, out);
    Ok(())
}

/// Adds one `{ip, port}` dictionary peer to `response`, or skips it if it is unusable.
fn dictionary_peer(entry: &Value<'_>, response: &mut AnnounceResponse) {
    let Some(port) = entry.get(b"port").and_then(Value::as_int) else { return };
    let Ok(port) = u16::try_from(port) else { return };
    let Some(ip) = entry.get(b"ip").and_then(Value::as_str).map(str::trim) else { return };
    let bare = ip.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(ip);
    if let Ok(addr) = bare.parse::<IpAddr>() {
        push_peer(&mut response.peers, SocketAddr::new(addr, port));
    } else if port != 0 && is_host_name(ip) {
        response.peer_hosts.push((ip.to_ascii_lowercase(), port));
    }
}

/// Whether `name` is a syntactically valid DNS host name. A numeric last label is refused:
/// no top-level domain is numeric, and resolvers may read such names as legacy IPv4 forms.
fn is_host_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    let numeric_tld =
        name.rsplit('.').next().is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()));
    !name.is_empty()
        && !numeric_tld
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use ferrent_bencode::OwnedValue;

    use super::*;

    fn dict(entries: Vec<(&str, OwnedValue)>) -> Vec<u8> {
        OwnedValue::dict(entries).encode()
    }

    fn peer(ip: &str, port: i64) -> OwnedValue {
        OwnedValue::dict([("ip", OwnedValue::from(ip)), ("port", OwnedValue::from(port))])
    }

    #[test]
    fn compact_response_with_every_field() {
        let body = dict(vec![
            ("interval", 1800.into()),
            ("min interval", 60.into()),
            ("complete", 4.into()),
            ("incomplete", 7.into()),
            ("tracker id", OwnedValue::bytes(b"T\x01".to_vec())),
            ("warning message", "slow down".into()),
            ("peers", OwnedValue::bytes(vec![127, 0, 0, 1, 0x1a, 0xe1, 10, 1, 2, 3, 0, 1])),
            ("peers6", OwnedValue::bytes([[0u8; 15].as_slice(), &[1, 0x1f, 0x90]].concat())),
        ]);
        let r = parse_announce_response(&body).unwrap();
        assert_eq!(r.interval, Duration::from_secs(1800));
        assert_eq!(r.min_interval, Some(Duration::from_secs(60)));
        assert_eq!((r.seeders, r.leechers), (Some(4), Some(7)));
        assert_eq!(r.tracker_id.as_deref(), Some(&b"T\x01"[..]));
        assert_eq!(r.warning.as_deref(), Some("slow down"));
        let expected: Vec<SocketAddr> = ["127.0.0.1:6881", "10.1.2.3:1", "[::1]:8080"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(r.peers, expected);
        assert!(r.peer_hosts.is_empty());
    }

    #[test]
    fn failure_reason_wins_and_is_made_printable() {
        let body = dict(vec![
            ("failure reason", "unregistered \x1b[2Jtorrent".into()),
            ("interval", 10.into()),
        ]);
        assert_eq!(
            parse_announce_response(&body),
            Err(TrackerError::Failure("unregistered \u{FFFD}[2Jtorrent".into()))
        );
        let body = dict(vec![("failure reason", 3.into())]);
        assert!(matches!(
            parse_announce_response(&body),
            Err(TrackerError::BadField { field: "failure reason", .. })
        ));
    }

    #[test]
    fn dictionary_peers_accept_ipv4_ipv6_and_host_names_and_skip_bad_entries() {
        let body = dict(vec![(
            "peers",
            OwnedValue::list([
                peer("192.0.2.1", 6881),
                peer("2001:db8::2", 51413),
                peer("[2001:db8::3]", 1),
                peer("Peer.Example.org", 7000),
                peer("bad host!", 1),
                peer("192.0.2.9", 70000),
                peer("192.0.2.10", -1),
                peer("192.0.2.11", 0),
                peer("0.0.0.0", 5),
                OwnedValue::dict([("ip", OwnedValue::from("192.0.2.12"))]),
                OwnedValue::dict([("ip", OwnedValue::from(5)), ("port", OwnedValue::from(5))]),
                OwnedValue::from("not a dict"),
            ]),
        )]);
        let r = parse_announce_response(&body).unwrap();
        let expected: Vec<SocketAddr> =
            ["192.0.2.1:6881", "[2001:db8::2]:51413", "[2001:db8::3]:1"]
                .iter()
                .map(|s| s.parse().unwrap())
                .collect();
        assert_eq!(r.peers, expected);
        assert_eq!(r.peer_hosts, vec![("peer.example.org".to_string(), 7000)]);
        assert_eq!(r.interval, DEFAULT_INTERVAL, "interval defaults when absent");
        assert_eq!((r.seeders, r.leechers, r.min_interval), (None, None, None));
    }

    #[test]
    fn compact_lengths_must_be_whole_entries() {
        let body = dict(vec![("peers", OwnedValue::bytes(vec![1; 13]))]);
        assert_eq!(
            parse_announce_response(&body),
            Err(TrackerError::CompactPeersLength { field: "peers", len: 13, entry_len: 6 })
        );
        let body = dict(vec![("peers6", OwnedValue::bytes(vec![1; 20]))]);
        assert_eq!(
            parse_announce_response(&body),
            Err(TrackerError::CompactPeersLength { field: "peers6", len: 20, entry_len: 18 })
        );
        let message =
            parse_announce_response(&dict(vec![("peers", OwnedValue::bytes(vec![1; 7]))]))
                .unwrap_err()
                .to_string();
        assert!(message.contains("`peers`") && message.contains("7 bytes"), "{message}");
    }

    #[test]
    fn malformed_fields_are_refused_with_their_name() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (dict(vec![("interval", (-5).into())]), "interval"),
            (dict(vec![("interval", "soon".into())]), "interval"),
            (dict(vec![("min interval", OwnedValue::list([]))]), "min interval"),
            (dict(vec![("peers", 5.into())]), "peers"),
            (dict(vec![("peers6", OwnedValue::list([]))]), "peers6"),
        ];
        for (body, name) in cases {
            match parse_announce_response(&body) {
                Err(TrackerError::BadField { field, .. }) => assert_eq!(field, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn odd_counts_are_dropped_not_fatal() {
        let body = dict(vec![
            ("complete", (-1).into()),
            ("incomplete", "many".into()),
            ("interval", 30.into()),
        ]);
        let r = parse_announce_response(&body).unwrap();
        assert_eq!((r.seeders, r.leechers), (None, None));
    }

    #[test]
    fn non_dictionaries_and_bad_bencode_are_refused() {
        assert_eq!(parse_announce_response(b"le"), Err(TrackerError::NotADictionary));
        assert!(matches!(parse_announce_response(b"d8:intervali"), Err(TrackerError::Bencode(_))));
        assert!(matches!(
            parse_announce_response(b"<html>502</html>"),
            Err(TrackerError::Bencode(_))
        ));
        let big = vec![b' '; MAX_RESPONSE_LEN + 1];
        assert_eq!(
            parse_announce_response(&big),
            Err(TrackerError::TooLarge { limit: MAX_RESPONSE_LEN })
        );
    }

    #[test]
    fn trailing_newline_is_tolerated() {
        let mut body = dict(vec![("interval", 900.into())]);
        body.push(b'\n');
        assert_eq!(parse_announce_response(&body).unwrap().interval, Duration::from_secs(900));
    }

    #[test]
    fn host_name_syntax() {
        for good in ["a", "peer.example.org", "x-1.y_2.z.", "123.example"] {
            assert!(is_host_name(good), "{good}");
        }
        let long_label = "a".repeat(64);
        let bad_names = ["", ".", "a..b", "-a.b", "a-.b", "a b", "é.example", "1.2.3", "0x7f.1"];
        for bad in bad_names.iter().copied().chain([long_label.as_str()]) {
            assert!(!is_host_name(bad), "{bad}");
        }
    }
}
