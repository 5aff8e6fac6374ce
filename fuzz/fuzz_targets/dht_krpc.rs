//! Fuzzes the DHT: the KRPC codec, then a node fed the same bytes as a datagram.
//!
//! Checks, besides the absence of panics, that every accepted message re-encodes to bytes
//! that decode to the same message, that a node's queues stay bounded whatever it is fed,
//! and that oversized datagrams are refused unread.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ferrent_dht::krpc::{Message, MAX_PACKET};
use ferrent_dht::{AddressPolicy, Config, Dht};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match Message::decode(data, MAX_PACKET) {
        Ok(message) => {
            let again =
                Message::decode(&message.encode(), usize::MAX).expect("re-encoding decodes");
            assert_eq!(again, message);
        }
        Err(error) => {
            if data.len() > MAX_PACKET {
                assert!(error.transaction_id.is_none());
            }
        }
    }

    // The first byte picks the source; the rest is one datagram, then time passes.
    let [source, datagram @ ..] = data else { return };
    let now = Instant::now();
    let config = Config {
        seed: 1,
        addresses: AddressPolicy { allow_loopback: true, allow_private: true },
        ..Config::default()
    };
    let mut dht = Dht::new(config, now);
    dht.bootstrap(&["127.0.0.1:6881".parse().unwrap()], now);
    let from = SocketAddr::from(([127, 0, 0, 1], 6881 + u16::from(*source % 4)));
    for round in 0..3u32 {
        let at = now + Duration::from_millis(u64::from(round) * 700);
        dht.handle_datagram(from, datagram, at);
        dht.handle_timeout(at);
        let stats = dht.stats();
        assert!(stats.queued_datagrams <= 1024 && stats.pending_queries <= 256);
        while let Some((_, bytes)) = dht.poll_transmit() {
            assert!(bytes.len() <= MAX_PACKET);
        }
        while dht.poll_event().is_some() {}
    }
});
