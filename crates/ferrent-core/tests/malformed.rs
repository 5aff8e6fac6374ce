//! Malformed and hostile torrents: each is refused with a specific error, never a panic.

use std::path::Path;

use ferrent_bencode::{DecodeErrorKind, Kind, OwnedValue};
use ferrent_core::{Metainfo, MetainfoError, PathProblem, Problem};

const PL: i64 = 16384;

fn v1_single() -> OwnedValue {
    let info = OwnedValue::dict([
        ("name", OwnedValue::from("file.bin")),
        ("length", OwnedValue::from(40_000)),
        ("piece length", OwnedValue::from(PL)),
        ("pieces", OwnedValue::from(vec![7u8; 60])),
    ]);
    OwnedValue::dict([("announce", OwnedValue::from("http://127.0.0.1/a")), ("info", info)])
}

fn file(path: &[&str], length: i64) -> OwnedValue {
    OwnedValue::dict([
        ("length", OwnedValue::from(length)),
        ("path", OwnedValue::list(path.iter().map(|c| OwnedValue::from(*c)))),
    ])
}

fn v1_multi() -> OwnedValue {
    let info = OwnedValue::dict([
        ("name", OwnedValue::from("dir")),
        ("files", OwnedValue::list([file(&["a"], 10_000), file(&["sub", "b"], 30_000)])),
        ("piece length", OwnedValue::from(PL)),
        ("pieces", OwnedValue::from(vec![7u8; 60])),
    ]);
    OwnedValue::dict([("info", info)])
}

fn fixture(name: &str) -> OwnedValue {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    ferrent_bencode::decode(&std::fs::read(path).unwrap()).unwrap().to_owned()
}

/// The value at `path` (dict keys, or list indices as decimal text).
fn at<'v>(value: &'v mut OwnedValue, path: &[&str]) -> &'v mut OwnedValue {
    path.iter().fold(value, |v, step| match v {
        OwnedValue::Dict(map) => map.get_mut(step.as_bytes()).expect("no such key"),
        OwnedValue::List(items) => &mut items[step.parse::<usize>().unwrap()],
        _ => panic!("cannot step into a scalar"),
    })
}

fn set(mut torrent: OwnedValue, path: &[&str], value: OwnedValue) -> OwnedValue {
    let (last, parent) = path.split_last().unwrap();
    match at(&mut torrent, parent) {
        OwnedValue::Dict(map) => {
            map.insert(last.as_bytes().to_vec(), value);
        }
        OwnedValue::List(items) => items[last.parse::<usize>().unwrap()] = value,
        _ => panic!("cannot set inside a scalar"),
    }
    torrent
}

fn remove(mut torrent: OwnedValue, path: &[&str]) -> OwnedValue {
    let (last, parent) = path.split_last().unwrap();
    match at(&mut torrent, parent) {
        OwnedValue::Dict(map) => assert!(map.remove(last.as_bytes()).is_some()),
        _ => panic!("can only remove dictionary keys"),
    }
    torrent
}

/// Parses and returns the refusal's field and problem.
fn refused(torrent: &OwnedValue) -> (String, Problem) {
    match Metainfo::from_bytes(&torrent.encode()) {
        Ok(m) => panic!("accepted: {m:?}"),
        Err(MetainfoError::Invalid { field, problem }) => (field, problem),
        Err(other) => panic!("expected a field error, got {other}"),
    }
}

fn bencode_error(bytes: &[u8]) -> DecodeErrorKind {
    match Metainfo::from_bytes(bytes) {
        Err(MetainfoError::Bencode(e)) => e.kind,
        other => panic!("expected a bencode error, got {other:?}"),
    }
}

fn wrong(expected: Kind, found: Kind) -> Problem {
    Problem::WrongType { expected, found }
}

fn path_problem(p: PathProblem) -> Problem {
    Problem::Path(p)
}

#[test]
fn baselines_are_valid() {
    Metainfo::from_bytes(&v1_single().encode()).unwrap();
    Metainfo::from_bytes(&v1_multi().encode()).unwrap();
}

#[test]
fn truncated_torrents() {
    let bytes = v1_multi().encode();
    for cut in 0..bytes.len() {
        assert!(
            matches!(Metainfo::from_bytes(&bytes[..cut]), Err(MetainfoError::Bencode(_))),
            "prefix of {cut} bytes"
        );
    }
    let mut extra = bytes.clone();
    extra.push(b'x');
    assert_eq!(bencode_error(&extra), DecodeErrorKind::TrailingData(1));
}

