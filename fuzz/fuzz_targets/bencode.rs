//! Any input: the decoder never panics, and whatever it accepts re-encodes canonically and
//! keeps exact spans.
#![no_main]

use ferrent_bencode::{decode, Decoder, Limits, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_depth: 64, max_items: 100_000, max_input: 1 << 20 };
    let Ok(out) = Decoder::new().limits(limits).allow_trailing(true).decode(data) else {
        return;
    };
    assert_eq!(out.value.raw(), &data[..out.len]);
    check_spans(data, &out.value);
    let owned = out.value.to_owned();
    let canonical = owned.encode();
    let again = decode(&canonical).expect("canonical encoding decodes");
    assert_eq!(again.to_owned(), owned);
    assert_eq!(again.raw(), &canonical[..]);
    if out.quirks.is_empty() {
        // Without quirks the input was already canonical.
        assert_eq!(canonical, out.value.raw());
    }
});

fn check_spans(input: &[u8], value: &Value<'_>) {
    assert_eq!(&input[value.offset()..value.end()], value.raw());
    if let Some(items) = value.as_list() {
        items.iter().for_each(|v| check_spans(input, v));
    }
    if let Some(dict) = value.as_dict() {
        dict.iter().for_each(|(_, v)| check_spans(input, v));
    }
}
