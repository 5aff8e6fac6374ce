//! Every decode error kind, with its exact offset.

use ferrent_bencode::{
    decode, decode_prefix, decode_report, decode_with, Context, DecodeErrorKind as E, Decoder,
    Kind, Limits, QuirkKind,
};

/// Decodes `input` and returns the error's offset and kind; fails the test on success.
fn fail(input: &[u8]) -> (usize, E) {
    match decode(input) {
        Ok(v) => panic!("{:?} decoded to {v:?}", String::from_utf8_lossy(input)),
        Err(e) => (e.offset, e.kind),
    }
}

#[test]
fn integers() {
    assert_eq!(decode(b"i0e").unwrap().as_int(), Some(0));
    assert_eq!(decode(b"i-17e").unwrap().as_int(), Some(-17));
    assert_eq!(decode(b"i9223372036854775807e").unwrap().as_int(), Some(i64::MAX));
    assert_eq!(decode(b"i-9223372036854775808e").unwrap().as_int(), Some(i64::MIN));
    assert_eq!(fail(b"i-0e"), (1, E::NegativeZero));
    assert_eq!(fail(b"i03e"), (1, E::IntegerLeadingZero));
    assert_eq!(fail(b"i-03e"), (2, E::IntegerLeadingZero));
    assert_eq!(fail(b"i00e"), (1, E::IntegerLeadingZero));
    assert_eq!(fail(b"ie"), (1, E::EmptyInteger));
    assert_eq!(fail(b"i-e"), (2, E::EmptyInteger));
    assert_eq!(fail(b"i9223372036854775808e"), (1, E::IntegerOverflow));
    assert_eq!(fail(b"i-9223372036854775809e"), (2, E::IntegerOverflow));
    assert_eq!(fail(b"i12x"), (3, E::UnexpectedByte { expected: "a digit or 'e'", found: b'x' }));
    assert_eq!(fail(b"i+1e"), (1, E::UnexpectedByte { expected: "a digit or 'e'", found: b'+' }));
    assert_eq!(fail(b"i12"), (3, E::UnexpectedEnd(Context::Integer)));
}

#[test]
fn strings() {
    assert_eq!(decode(b"0:").unwrap().as_bytes(), Some(&b""[..]));
    assert_eq!(decode(b"4:spam").unwrap().as_str(), Some("spam"));
    assert_eq!(decode(b"2:\xff\xfe").unwrap().as_str(), None);
    assert_eq!(fail(b"03:abc"), (0, E::LengthLeadingZero));
    assert_eq!(fail(b"5:abc"), (0, E::StringPastEnd { len: 5, available: 3 }));
    assert_eq!(fail(b"99999999999:"), (0, E::StringPastEnd { len: 99_999_999_999, available: 0 }));
    assert_eq!(
        fail(b"99999999999999999999999999:x"),
        (0, E::StringPastEnd { len: u64::MAX, available: 1 })
    );
    assert_eq!(
        fail(b"12x"),
        (2, E::UnexpectedByte { expected: "':' after string length", found: b'x' })
    );
    assert_eq!(fail(b"12"), (2, E::UnexpectedEnd(Context::String)));
    let e = decode(b"d3:abc12xe").unwrap_err();
    assert_eq!(e.to_string(), "at byte 8: expected ':' after string length, found 'x'");
}

#[test]
fn structure() {
    assert_eq!(fail(b""), (0, E::UnexpectedEnd(Context::Value)));
    assert_eq!(fail(b"l"), (1, E::UnexpectedEnd(Context::List)));
    assert_eq!(fail(b"li1e"), (4, E::UnexpectedEnd(Context::List)));
    assert_eq!(fail(b"d"), (1, E::UnexpectedEnd(Context::Dict)));
    assert_eq!(fail(b"d1:a"), (4, E::UnexpectedEnd(Context::Dict)));
    assert_eq!(fail(b"e"), (0, E::UnexpectedByte { expected: "a value", found: b'e' }));
    assert_eq!(fail(b"lxe"), (1, E::UnexpectedByte { expected: "a value", found: b'x' }));
    assert_eq!(fail(b"i1ei2e"), (3, E::TrailingData(3)));
    assert_eq!(fail(b"le "), (2, E::TrailingData(1)));
    assert_eq!(fail(b"di1e1:ae"), (1, E::NonStringKey(Kind::Int)));
    assert_eq!(fail(b"dle1:ae"), (1, E::NonStringKey(Kind::List)));
    assert_eq!(fail(b"d1:ai1eddee"), (7, E::NonStringKey(Kind::Dict)));
    assert_eq!(fail(b"d1:ae"), (4, E::MissingValue { key: b"a".to_vec() }));
    assert_eq!(fail(b"d1:ai1e1:xe"), (10, E::MissingValue { key: b"x".to_vec() }));
    assert_eq!(
        fail(b"d1:ai1e-"),
        (7, E::UnexpectedByte { expected: "a string key or 'e'", found: b'-' })
    );
}

#[test]
fn duplicate_keys() {
    // Adjacent duplicate: caught on the spot.
    assert_eq!(fail(b"d1:ai1e1:ai2ee"), (7, E::DuplicateKey { key: b"a".to_vec() }));
    // Non-adjacent duplicate in an unsorted dict: caught at the end of the dict, pointing at
    // the second occurrence.
    let input = b"d1:bi1e1:ai2e10:bbbbbbbbbbi0e1:bi3ee";
    assert_eq!(fail(input), (29, E::DuplicateKey { key: b"b".to_vec() }));
    let input = b"d1:ci0e10:aaaaaaaaaai0e1:bi0e10:aaaaaaaaaai0ee";
    assert_eq!(fail(input), (29, E::DuplicateKey { key: b"aaaaaaaaaa".to_vec() }));
    // Same key in different dicts is fine.
    assert!(decode(b"d1:ad1:ai1eee").is_ok());
}

