//! Fuzzes the UDP tracker side: response decoding, and the state machine fed arbitrary
//! datagrams and timeouts.
//!
//! Checks, besides the absence of panics, that the state machine keeps its invariants: a
//! deadline exactly while busy, at most one datagram queued, and a bounded number of sends.
#![no_main]

use std::time::{Duration, Instant};

use ferrent_core::InfoHashV1;
use ferrent_tracker::udp::UdpResponse;
use ferrent_tracker::{AnnounceEvent, AnnounceRequest, UdpConfig, UdpTracker};
use libfuzzer_sys::fuzz_target;
use rand::rngs::mock::StepRng;

fuzz_target!(|data: &[u8]| {
    let [flags, script @ ..] = data else { return };
    let ipv6 = flags & 1 == 1;
    let _ = UdpResponse::decode(script, ipv6);

    let config = UdpConfig { max_retransmits: 3, ..UdpConfig::default() };
    let mut tracker = UdpTracker::new(config, ipv6, vec![b'/'; 300], &mut StepRng::new(7, 11));
    let request = AnnounceRequest {
        info_hash: InfoHashV1([1; 20]),
        peer_id: [2; 20],
        port: 3,
        uploaded: 4,
        downloaded: 5,
        left: 6,
        event: AnnounceEvent::Started,
        numwant: None,
        key: 7,
        tracker_id: None,
    };
    let mut now = Instant::now();
    let mut sends = 0u32;
    let mut rest = script;
    // Each step: an opcode byte, then for datagrams a length byte and the datagram.
    while let [op, tail @ ..] = rest {
        rest = tail;
        match op % 4 {
            0 => tracker.announce(request.clone(), now),
            1 => {
                now += Duration::from_secs(u64::from(*op));
                tracker.handle_timeout(now);
            }
            2 => {
                if let Some(deadline) = tracker.poll_timeout() {
                    now = now.max(deadline);
                    tracker.handle_timeout(now);
                }
            }
            _ => {
                let [len, tail @ ..] = rest else { break };
                let (datagram, tail) = tail.split_at(usize::from(*len).min(tail.len()));
                rest = tail;
                tracker.handle_datagram(datagram, now);
            }
        }
        if tracker.poll_transmit().is_some() {
            sends += 1;
        }
        assert_eq!(tracker.poll_transmit(), None, "one datagram per step");
        assert_eq!(tracker.is_busy(), tracker.poll_timeout().is_some());
        while tracker.poll_event().is_some() {}
    }
    assert!(sends as usize <= script.len() + 1);
});
