//! Property tests: message sequences survive any split of the stream, and arbitrary bytes
//! never make the decoder panic, lose bytes or exceed its limit.

use bytes::{Bytes, BytesMut};
use ferrent_wire::{BlockInfo, Decoder, Handshake, Message, MessageKind};
use proptest::collection::vec;
use proptest::prelude::*;

fn payload(max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn block() -> impl Strategy<Value = BlockInfo> {
    (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(index, begin, length)| BlockInfo {
        index,
        begin,
        length,
    })
}

fn message() -> impl Strategy<Value = Message> {
    let unknown_id = any::<u8>().prop_filter("an id this crate does not know", |id| {
        matches!(MessageKind::from_id(*id), MessageKind::Unknown(_))
    });
    prop_oneof![
        Just(Message::KeepAlive),
        Just(Message::Choke),
        Just(Message::Unchoke),
        Just(Message::Interested),
        Just(Message::NotInterested),
        Just(Message::HaveAll),
        Just(Message::HaveNone),
        any::<u32>().prop_map(|index| Message::Have { index }),
        any::<u32>().prop_map(|index| Message::Suggest { index }),
        any::<u32>().prop_map(|index| Message::AllowedFast { index }),
        payload(64).prop_map(Message::Bitfield),
        block().prop_map(Message::Request),
        block().prop_map(Message::Cancel),
        block().prop_map(Message::Reject),
        any::<u16>().prop_map(Message::Port),
        (any::<u32>(), any::<u32>(), payload(20_000))
            .prop_map(|(index, begin, data)| Message::Piece { index, begin, data }),
        (any::<u8>(), payload(200)).prop_map(|(id, payload)| Message::Extended { id, payload }),
        (unknown_id, payload(50)).prop_map(|(id, payload)| Message::Unknown { id, payload }),
    ]
}

proptest! {
    #[test]
    fn sequences_survive_any_split(
        messages in vec(message(), 0..20),
        cuts in vec(any::<prop::sample::Index>(), 0..10),
    ) {
        let mut stream = BytesMut::new();
        for message in &messages {
            message.encode(&mut stream);
        }
        let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut.index(stream.len() + 1)).collect();
        cuts.push(stream.len());
        cuts.sort_unstable();

        let mut decoder = Decoder::default();
        let mut buf = BytesMut::new();
        let mut decoded = Vec::new();
        let mut start = 0;
        for cut in cuts {
            buf.extend_from_slice(&stream[start..cut]);
            start = cut;
            while let Some(message) = decoder.decode(&mut buf).unwrap() {
                decoded.push(message);
            }
            prop_assert!(decoder.wanted(&buf) > 0);
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(decoded, messages);
    }

    #[test]
    fn arbitrary_bytes_are_framed_or_refused_without_loss(
        bytes in vec(any::<u8>(), 0..400),
        limit in 0u32..300,
    ) {
        let mut decoder = Decoder::new(limit);
        let mut buf = BytesMut::from(&bytes[..]);
        loop {
            let before = buf.len();
            let wanted = decoder.wanted(&buf);
            match decoder.decode(&mut buf) {
                Ok(Some(message)) => {
                    prop_assert_eq!(wanted, 0);
                    // What was consumed is exactly the message's encoding.
                    let consumed = &bytes[bytes.len() - before..bytes.len() - buf.len()];
                    prop_assert!(consumed.len() <= limit as usize + 4);
                    let mut again = BytesMut::new();
                    message.encode(&mut again);
                    prop_assert_eq!(&again[..], consumed);
                }
                Ok(None) => {
                    prop_assert_eq!(buf.len(), before);
                    prop_assert!(wanted > 0);
                    prop_assert!(before + wanted <= limit as usize + 4);
                    break;
                }
                Err(_) => {
                    prop_assert_eq!(buf.len(), before);
                    prop_assert_eq!(wanted, 0);
                    break;
                }
            }
        }
    }

    #[test]
    fn handshakes_round_trip_and_garbage_never_panics(
        reserved in any::<[u8; 8]>(),
        info_hash in any::<[u8; 20]>(),
        peer_id in any::<[u8; 20]>(),
        garbage in vec(any::<u8>(), 0..80),
    ) {
        let handshake = Handshake { reserved: ferrent_wire::Reserved(reserved), info_hash, peer_id };
        prop_assert_eq!(Handshake::decode(&handshake.encode()), Ok(handshake));
        if let Ok(decoded) = Handshake::decode(&garbage) {
            prop_assert_eq!(&decoded.encode()[..], &garbage[..]);
        }
        let _ = ferrent_wire::PeerId(peer_id).client_name();
    }
}