#[test]
fn hostile_bencode() {
    assert!(matches!(
        bencode_error(b"d4:info99999999999:e"),
        DecodeErrorKind::StringPastEnd { len: 99_999_999_999, .. }
    ));
    let mut deep = b"d4:info".to_vec();
    deep.extend(vec![b'l'; 100_000]);
    deep.extend(vec![b'e'; 100_001]);
    assert_eq!(bencode_error(&deep), DecodeErrorKind::NestingTooDeep { max: 256 });
    assert_eq!(bencode_error(b"d4:infod6:lengthi-0eee"), DecodeErrorKind::NegativeZero);
    assert_eq!(bencode_error(b"d4:infod6:lengthi012eee"), DecodeErrorKind::IntegerLeadingZero);
    assert_eq!(bencode_error(b"d4:info004:abcde"), DecodeErrorKind::LengthLeadingZero);
    assert_eq!(
        bencode_error(b"d4:infode4:infodee"),
        DecodeErrorKind::DuplicateKey { key: b"info".to_vec() }
    );
}

#[test]
fn wrong_top_level_shapes() {
    assert_eq!(refused(&OwnedValue::from(1)), ("torrent".into(), wrong(Kind::Dict, Kind::Int)));
    let no_info = remove(v1_single(), &["info"]);
    assert_eq!(refused(&no_info), ("info".into(), Problem::Missing));
    let info_list = set(v1_single(), &["info"], OwnedValue::list([]));
    assert_eq!(refused(&info_list), ("info".into(), wrong(Kind::Dict, Kind::List)));
    let bad = set(v1_single(), &["announce-list"], OwnedValue::from(3));
    assert_eq!(refused(&bad), ("announce-list".into(), wrong(Kind::List, Kind::Int)));
    let bad = set(v1_single(), &["announce-list"], OwnedValue::list([OwnedValue::from("x")]));
    assert_eq!(refused(&bad), ("announce-list[0]".into(), wrong(Kind::List, Kind::Bytes)));
    let bad = set(v1_single(), &["url-list"], OwnedValue::from(3));
    assert_eq!(refused(&bad), ("url-list".into(), wrong(Kind::List, Kind::Int)));
    let bad = set(v1_single(), &["announce"], OwnedValue::bytes(vec![0xff, 0xfe]));
    assert_eq!(refused(&bad), ("announce".into(), Problem::NotUtf8));
    let bad = set(v1_single(), &["creation date"], OwnedValue::from("today"));
    assert_eq!(refused(&bad), ("creation date".into(), wrong(Kind::Int, Kind::Bytes)));
}

#[test]
fn wrong_info_types() {
    let t = set(v1_single(), &["info", "name"], OwnedValue::from(5));
    assert_eq!(refused(&t), ("info.name".into(), wrong(Kind::Bytes, Kind::Int)));
    let t = set(v1_single(), &["info", "name"], OwnedValue::bytes(vec![b'a', 0xff]));
    assert_eq!(refused(&t), ("info.name".into(), Problem::NotUtf8));
    let t = set(v1_single(), &["info", "length"], OwnedValue::from("40000"));
    assert_eq!(refused(&t), ("info.length".into(), wrong(Kind::Int, Kind::Bytes)));
    let t = set(v1_multi(), &["info", "files"], OwnedValue::from("a"));
    assert_eq!(refused(&t), ("info.files".into(), wrong(Kind::List, Kind::Bytes)));
    let t = set(v1_multi(), &["info", "files", "1"], OwnedValue::list([]));
    assert_eq!(refused(&t), ("info.files[1]".into(), wrong(Kind::Dict, Kind::List)));
    let t = set(v1_multi(), &["info", "files", "1", "path"], OwnedValue::from("sub/b"));
    assert_eq!(refused(&t), ("info.files[1].path".into(), wrong(Kind::List, Kind::Bytes)));
    let t = set(v1_multi(), &["info", "files", "1", "path", "0"], OwnedValue::from(1));
    assert_eq!(refused(&t), ("info.files[1].path[0]".into(), wrong(Kind::Bytes, Kind::Int)));
    let t = set(v1_single(), &["info", "pieces"], OwnedValue::list([]));
    assert_eq!(refused(&t), ("info.pieces".into(), wrong(Kind::Bytes, Kind::List)));
    let t = set(v1_single(), &["info", "private"], OwnedValue::from("1"));
    assert_eq!(refused(&t), ("info.private".into(), wrong(Kind::Int, Kind::Bytes)));
}

