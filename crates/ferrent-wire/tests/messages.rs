//! Message encoding and decoding against the byte layouts of BEP 3, 5, 6 and 10.

use bytes::{Bytes, BytesMut};
use ferrent_wire::{
    encode_piece_header, encode_request, BlockInfo, Decoder, Message, MessageKind, WireError,
    DEFAULT_MAX_MESSAGE_LEN, MIN_MAX_MESSAGE_LEN,
};

const BLOCK: BlockInfo = BlockInfo { index: 1, begin: 0x4000, length: 0x4000 };

/// One message of every kind, with payloads of several sizes.
fn samples() -> Vec<Message> {
    vec![
        Message::KeepAlive,
        Message::Choke,
        Message::Unchoke,
        Message::Interested,
        Message::NotInterested,
        Message::Have { index: 5 },
        Message::Bitfield(Bytes::from_static(&[0b1010_0000, 0xff, 0x01])),
        Message::Bitfield(Bytes::new()),
        Message::Request(BLOCK),
        Message::Piece { index: 9, begin: 0x8000, data: Bytes::from(vec![0x5a; 16_384]) },
        Message::Piece { index: 0, begin: 0, data: Bytes::new() },
        Message::Cancel(BLOCK),
        Message::Port(6881),
        Message::Suggest { index: u32::MAX },
        Message::HaveAll,
        Message::HaveNone,
        Message::Reject(BLOCK),
        Message::AllowedFast { index: 42 },
        Message::Extended { id: 0, payload: Bytes::from_static(b"d1:md6:ut_pexi1eee") },
        Message::Extended { id: 3, payload: Bytes::new() },
        Message::Unknown { id: 21, payload: Bytes::from_static(&[1, 2, 3]) },
        Message::Unknown { id: 255, payload: Bytes::new() },
    ]
}

fn encode(message: &Message) -> Vec<u8> {
    let mut buf = BytesMut::new();
    message.encode(&mut buf);
    buf.to_vec()
}

fn decode_all(bytes: &[u8]) -> Result<Vec<Message>, WireError> {
    let mut decoder = Decoder::default();
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(message) = decoder.decode(&mut buf)? {
        out.push(message);
    }
    assert!(buf.is_empty(), "{} bytes left undecoded", buf.len());
    Ok(out)
}

/// The error from decoding `bytes`, which must not consume anything.
fn decode_error(bytes: &[u8]) -> WireError {
    let mut buf = BytesMut::from(bytes);
    let err = Decoder::default().decode(&mut buf).expect_err("decoding should fail");
    assert_eq!(&buf[..], bytes, "an error must leave the buffer untouched");
    assert_eq!(Decoder::default().wanted(&buf), 0, "wanted() must hand over to decode()");
    err
}

#[test]
fn exact_bytes_match_the_specification() {
    let cases: Vec<(Message, Vec<u8>)> = vec![
        (Message::KeepAlive, vec![0, 0, 0, 0]),
        (Message::Choke, vec![0, 0, 0, 1, 0]),
        (Message::Unchoke, vec![0, 0, 0, 1, 1]),
        (Message::Interested, vec![0, 0, 0, 1, 2]),
        (Message::NotInterested, vec![0, 0, 0, 1, 3]),
        (Message::Have { index: 5 }, vec![0, 0, 0, 5, 4, 0, 0, 0, 5]),
        (Message::Bitfield(Bytes::from_static(&[0xc0])), vec![0, 0, 0, 2, 5, 0xc0]),
        (Message::Request(BLOCK), vec![0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0]),
        (
            Message::Piece { index: 2, begin: 0x4000, data: Bytes::from_static(b"ab") },
            vec![0, 0, 0, 11, 7, 0, 0, 0, 2, 0, 0, 0x40, 0, b'a', b'b'],
        ),
        (Message::Cancel(BLOCK), vec![0, 0, 0, 13, 8, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0]),
        (Message::Port(0x1ae1), vec![0, 0, 0, 3, 9, 0x1a, 0xe1]),
        (Message::Suggest { index: 0x0102_0304 }, vec![0, 0, 0, 5, 13, 1, 2, 3, 4]),
        (Message::HaveAll, vec![0, 0, 0, 1, 14]),
        (Message::HaveNone, vec![0, 0, 0, 1, 15]),
        (Message::Reject(BLOCK), vec![0, 0, 0, 13, 16, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0]),
        (Message::AllowedFast { index: 7 }, vec![0, 0, 0, 5, 17, 0, 0, 0, 7]),
        (
            Message::Extended { id: 0, payload: Bytes::from_static(b"de") },
            vec![0, 0, 0, 4, 20, 0, b'd', b'e'],
        ),
        (Message::Unknown { id: 99, payload: Bytes::from_static(&[7]) }, vec![0, 0, 0, 2, 99, 7]),
    ];
    for (message, bytes) in cases {
        assert_eq!(encode(&message), bytes, "encoding {message:?}");
        assert_eq!(decode_all(&bytes), Ok(vec![message.clone()]), "decoding {message:?}");
    }
}

