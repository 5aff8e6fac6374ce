//! Fuzzes the peer wire codec: a handshake, then a message stream fed in chunks.
//!
//! Checks, besides the absence of panics, that every decoded message re-encodes to exactly
//! the bytes it was decoded from, and that errors and `Ok(None)` consume nothing.
#![no_main]

use bytes::BytesMut;
use ferrent_wire::{Decoder, Handshake, PeerId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First byte: the decoder's limit (in 64-byte steps); second: the chunk size.
    let [limit, chunk, rest @ ..] = data else { return };
    let (handshake, stream) = rest.split_at(rest.len().min(Handshake::LEN));
    if let Ok(decoded) = Handshake::decode(handshake) {
        assert_eq!(&decoded.encode()[..], handshake);
        let _ = PeerId(decoded.peer_id).client_name();
    }

    let mut decoder = Decoder::new(u32::from(*limit) * 64);
    let mut buf = BytesMut::new();
    let mut consumed = 0;
    for piece in stream.chunks(usize::from(*chunk).max(1)) {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            let wanted = decoder.wanted(&buf);
            match decoder.decode(&mut buf) {
                Ok(Some(message)) => {
                    assert_eq!(wanted, 0);
                    let used = before - buf.len();
                    let mut again = BytesMut::new();
                    message.encode(&mut again);
                    assert_eq!(&again[..], &stream[consumed..consumed + used]);
                    consumed += used;
                }
                Ok(None) => {
                    assert_eq!(buf.len(), before);
                    assert!(wanted > 0);
                    break;
                }
                Err(_) => {
                    assert_eq!(buf.len(), before);
                    return;
                }
            }
        }
    }
});