#[test]
fn missing_and_conflicting_keys() {
    let t = remove(v1_single(), &["info", "name"]);
    assert_eq!(refused(&t), ("info.name".into(), Problem::Missing));
    let t = remove(v1_single(), &["info", "piece length"]);
    assert_eq!(refused(&t), ("info.piece length".into(), Problem::Missing));
    let t = remove(v1_single(), &["info", "pieces"]);
    assert_eq!(refused(&t), ("info.pieces".into(), Problem::Missing));
    let t = remove(v1_single(), &["info", "length"]);
    assert_eq!(refused(&t), ("info.files".into(), Problem::Missing));
    let t = remove(v1_multi(), &["info", "files", "0", "length"]);
    assert_eq!(refused(&t), ("info.files[0].length".into(), Problem::Missing));
    let t = remove(v1_multi(), &["info", "files", "0", "path"]);
    assert_eq!(refused(&t), ("info.files[0].path".into(), Problem::Missing));
    let t = set(v1_multi(), &["info", "length"], OwnedValue::from(1));
    assert_eq!(refused(&t), ("info".into(), Problem::Conflicting("length", "files")));
    let t = set(v1_multi(), &["info", "files", "0", "attr"], OwnedValue::from("l"));
    assert_eq!(refused(&t), ("info.files[0].symlink path".into(), Problem::Missing));
}

#[test]
fn path_traversal_and_bad_names() {
    let t = set(v1_multi(), &["info", "files", "1", "path", "1"], OwnedValue::from(".."));
    let (field, problem) = refused(&t);
    assert_eq!(
        (field.as_str(), &problem),
        ("info.files[1].path[1]", &path_problem(PathProblem::DotDot))
    );
    let err = Metainfo::from_bytes(&t.encode()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "info.files[1].path[1]: component '..' would escape the download directory"
    );
    let cases: &[(&str, PathProblem)] = &[
        ("..", PathProblem::DotDot),
        (".", PathProblem::Dot),
        ("", PathProblem::Empty),
        ("/etc/passwd", PathProblem::Separator("/etc/passwd".into())),
        ("a/b", PathProblem::Separator("a/b".into())),
        ("a\\b", PathProblem::Separator("a\\b".into())),
        ("C:", PathProblem::DriveLetter("C:".into())),
        ("c:evil", PathProblem::DriveLetter("c:evil".into())),
        ("nul\0byte", PathProblem::Nul("nul\0byte".into())),
    ];
    for (component, expected) in cases {
        let t = set(v1_multi(), &["info", "files", "0", "path", "0"], OwnedValue::from(*component));
        assert_eq!(refused(&t), ("info.files[0].path[0]".into(), path_problem(expected.clone())));
        let t = set(v1_single(), &["info", "name"], OwnedValue::from(*component));
        assert_eq!(refused(&t), ("info.name".into(), path_problem(expected.clone())));
    }
    let t = set(v1_multi(), &["info", "files", "0", "path"], OwnedValue::list([]));
    assert_eq!(refused(&t), ("info.files[0].path".into(), path_problem(PathProblem::NoComponents)));
    // path.utf-8 wins over path, and is validated the same way.
    let t = set(
        v1_multi(),
        &["info", "files", "0", "path.utf-8"],
        OwnedValue::list([OwnedValue::from("..")]),
    );
    assert_eq!(
        refused(&t),
        ("info.files[0].path.utf-8[0]".into(), path_problem(PathProblem::DotDot))
    );
    let t = set(v1_single(), &["info", "name.utf-8"], OwnedValue::from("x/y"));
    assert_eq!(
        refused(&t),
        ("info.name.utf-8".into(), path_problem(PathProblem::Separator("x/y".into())))
    );
    let t = set(v1_multi(), &["info", "files", "0", "attr"], OwnedValue::from("l"));
    let t =
        set(t, &["info", "files", "0", "symlink path"], OwnedValue::list([OwnedValue::from("..")]));
    assert_eq!(
        refused(&t),
        ("info.files[0].symlink path[0]".into(), path_problem(PathProblem::DotDot))
    );
}

#[test]
fn duplicate_and_overlapping_paths() {
    let t = set(v1_multi(), &["info", "files", "1"], file(&["a"], 30_000));
    assert_eq!(refused(&t), ("info.files[1].path".into(), Problem::DuplicatePath(0)));
    let t = set(v1_multi(), &["info", "files", "0"], file(&["sub"], 10_000));
    assert_eq!(refused(&t), ("info.files[0].path".into(), Problem::FileIsDirectory(1)));
    let t = set(v1_multi(), &["info", "files", "1"], file(&["a", "x"], 30_000));
    assert_eq!(refused(&t), ("info.files[0].path".into(), Problem::FileIsDirectory(1)));
}

