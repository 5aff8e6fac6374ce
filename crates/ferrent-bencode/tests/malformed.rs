//! A corpus of malformed inputs: each must be refused with the listed error, never a panic.

use ferrent_bencode::{decode, Context, DecodeErrorKind as E, Kind};

#[test]
fn malformed_corpus() {
    let corpus: &[(&[u8], usize, E)] = &[
        (b"", 0, E::UnexpectedEnd(Context::Value)),
        (b"i", 1, E::UnexpectedEnd(Context::Integer)),
        (b"i-", 2, E::UnexpectedEnd(Context::Integer)),
        (b"i-0e", 1, E::NegativeZero),
        (b"i03e", 1, E::IntegerLeadingZero),
        (b"ie", 1, E::EmptyInteger),
        (b"i1.5e", 2, E::UnexpectedByte { expected: "a digit or 'e'", found: b'.' }),
        (b"i 1e", 1, E::UnexpectedByte { expected: "a digit or 'e'", found: b' ' }),
        (b"i99999999999999999999e", 1, E::IntegerOverflow),
        (b"-1:a", 0, E::UnexpectedByte { expected: "a value", found: b'-' }),
        (b"1", 1, E::UnexpectedEnd(Context::String)),
        (b"1:", 0, E::StringPastEnd { len: 1, available: 0 }),
        (b"01:a", 0, E::LengthLeadingZero),
        (b"99999999999:", 0, E::StringPastEnd { len: 99_999_999_999, available: 0 }),
        (b"l99999999999:e", 1, E::StringPastEnd { len: 99_999_999_999, available: 1 }),
        (b"1 :a", 1, E::UnexpectedByte { expected: "':' after string length", found: b' ' }),
        (b"l", 1, E::UnexpectedEnd(Context::List)),
        (b"l1:ai1e", 7, E::UnexpectedEnd(Context::List)),
        (b"d", 1, E::UnexpectedEnd(Context::Dict)),
        (b"d1:a", 4, E::UnexpectedEnd(Context::Dict)),
        (b"d1:ai1e", 7, E::UnexpectedEnd(Context::Dict)),
        (b"d1:ae", 4, E::MissingValue { key: b"a".to_vec() }),
        (b"di0ei0ee", 1, E::NonStringKey(Kind::Int)),
        (b"d1:ai0e1:ai0ee", 7, E::DuplicateKey { key: b"a".to_vec() }),
        (b"i0e ", 3, E::TrailingData(1)),
        (b"lee", 2, E::TrailingData(1)),
        (b"\x00", 0, E::UnexpectedByte { expected: "a value", found: 0 }),
        (b"x", 0, E::UnexpectedByte { expected: "a value", found: b'x' }),
    ];
    for (input, offset, kind) in corpus {
        let err = decode(input).expect_err(&String::from_utf8_lossy(input));
        assert_eq!(
            (err.offset, &err.kind),
            (*offset, kind),
            "{:?}",
            String::from_utf8_lossy(input)
        );
        assert!(err.to_string().starts_with(&format!("at byte {offset}: ")));
    }
}

#[test]
fn every_prefix_of_a_torrent_like_value_fails_cleanly() {
    let input: &[u8] = b"d8:announce14:http://x/a/b/c4:infod6:lengthi5e4:name3:abc12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee";
    assert!(decode(input).is_ok());
    for cut in 0..input.len() {
        let err = decode(&input[..cut]).unwrap_err();
        assert!(err.offset <= cut, "offset {} beyond cut {cut}", err.offset);
    }
}
