//! Any text: magnet parsing never panics, and an accepted link round-trips through
//! `to_uri`.
#![no_main]

use ferrent_core::Magnet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Also try the text behind the scheme, so the fuzzer need not discover "magnet:?".
    for uri in [text.to_owned(), format!("magnet:?{text}")] {
        if let Ok(m) = Magnet::parse(&uri) {
            let again = Magnet::parse(&m.to_uri()).expect("own URI parses");
            assert_eq!(again, m);
        }
    }
});
