//! Generating peer ids and naming the clients behind them.

use ferrent_wire::{PeerId, FERRENT_PREFIX};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// A peer id starting with `prefix`, padded with digits.
fn id(prefix: &[u8]) -> PeerId {
    let mut bytes = *b"01234567890123456789";
    bytes[..prefix.len()].copy_from_slice(prefix);
    PeerId(bytes)
}

#[test]
fn generated_ids_carry_our_prefix_and_random_printable_characters() {
    let mut rng = StdRng::seed_from_u64(1);
    let a = PeerId::generate(&mut rng);
    let b = PeerId::generate(&mut rng);
    assert_ne!(a, b);
    for peer in [a, b] {
        assert_eq!(peer.0[..8], FERRENT_PREFIX);
        assert!(peer.0[8..].iter().all(u8::is_ascii_alphanumeric), "{peer}");
    }
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(&FERRENT_PREFIX, format!("-FE{}0-", version.replace('.', "")).as_bytes());
    assert_eq!(a.client_name(), Some(format!("ferrent {version}")));
}

#[test]
fn the_same_seed_gives_the_same_id() {
    let first = PeerId::generate(&mut StdRng::seed_from_u64(99));
    let again = PeerId::generate(&mut StdRng::seed_from_u64(99));
    assert_eq!(first, again);
}

#[test]
fn azureus_style_ids_name_their_client() {
    let cases: [(&[u8], &str); 17] = [
        (b"-qB4500-", "qBittorrent 4.5.0"),
        (b"-qB4630-", "qBittorrent 4.6.3"),
        (b"-TR3000-", "Transmission 3.00"),
        (b"-TR2940-", "Transmission 2.94"),
        (b"-TR111Z-", "Transmission 1.11+"),
        (b"-TR0072-", "Transmission 0.72"),
        (b"-TR0006-", "Transmission 0.6"),
        (b"-TR4050-", "Transmission 4.0.5"),
        (b"-lt0D80-", "libtorrent (rakshasa) 0.13.8"),
        (b"-LT2080-", "libtorrent (Rasterbar) 2.0.8"),
        (b"-UT355W-", "µTorrent 3.5.5"),
        (b"-DE211s-", "Deluge 2.1.1"),
        (b"-rQ8000-", "rqbit 8.0.0"),
        (b"-RQ0001-", "rqbit 0.0.0"),
        (b"-AZ5770-", "Vuze 5.7.7.0"),
        (b"-BT7a3s-", "BitTorrent 7.10.3"),
        (b"-FE0100-", "ferrent 0.1.0"),
    ];
    for (prefix, name) in cases {
        assert_eq!(id(prefix).client_name().as_deref(), Some(name), "{}", id(prefix));
    }
}

#[test]
fn a_known_client_with_an_unreadable_version_is_still_named() {
    assert_eq!(id(b"-qB4.5.-").client_name().as_deref(), Some("qBittorrent"));
    assert_eq!(id(b"-TR3?00-").client_name().as_deref(), Some("Transmission"));
}

#[test]
fn mainline_and_shadow_style_ids_name_their_client() {
    let cases: [(&[u8], &str); 6] = [
        (b"M7-4-3--", "Mainline 7.4.3"),
        (b"M4-20-8-", "Mainline 4.20.8"),
        (b"A2-1-37-0-", "aria2 1.37.0"),
        (b"Q1-10-0-", "Queen Bee 1.10.0"),
        (b"T03I-----", "BitTornado 0.3.18"),
        (b"S58B-----", "Shadow 5.8.11"),
    ];
    for (prefix, name) in cases {
        assert_eq!(id(prefix).client_name().as_deref(), Some(name), "{}", id(prefix));
    }
}

#[test]
fn unknown_or_random_ids_have_no_client_name() {
    for prefix in [
        &b"-ZZ1234-"[..],
        b"-qB4500",
        b"01234567",
        b"M7-4-3",
        b"M-4-3--",
        b"A2-1-37-x",
        b"T03I56--",
        b"T-------",
        b"X03I-----",
    ] {
        assert_eq!(id(prefix).client_name(), None, "{}", id(prefix));
    }
    assert_eq!(PeerId([0; 20]).client_name(), None);
    assert_eq!(PeerId([0xff; 20]).client_name(), None);
}

#[test]
fn display_escapes_unprintable_bytes() {
    let mut bytes = *b"-qB4500-abcdefghijkl";
    bytes[19] = 0;
    let peer = PeerId::from(bytes);
    assert_eq!(peer.to_string(), "-qB4500-abcdefghijk\\x00");
    assert_eq!(format!("{peer:?}"), "PeerId(\"-qB4500-abcdefghijk\\x00\")");
    assert_eq!(<[u8; 20]>::from(peer), bytes);
}
