//! Magnet link parsing and formatting.

use ferrent_core::{InfoHashError, InfoHashV1, InfoHashV2, Magnet, MagnetError, PeerAddr};

const HEX: &str = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
const V2: &str = "d8cd02b8c8ac0af2bc0403590a41e1fd5db863b031a0265b7f9adebf41a24910";

fn v1() -> InfoHashV1 {
    InfoHashV1::parse(HEX).unwrap()
}

#[test]
fn hash_forms() {
    let m = Magnet::parse(&format!("magnet:?xt=urn:btih:{HEX}")).unwrap();
    assert_eq!((m.info_hashes.v1, m.info_hashes.v2), (Some(v1()), None));

    let b32 = data_encoding::BASE32_NOPAD.encode(&v1().0);
    for form in [b32.clone(), b32.to_lowercase(), HEX.to_uppercase()] {
        let m = Magnet::parse(&format!("magnet:?xt=urn:btih:{form}")).unwrap();
        assert_eq!(m.info_hashes.v1, Some(v1()), "{form}");
    }

    let m = Magnet::parse(&format!("magnet:?xt=urn:btmh:1220{V2}")).unwrap();
    assert_eq!((m.info_hashes.v1, m.info_hashes.v2), (None, Some(InfoHashV2::parse(V2).unwrap())));

    let hybrid = format!("MAGNET:?xt=urn:btih:{HEX}&xt=urn:btmh:1220{V2}");
    let m = Magnet::parse(&hybrid).unwrap();
    assert!(m.info_hashes.v1.is_some() && m.info_hashes.v2.is_some());
    // The same hash twice is fine; numbered parameters (BEP 9) count too.
    let twice = format!("magnet:?xt.1=urn:btih:{HEX}&xt.2=urn:btih:{}", HEX.to_uppercase());
    assert_eq!(Magnet::parse(&twice).unwrap().info_hashes.v1, Some(v1()));
}

#[test]
fn parameters() {
    let uri = format!(
        "magnet:?xt=urn:btih:{HEX}&dn=Some%20Name+%2B%C3%A9&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce\
         &tr=udp://127.0.0.1:6969&tr.1=udp://127.0.0.1:6969&ws=http://127.0.0.1/seed\
         &x.pe=10.0.0.1:6881&x.pe=[::1]:51413&x.pe=peer.example:7000&so=0,2,4-6&xl=1234&kt=a+b&&"
    );
    let m = Magnet::parse(&uri).unwrap();
    assert_eq!(m.display_name.as_deref(), Some("Some Name++é"));
    assert_eq!(m.trackers, ["http://127.0.0.1:6969/announce", "udp://127.0.0.1:6969"]);
    assert_eq!(m.web_seeds, ["http://127.0.0.1/seed"]);
    assert_eq!(
        m.peers,
        [
            PeerAddr::Socket("10.0.0.1:6881".parse().unwrap()),
            PeerAddr::Socket("[::1]:51413".parse().unwrap()),
            PeerAddr::Host { host: "peer.example".into(), port: 7000 },
        ]
    );
    assert_eq!(m.select_only, [0..=0, 2..=2, 4..=6]);
    assert!(m.selects(0) && m.selects(5) && !m.selects(1) && !m.selects(7));
    assert!(Magnet::parse(&format!("magnet:?xt=urn:btih:{HEX}")).unwrap().selects(99));
}

#[test]
fn round_trip() {
    let uri = format!(
        "magnet:?xt=urn:btmh:1220{V2}&xt=urn:btih:{HEX}&dn=a%26b%3Dc%20d&tr=udp://127.0.0.1:1\
         &ws=http://127.0.0.1/x%20y&x.pe=[::1]:1&x.pe=h:2&so=3,5-9"
    );
    let m = Magnet::parse(&uri).unwrap();
    assert_eq!(m.display_name.as_deref(), Some("a&b=c d"));
    let out = m.to_uri();
    assert!(out
        .starts_with(&format!("magnet:?xt=urn:btih:{HEX}&xt=urn:btmh:1220{V2}&dn=a%26b%3Dc%20d")));
    assert!(out.ends_with("&so=3,5-9"));
    assert_eq!(m.to_string(), out);
    assert_eq!(Magnet::parse(&out).unwrap(), m);
    assert_eq!(out.parse::<Magnet>().unwrap(), m);
}

fn err(uri: &str) -> MagnetError {
    Magnet::parse(uri).expect_err(uri)
}

#[test]
fn errors() {
    assert_eq!(err(""), MagnetError::NotMagnet);
    assert_eq!(err("http://127.0.0.1/?xt=urn:btih:x"), MagnetError::NotMagnet);
    assert_eq!(err(&format!("magnet:xt=urn:btih:{HEX}")), MagnetError::NotMagnet);
    assert_eq!(err("magnét:?"), MagnetError::NotMagnet);
    assert_eq!(err("magnet:?"), MagnetError::MissingInfoHash);
    assert_eq!(err("magnet:?dn=x&tr=udp://127.0.0.1:1"), MagnetError::MissingInfoHash);
    assert_eq!(
        err("magnet:?xt=urn:ed2k:31D6CFE0D16AE931B73C59D7E0C089C0"),
        MagnetError::MissingInfoHash
    );
    assert_eq!(
        err("magnet:?xt=urn:btih:abc"),
        MagnetError::BadInfoHash {
            value: "urn:btih:abc".into(),
            source: InfoHashError::BadLength(3)
        }
    );
    let bad_hex = "g".repeat(40);
    assert_eq!(
        err(&format!("magnet:?xt=urn:btih:{bad_hex}")),
        MagnetError::BadInfoHash {
            value: format!("urn:btih:{bad_hex}"),
            source: InfoHashError::BadHex
        }
    );
    let bad_b32 = "1".repeat(32);
    assert!(matches!(
        err(&format!("magnet:?xt=urn:btih:{bad_b32}")),
        MagnetError::BadInfoHash { source: InfoHashError::BadBase32, .. }
    ));
    assert_eq!(
        err(&format!("magnet:?xt=urn:btmh:1114{V2}")),
        MagnetError::UnsupportedMultihash(format!("1114{V2}"))
    );
    assert_eq!(
        err("magnet:?xt=urn:btmh:1220abcd"),
        MagnetError::UnsupportedMultihash("1220abcd".into())
    );
    let other = "0".repeat(40);
    assert_eq!(
        err(&format!("magnet:?xt=urn:btih:{HEX}&xt=urn:btih:{other}")),
        MagnetError::ConflictingHashes(HEX.into(), other)
    );
    let ok = format!("magnet:?xt=urn:btih:{HEX}");
    assert_eq!(err(&format!("{ok}&dn=%FF")), MagnetError::NotUtf8("dn".into()));
    for peer in
        ["1.2.3.4", "[::1]", "::1:6881", "host:0", "host:70000", ":80", "a b:1", "1.2.3:4", "-x:1"]
    {
        let encoded = peer.replace(' ', "%20");
        assert_eq!(
            err(&format!("{ok}&x.pe={encoded}")),
            MagnetError::BadPeer(peer.into()),
            "{peer}"
        );
    }
    for so in ["", "a", "1,,2", "3-1", "-1", "1-", "1-2-3", "99999999999999999999999"] {
        assert_eq!(err(&format!("{ok}&so={so}")), MagnetError::BadSelectOnly(so.into()), "{so}");
    }
    assert_eq!(
        err("magnet:?xt=urn:btih:abc").to_string(),
        "xt: bad info hash \"urn:btih:abc\": info hash has 3 characters; expected 40 hex or 32 base32 (v1) or 64 hex (v2)"
    );
}
