//! Fuzzes the HTTP tracker side: announce response parsing, and URL handling.
//!
//! Checks, besides the absence of panics, that parsed responses are consistent with the
//! input size and that text from the tracker is printable.
#![no_main]

use ferrent_core::InfoHashV1;
use ferrent_tracker::{
    announce_url, parse_announce_response, scrape_url, AnnounceEvent, AnnounceRequest,
    TrackerError, TrackerUrl, COMPACT_V4_LEN, MAX_MESSAGE_CHARS,
};
use libfuzzer_sys::fuzz_target;

fn printable(text: &str) {
    assert!(!text.chars().any(char::is_control), "{text:?}");
    assert!(text.chars().count() <= MAX_MESSAGE_CHARS + 1);
}

fuzz_target!(|data: &[u8]| {
    match parse_announce_response(data) {
        Ok(response) => {
            assert!(response.peers.len() <= data.len() / COMPACT_V4_LEN);
            assert!(response.peers.iter().all(|p| p.port() != 0 && !p.ip().is_unspecified()));
            if let Some(warning) = &response.warning {
                printable(warning);
            }
        }
        Err(TrackerError::Failure(message)) => printable(&message),
        Err(_) => {}
    }

    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = scrape_url(text);
    if let Ok(TrackerUrl::Http(base)) = TrackerUrl::parse(text) {
        let request = AnnounceRequest {
            info_hash: InfoHashV1([0x25; 20]),
            peer_id: [b'&'; 20],
            port: 1,
            uploaded: u64::MAX,
            downloaded: 0,
            left: 0,
            event: AnnounceEvent::Stopped,
            numwant: Some(0),
            key: 0,
            tracker_id: Some(data.to_vec()),
        };
        let url = announce_url(&base, &request).expect("a parsed HTTP URL builds");
        assert!(url.contains("info_hash=%25%25"));
    }
});
