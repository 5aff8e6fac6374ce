//! The handshake layout of BEP 3 and the reserved bits of BEP 5, 6, 10 and 52.

use ferrent_wire::{Handshake, Reserved, WireError};

fn sample() -> Handshake {
    let mut info_hash = [0; 20];
    let mut peer_id = [0; 20];
    for i in 0..20u8 {
        info_hash[usize::from(i)] = i;
        peer_id[usize::from(i)] = 0x80 | i;
    }
    Handshake { reserved: Reserved([1, 2, 3, 4, 5, 6, 7, 8]), info_hash, peer_id }
}

#[test]
fn layout_matches_the_specification() {
    let bytes = sample().encode();
    assert_eq!(bytes.len(), Handshake::LEN);
    assert_eq!(bytes[0], 19);
    assert_eq!(&bytes[1..20], b"BitTorrent protocol");
    assert_eq!(bytes[20..28], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(bytes[28..48], sample().info_hash);
    assert_eq!(bytes[48..68], sample().peer_id);
}

#[test]
fn round_trips() {
    assert_eq!(Handshake::decode(&sample().encode()), Ok(sample()));
    let ours = Handshake::new([9; 20], *b"-FE0100-abcdefghijkl");
    assert_eq!(ours.reserved, Reserved::ferrent());
    assert_eq!(Handshake::decode(&ours.encode()), Ok(ours));
}

#[test]
fn decodes_a_handshake_written_out_by_hand() {
    // What a libtorrent 2.0 peer sends: extension protocol, fast and DHT bits set.
    let mut bytes = vec![19];
    bytes.extend_from_slice(b"BitTorrent protocol");
    bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0x10, 0, 0x05]);
    bytes.extend_from_slice(&[0xaa; 20]);
    bytes.extend_from_slice(b"-LT2080-0123456789ab");
    let handshake = Handshake::decode(&bytes).unwrap();
    assert!(handshake.reserved.extension_protocol());
    assert!(handshake.reserved.fast());
    assert!(handshake.reserved.dht());
    assert!(!handshake.reserved.v2_upgrade());
    assert_eq!(handshake.info_hash, [0xaa; 20]);
    assert_eq!(&handshake.peer_id, b"-LT2080-0123456789ab");
}

#[test]
fn wrong_sizes_are_refused() {
    let bytes = sample().encode();
    for len in [0, 1, 20, 48, 67] {
        assert_eq!(Handshake::decode(&bytes[..len]), Err(WireError::HandshakeLength { len }));
    }
    let mut long = bytes.to_vec();
    long.push(0);
    assert_eq!(Handshake::decode(&long), Err(WireError::HandshakeLength { len: 69 }));
}

#[test]
fn another_protocol_is_refused() {
    let mut bytes = sample().encode();
    bytes[0] = 18;
    assert_eq!(Handshake::decode(&bytes), Err(WireError::HandshakeProtocolLength(18)));

    let mut bytes = sample().encode();
    bytes[19] = b'L';
    let err = Handshake::decode(&bytes).unwrap_err();
    assert_eq!(err, WireError::HandshakeProtocol);
    assert_eq!(err.to_string(), "handshake protocol string is not 'BitTorrent protocol'");

    // An HTTP request, a common thing to find on a BitTorrent port.
    let mut http = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec();
    http.resize(Handshake::LEN, b' ');
    assert_eq!(Handshake::decode(&http), Err(WireError::HandshakeProtocolLength(b'G')));
}

#[test]
fn each_reserved_bit_sits_where_its_bep_puts_it() {
    type Setter = fn(&mut Reserved, bool);
    type Getter = fn(&Reserved) -> bool;
    let bits: [(Setter, Getter, usize, u8); 4] = [
        (Reserved::set_extension_protocol, Reserved::extension_protocol, 5, 0x10),
        (Reserved::set_fast, Reserved::fast, 7, 0x04),
        (Reserved::set_dht, Reserved::dht, 7, 0x01),
        (Reserved::set_v2_upgrade, Reserved::v2_upgrade, 7, 0x10),
    ];
    for (set, get, byte, mask) in bits {
        let mut reserved = Reserved::default();
        assert!(!get(&reserved));
        set(&mut reserved, true);
        assert!(get(&reserved));
        let mut expected = [0; 8];
        expected[byte] = mask;
        assert_eq!(reserved.0, expected);
        // Clearing one bit leaves the others alone.
        let mut all = Reserved([0xff; 8]);
        set(&mut all, false);
        assert!(!get(&all));
        let mut expected = [0xff; 8];
        expected[byte] &= !mask;
        assert_eq!(all.0, expected);
    }
}

#[test]
fn ferrent_advertises_extensions_fast_and_dht() {
    let reserved = Reserved::ferrent();
    assert_eq!(reserved.0, [0, 0, 0, 0, 0, 0x10, 0, 0x05]);
    assert_eq!(format!("{reserved:?}"), "Reserved(0000000000100005)");
}