#[test]
fn unsorted_keys_are_reported() {
    let (v, quirks) = decode_report(b"d1:bi1e1:ai2e1:ci3ee").unwrap();
    assert_eq!(v.get(b"a").and_then(|v| v.as_int()), Some(2));
    let keys: Vec<&[u8]> = v.as_dict().unwrap().iter().map(|(k, _)| k).collect();
    assert_eq!(keys, [&b"b"[..], b"a", b"c"], "input order is kept");
    assert_eq!(quirks.len(), 1);
    assert_eq!((quirks[0].offset, quirks[0].kind), (7, QuirkKind::UnsortedKeys));
    assert_eq!(quirks[0].to_string(), "at byte 7: dictionary key out of sorted order");
    let (_, quirks) = decode_report(b"d1:ai1e1:bi2ee").unwrap();
    assert!(quirks.is_empty());
}

#[test]
fn limits() {
    let limits = Limits { max_depth: 3, ..Limits::default() };
    assert!(decode_with(b"llleee", &limits).is_ok());
    let e = decode_with(b"lllleeee", &limits).unwrap_err();
    assert_eq!((e.offset, e.kind), (3, E::NestingTooDeep { max: 3 }));
    let e = decode_with(b"d1:ad1:ad1:ad1:aleeeee", &limits).unwrap_err();
    assert_eq!((e.offset, e.kind), (12, E::NestingTooDeep { max: 3 }));

    let limits = Limits { max_items: 4, ..Limits::default() };
    assert!(decode_with(b"li1ei2ei3ee", &limits).is_ok());
    let e = decode_with(b"li1ei2ei3ei4ee", &limits).unwrap_err();
    assert_eq!((e.offset, e.kind), (10, E::TooManyItems { max: 4 }));
    let e = decode_with(b"d1:ai1e1:bi1ee", &limits).unwrap_err();
    assert_eq!((e.offset, e.kind), (10, E::TooManyItems { max: 4 }));

    let limits = Limits { max_input: 4, ..Limits::default() };
    assert!(decode_with(b"i12e", &limits).is_ok());
    let e = decode_with(b"i123e", &limits).unwrap_err();
    assert_eq!((e.offset, e.kind), (0, E::InputTooLarge { len: 5, max: 4 }));
}

#[test]
fn hostile_nesting_does_not_overflow() {
    let mut deep = vec![b'l'; 100_000];
    deep.extend(vec![b'e'; 100_000]);
    let e = decode(&deep).unwrap_err();
    assert_eq!((e.offset, e.kind), (256, E::NestingTooDeep { max: 256 }));
    let deep = b"d1:a".repeat(100_000);
    let e = decode(&deep).unwrap_err();
    assert_eq!(e.kind, E::NestingTooDeep { max: 256 });
    // Even with the depth limit lifted the decoder itself never recurses.
    let limits = Limits { max_depth: usize::MAX, ..Limits::default() };
    let open_only = vec![b'l'; 1_000_000];
    let e = decode_with(&open_only, &limits).unwrap_err();
    assert_eq!((e.offset, e.kind), (1_000_000, E::UnexpectedEnd(Context::List)));
}

#[test]
fn spans_and_prefix() {
    let input = b"d1:ad1:bli1e3:xyzee1:ci-5ee";
    let v = decode(input).unwrap();
    assert_eq!(v.raw(), input);
    let a = v.get(b"a").unwrap();
    assert_eq!((a.offset(), a.end()), (4, 19));
    assert_eq!(a.raw(), b"d1:bli1e3:xyzee");
    let list = a.get(b"b").unwrap().as_list().unwrap();
    assert_eq!(list[1].raw(), b"3:xyz");
    assert_eq!(list[1].offset(), 12);
    assert_eq!(v.get(b"c").unwrap().raw(), b"i-5e");
    assert_eq!(v.get(b"zz"), None);
    assert_eq!(list[0].get(b"x"), None, "get on a non-dict is None");

    let msg = b"d8:msg_typei1e5:piecei0ee\x00\x01\x02";
    let (v, len) = decode_prefix(msg).unwrap();
    assert_eq!(len, msg.len() - 3);
    assert_eq!(v.get(b"piece").and_then(|p| p.as_int()), Some(0));
    let out = Decoder::new().allow_trailing(true).decode(b"i1e").unwrap();
    assert_eq!(out.len, 3);
}

#[test]
fn kinds_and_accessors() {
    let v = decode(b"li1e1:ale0:dee").unwrap();
    let items = v.as_list().unwrap();
    let kinds: Vec<Kind> = items.iter().map(|i| i.kind()).collect();
    assert_eq!(kinds, [Kind::Int, Kind::Bytes, Kind::List, Kind::Bytes, Kind::Dict]);
    assert_eq!(Kind::Dict.to_string(), "dictionary");
    assert_eq!(items[0].as_bytes(), None);
    assert_eq!(items[1].as_int(), None);
    assert!(items[4].as_dict().unwrap().is_empty());
    assert_eq!(format!("{v:?}"), r#"[1, "a", [], "", {}]"#);
}