#[test]
fn piece_geometry() {
    for bad in [0, 1, 8192, 20_000, 3 * PL, -PL, 1 << 32] {
        let t = set(v1_single(), &["info", "piece length"], OwnedValue::from(bad));
        assert_eq!(refused(&t), ("info.piece length".into(), Problem::BadPieceLength(bad)));
    }
    let t = set(v1_single(), &["info", "pieces"], OwnedValue::from(vec![0u8; 59]));
    assert_eq!(refused(&t), ("info.pieces".into(), Problem::PiecesNotMultipleOf20(59)));
    let t = set(v1_single(), &["info", "pieces"], OwnedValue::from(vec![0u8; 40]));
    assert_eq!(refused(&t), ("info.pieces".into(), Problem::PieceCount { expected: 3, found: 2 }));
    let t = set(v1_single(), &["info", "pieces"], OwnedValue::from(vec![0u8; 80]));
    assert_eq!(refused(&t), ("info.pieces".into(), Problem::PieceCount { expected: 3, found: 4 }));
    let t = set(v1_single(), &["info", "length"], OwnedValue::from(-1));
    assert_eq!(refused(&t), ("info.length".into(), Problem::Negative(-1)));
    let t = set(v1_multi(), &["info", "files", "1", "length"], OwnedValue::from(-5));
    assert_eq!(refused(&t), ("info.files[1].length".into(), Problem::Negative(-5)));
    let t = set(v1_single(), &["info", "length"], OwnedValue::from(0));
    let t = set(t, &["info", "pieces"], OwnedValue::from(""));
    assert_eq!(refused(&t), ("info".into(), Problem::EmptyTorrent));
    let t = set(v1_multi(), &["info", "files"], OwnedValue::list([]));
    assert_eq!(refused(&t), ("info".into(), Problem::EmptyTorrent));
    let max = i64::MAX;
    let files = OwnedValue::list([file(&["a"], max), file(&["b"], max), file(&["c"], max)]);
    let huge = set(v1_multi(), &["info", "files"], files);
    assert_eq!(refused(&huge), ("info.files[2].length".into(), Problem::TotalTooLarge));
    let t = set(v1_single(), &["info", "length"], OwnedValue::from(PL << 32));
    assert_eq!(refused(&t), ("info".into(), Problem::TooManyPieces(1 << 32)));
    let t = set(v1_single(), &["info", "meta version"], OwnedValue::from(3));
    assert_eq!(refused(&t), ("info.meta version".into(), Problem::UnsupportedMetaVersion(3)));
}