#[test]
fn every_message_round_trips_on_its_own() {
    for message in samples() {
        let bytes = encode(&message);
        assert_eq!(bytes.len(), message.encoded_len(), "encoded_len of {message:?}");
        assert_eq!(decode_all(&bytes), Ok(vec![message.clone()]));
    }
}

#[test]
fn several_messages_in_one_buffer_come_out_in_order() {
    let bytes: Vec<u8> = samples().iter().flat_map(encode).collect();
    assert_eq!(decode_all(&bytes), Ok(samples()));
}

#[test]
fn feeding_one_byte_at_a_time_gives_the_same_messages() {
    let bytes: Vec<u8> = samples().iter().flat_map(encode).collect();
    let mut decoder = Decoder::default();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for &byte in &bytes {
        buf.extend_from_slice(&[byte]);
        loop {
            let wanted = decoder.wanted(&buf);
            match decoder.decode(&mut buf).unwrap() {
                Some(message) => {
                    assert_eq!(wanted, 0, "wanted() said more bytes were needed for {message:?}");
                    out.push(message);
                }
                None => {
                    assert!(wanted > 0, "wanted() said 0 but nothing decoded");
                    break;
                }
            }
        }
    }
    assert!(buf.is_empty());
    assert_eq!(out, samples());
}

#[test]
fn wanted_counts_the_missing_bytes() {
    let decoder = Decoder::default();
    let have = encode(&Message::Have { index: 1 });
    for present in 0..have.len() {
        let expected = if present < 4 { 4 - present } else { have.len() - present };
        assert_eq!(decoder.wanted(&have[..present]), expected, "with {present} bytes");
    }
    assert_eq!(decoder.wanted(&have), 0);
    let piece = encode(&Message::Piece { index: 0, begin: 0, data: Bytes::from(vec![1; 100]) });
    assert_eq!(decoder.wanted(&piece[..4]), 109);
    assert_eq!(decoder.wanted(&piece[..50]), 63);
}

#[test]
fn decoded_payloads_share_the_receive_buffer() {
    let message = Message::Piece { index: 1, begin: 2, data: Bytes::from(vec![3; 1000]) };
    let mut buf = BytesMut::from(&encode(&message)[..]);
    let start = buf.as_ptr() as usize;
    let Some(Message::Piece { data, .. }) = Decoder::default().decode(&mut buf).unwrap() else {
        panic!("expected a piece");
    };
    assert_eq!(data.as_ptr() as usize, start + 13, "the data should not have been copied");
}

#[test]
fn piece_header_and_request_helpers_match_full_encoding() {
    let data = Bytes::from(vec![0xee; 300]);
    let mut fast = BytesMut::new();
    encode_piece_header(4, 0x4000, 300, &mut fast);
    assert_eq!(fast.len(), ferrent_wire::PIECE_HEADER_LEN);
    fast.extend_from_slice(&data);
    assert_eq!(&fast[..], encode(&Message::Piece { index: 4, begin: 0x4000, data }));

    let mut request = BytesMut::new();
    encode_request(BLOCK, &mut request);
    assert_eq!(&request[..], encode(&Message::Request(BLOCK)));
}

#[test]
fn fixed_size_messages_with_another_length_are_refused() {
    let cases: [(u8, MessageKind, u32); 13] = [
        (0, MessageKind::Choke, 1),
        (1, MessageKind::Unchoke, 1),
        (2, MessageKind::Interested, 1),
        (3, MessageKind::NotInterested, 1),
        (4, MessageKind::Have, 5),
        (6, MessageKind::Request, 13),
        (8, MessageKind::Cancel, 13),
        (9, MessageKind::Port, 3),
        (13, MessageKind::Suggest, 5),
        (14, MessageKind::HaveAll, 1),
        (15, MessageKind::HaveNone, 1),
        (16, MessageKind::Reject, 13),
        (17, MessageKind::AllowedFast, 5),
    ];
    for (id, kind, expected) in cases {
        for len in [expected - 1, expected + 1, 1000].into_iter().filter(|&len| len >= 1) {
            // Only the prefix and the id are present: the error must not wait for the body.
            let bytes = [&len.to_be_bytes()[..], &[id]].concat();
            assert_eq!(
                decode_error(&bytes),
                WireError::WrongLength { kind, len, expected },
                "id {id} with length {len}"
            );
        }
    }
}

#[test]
fn variable_size_messages_too_short_for_their_header_are_refused() {
    for len in 1u32..9 {
        let mut bytes = len.to_be_bytes().to_vec();
        bytes.push(7);
        bytes.resize(4 + len as usize, 0);
        let expected = WireError::TooShort { kind: MessageKind::Piece, len, min: 9 };
        assert_eq!(decode_error(&bytes), expected);
        assert_eq!(decode_error(&bytes[..5]), expected, "checked before the body arrives");
    }
    let expected = WireError::TooShort { kind: MessageKind::Extended, len: 1, min: 2 };
    assert_eq!(decode_error(&[0, 0, 0, 1, 20]), expected);
}

