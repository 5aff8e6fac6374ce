//! Property tests: encoding then decoding gives back the same value and the same bytes.

use ferrent_bencode::{decode, decode_report, DictWriter, OwnedValue};
use proptest::prelude::*;

fn owned_value() -> impl Strategy<Value = OwnedValue> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(OwnedValue::Int),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(OwnedValue::Bytes),
    ];
    leaf.prop_recursive(6, 200, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(OwnedValue::List),
            proptest::collection::btree_map(
                proptest::collection::vec(any::<u8>(), 0..12),
                inner,
                0..8
            )
            .prop_map(OwnedValue::Dict),
        ]
    })
}

proptest! {
    #[test]
    fn encode_decode_round_trip(v in owned_value()) {
        let bytes = v.encode();
        let (decoded, quirks) = decode_report(&bytes).unwrap();
        prop_assert!(quirks.is_empty(), "canonical output has no quirks");
        prop_assert_eq!(decoded.raw(), &bytes[..]);
        prop_assert_eq!(decoded.offset(), 0);
        prop_assert_eq!(decoded.to_owned(), v);
    }

    #[test]
    fn every_truncation_fails(v in owned_value()) {
        let bytes = v.encode();
        for cut in 0..bytes.len() {
            prop_assert!(decode(&bytes[..cut]).is_err(), "prefix of {} bytes accepted", cut);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(v) = decode(&bytes) {
            // Whatever is accepted re-encodes to a value that decodes to the same tree.
            let again = v.to_owned().encode();
            prop_assert_eq!(decode(&again).unwrap().to_owned(), v.to_owned());
        }
    }

    #[test]
    fn child_spans_are_exact(v in owned_value()) {
        let bytes = v.encode();
        let decoded = decode(&bytes).unwrap();
        let mut stack = vec![decoded];
        while let Some(value) = stack.pop() {
            prop_assert_eq!(&bytes[value.offset()..value.end()], value.raw());
            prop_assert_eq!(decode(value.raw()).unwrap().to_owned(), value.to_owned());
            if let Some(items) = value.as_list() {
                stack.extend(items.iter().cloned());
            }
            if let Some(dict) = value.as_dict() {
                stack.extend(dict.iter().map(|(_, v)| v.clone()));
            }
        }
    }
}

#[test]
fn dict_writer_matches_owned_encoding() {
    let inner = OwnedValue::dict([("x", OwnedValue::from(2))]);
    let mut out = Vec::new();
    let mut w = DictWriter::new(&mut out);
    w.entry(b"a", &OwnedValue::from("s"));
    w.entry_raw(b"b", &inner.encode()).unwrap();
    w.finish();
    let expected = OwnedValue::dict([("a", OwnedValue::from("s")), ("b", inner)]);
    assert_eq!(out, expected.encode());

    let mut out = Vec::new();
    let mut w = DictWriter::new(&mut out);
    assert!(w.entry_raw(b"a", b"i1ei2e").is_err(), "two values are not one");
    assert!(w.entry_raw(b"a", b"i01e").is_err());
}

#[test]
#[should_panic(expected = "strictly increasing")]
fn dict_writer_refuses_unsorted_keys() {
    let mut out = Vec::new();
    let mut w = DictWriter::new(&mut out);
    w.entry(b"b", &OwnedValue::from(1));
    w.entry(b"a", &OwnedValue::from(1));
}