#[test]
fn v2_file_tree_errors() {
    let base = fixture("lt_v2_multi.torrent");
    Metainfo::from_bytes(&base.encode()).unwrap();
    let t = remove(base.clone(), &["info", "file tree"]);
    assert_eq!(refused(&t), ("info.file tree".into(), Problem::Missing));
    let t = set(base.clone(), &["info", "file tree"], OwnedValue::dict::<&str>([]));
    assert_eq!(refused(&t), ("info.file tree".into(), Problem::EmptyDirectory));
    let t =
        set(base.clone(), &["info", "file tree", "sub", "deeper"], OwnedValue::dict::<&str>([]));
    assert_eq!(refused(&t), (r#"info.file tree["sub"]["deeper"]"#.into(), Problem::EmptyDirectory));
    let t = set(base.clone(), &["info", "file tree", "a.bin", "x"], OwnedValue::dict::<&str>([]));
    assert_eq!(refused(&t), (r#"info.file tree["a.bin"]"#.into(), Problem::FileAndDirectory));
    let t = set(
        base.clone(),
        &["info", "file tree", "a.bin", "", "pieces root"],
        OwnedValue::from("short"),
    );
    assert_eq!(
        refused(&t),
        (
            r#"info.file tree["a.bin"][""].pieces root"#.into(),
            Problem::HashLength { expected: 32, found: 5 }
        )
    );
    let t = remove(base.clone(), &["info", "file tree", "z.txt", "", "pieces root"]);
    assert_eq!(
        refused(&t),
        (r#"info.file tree["z.txt"][""].pieces root"#.into(), Problem::Missing)
    );
    let t = set(base.clone(), &["info", "file tree", "z.txt", "", "length"], OwnedValue::from(-2));
    assert_eq!(
        refused(&t),
        (r#"info.file tree["z.txt"][""].length"#.into(), Problem::Negative(-2))
    );
    let moved = at(&mut base.clone(), &["info", "file tree", "z.txt"]).clone();
    let t = set(base.clone(), &["info", "file tree", ".."], moved);
    assert_eq!(refused(&t), (r#"info.file tree[".."]"#.into(), path_problem(PathProblem::DotDot)));
}

#[test]
fn piece_layer_errors() {
    let base = fixture("lt_v2_multi.torrent");
    let m = Metainfo::from_bytes(&base.encode()).unwrap();
    let c = m.info.files.iter().position(|f| f.path == ["sub", "deeper", "c.bin"]).unwrap();
    let root = m.info.files[c].pieces_root.unwrap();
    let layers = |t: &mut OwnedValue| match at(t, &["piece layers"]) {
        OwnedValue::Dict(map) => map.clone(),
        _ => unreachable!(),
    };

    let mut t = base.clone();
    let mut map = layers(&mut t);
    map.remove(&root[..]);
    let t = set(t, &["piece layers"], OwnedValue::Dict(map));
    assert_eq!(
        refused(&t),
        ("piece layers".into(), Problem::PieceLayerMissing { file: c, pieces: 5 })
    );

    let mut t = base.clone();
    let mut map = layers(&mut t);
    map.insert(root.to_vec(), OwnedValue::from(vec![0u8; 32 * 4]));
    let t = set(t, &["piece layers"], OwnedValue::Dict(map));
    let field = format!("piece layers[{:?}]", hex::encode(root));
    assert_eq!(
        refused(&t),
        (field.clone(), Problem::PieceLayerLength { file: c, expected: 160, found: 128 })
    );

    let mut t = base.clone();
    let mut map = layers(&mut t);
    let mut layer = m.piece_layers[&root].clone();
    layer[0] ^= 1;
    map.insert(root.to_vec(), OwnedValue::from(layer));
    let t = set(t, &["piece layers"], OwnedValue::Dict(map));
    assert_eq!(refused(&t), (field, Problem::PieceLayerMismatch(c)));

    let t = set(base.clone(), &["piece layers"], OwnedValue::list([]));
    assert_eq!(refused(&t), ("piece layers".into(), wrong(Kind::Dict, Kind::List)));
}

#[test]
fn hybrid_mismatch() {
    let base = fixture("lt_hybrid_multi.torrent");
    Metainfo::from_bytes(&base.encode()).unwrap();
    // v1 says a.bin has 40001 bytes: lengths differ (and the v1 pieces would too).
    let t = set(base.clone(), &["info", "files", "0", "length"], OwnedValue::from(40_001));
    let (field, problem) = refused(&t);
    assert_eq!(field, "info");
    assert!(
        matches!(problem, Problem::HybridMismatch(ref s) if s.contains("file 0 is 40001 bytes")),
        "{problem}"
    );
    // Renaming a file in v1 only.
    let t = set(base.clone(), &["info", "files", "0", "path", "0"], OwnedValue::from("other.bin"));
    let (field, problem) = refused(&t);
    assert_eq!(field, "info");
    assert!(
        matches!(problem, Problem::HybridMismatch(ref s) if s.contains("\"other.bin\"")),
        "{problem}"
    );
    // Dropping a pad file breaks the alignment of the next file.
    let mut t = base.clone();
    if let OwnedValue::List(files) = at(&mut t, &["info", "files"]) {
        files.remove(1);
    }
    let (field, problem) = refused(&t);
    assert_eq!(field, "info");
    assert!(
        matches!(problem, Problem::HybridMismatch(ref s) if s.contains("piece boundary")),
        "{problem}"
    );
}

#[test]
fn deep_file_tree_cannot_multiply_memory() {
    // 64 nested directories holding 33,000 empty files spell out 2.1 million path
    // components from a ~1 MB torrent.
    let files = (0..33_000).map(|i| {
        let leaf = OwnedValue::dict([("", OwnedValue::dict([("length", OwnedValue::from(0))]))]);
        (format!("f{i}"), leaf)
    });
    let mut tree = OwnedValue::dict(files);
    for depth in 0..63 {
        tree = OwnedValue::dict([(format!("d{depth}"), tree)]);
    }
    let info = OwnedValue::dict([
        ("name", OwnedValue::from("deep")),
        ("piece length", OwnedValue::from(PL)),
        ("meta version", OwnedValue::from(2)),
        ("file tree", tree),
    ]);
    let (field, problem) = refused(&OwnedValue::dict([("info", info)]));
    assert!(field.starts_with(r#"info.file tree["d62"]["d61"]"#), "{field}");
    assert_eq!(problem, Problem::TooManyComponents { max: 1 << 21 });
}