#[test]
fn a_four_gib_length_is_refused_from_the_prefix_alone() {
    let err = decode_error(&[0xff, 0xff, 0xff, 0xff]);
    assert_eq!(err, WireError::MessageTooLong { len: u32::MAX, limit: DEFAULT_MAX_MESSAGE_LEN });
}

#[test]
fn the_limit_is_inclusive() {
    let limit = 100;
    let mut decoder = Decoder::new(limit);
    let at_limit = Message::Bitfield(Bytes::from(vec![0xff; limit as usize - 1]));
    let mut buf = BytesMut::from(&encode(&at_limit)[..]);
    assert_eq!(decoder.decode(&mut buf), Ok(Some(at_limit)));

    let over = encode(&Message::Bitfield(Bytes::from(vec![0xff; limit as usize])));
    let mut buf = BytesMut::from(&over[..4]);
    assert_eq!(decoder.decode(&mut buf), Err(WireError::MessageTooLong { len: 101, limit }));
    assert_eq!(buf.len(), 4);
}

#[test]
fn limit_for_a_piece_count_fits_its_bitfield() {
    assert_eq!(Decoder::for_piece_count(0).max_message_len(), MIN_MAX_MESSAGE_LEN);
    assert_eq!(Decoder::for_piece_count(1_000).max_message_len(), MIN_MAX_MESSAGE_LEN);
    assert_eq!(Decoder::for_piece_count(1_000_001).max_message_len(), 125_002);
    assert_eq!(Decoder::for_piece_count(u32::MAX).max_message_len(), u32::MAX / 8 + 2);

    let bitfield = encode(&Message::Bitfield(Bytes::from(vec![0xff; 125_001])));
    let mut decoder = Decoder::for_piece_count(1_000_001);
    assert!(matches!(decoder.decode(&mut BytesMut::from(&bitfield[..])), Ok(Some(_))));
    decoder.set_max_message_len(MIN_MAX_MESSAGE_LEN);
    let err = decoder.decode(&mut BytesMut::from(&bitfield[..])).unwrap_err();
    assert_eq!(err, WireError::MessageTooLong { len: 125_002, limit: MIN_MAX_MESSAGE_LEN });
}

#[test]
fn an_error_does_not_hide_the_messages_before_it() {
    let mut bytes = encode(&Message::Unchoke);
    bytes.extend_from_slice(&[0, 0, 0, 2, 4, 0]);
    let mut decoder = Decoder::default();
    let mut buf = BytesMut::from(&bytes[..]);
    assert_eq!(decoder.decode(&mut buf), Ok(Some(Message::Unchoke)));
    let err = decoder.decode(&mut buf).unwrap_err();
    assert_eq!(err, WireError::WrongLength { kind: MessageKind::Have, len: 2, expected: 5 });
}

#[test]
fn errors_say_what_was_wrong() {
    let too_long = WireError::MessageTooLong { len: 2_000_000, limit: 262_144 };
    assert_eq!(too_long.to_string(), "message of 2000000 bytes exceeds limit 262144");
    let have = WireError::WrongLength { kind: MessageKind::Have, len: 3, expected: 5 };
    assert_eq!(have.to_string(), "have message has length 3, expected 5");
    let piece = WireError::TooShort { kind: MessageKind::Piece, len: 4, min: 9 };
    assert_eq!(piece.to_string(), "piece message has length 4, expected at least 9");
}

#[test]
fn kinds_and_ids_agree() {
    for id in 0..=u8::MAX {
        let kind = MessageKind::from_id(id);
        assert_eq!(kind.id(), Some(id), "{kind}");
    }
    for message in samples() {
        let bytes = encode(&message);
        assert_eq!(message.kind().id(), bytes.get(4).copied(), "{message:?}");
    }
    assert_eq!(MessageKind::KeepAlive.id(), None);
    assert_eq!(MessageKind::from_id(21), MessageKind::Unknown(21));
    assert_eq!(MessageKind::Unknown(21).to_string(), "unknown (id 21)");
}

#[test]
fn debug_output_abbreviates_large_payloads() {
    let piece = Message::Piece { index: 1, begin: 0, data: Bytes::from(vec![0; 16_384]) };
    assert_eq!(format!("{piece:?}"), "Piece { index: 1, begin: 0, data: <16384 bytes> }");
    let small = Message::Bitfield(Bytes::from_static(b"\x01"));
    assert_eq!(format!("{small:?}"), "Bitfield(b\"\\x01\")");
    assert_eq!(format!("{:?}", Message::HaveAll), "HaveAll");
}
