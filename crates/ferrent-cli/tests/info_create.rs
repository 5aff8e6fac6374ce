//! `ferrent info` and `ferrent create` against mktorrent and libtorrent.
//!
//! Needs `mktorrent` and Debian's `python3-libtorrent` (for `/usr/bin/python3`); the tests
//! fail, saying what to install, when either is missing. Fixtures are generated per test by
//! `tests/fixtures/make_fixtures.sh` into a temporary directory; libtorrent is queried
//! through `tests/fixtures/lt_check.py`, whose session binds to 127.0.0.1 only.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tempfile::TempDir;

const FERRENT: &str = env!("CARGO_BIN_EXE_ferrent");
const PYTHON: &str = "/usr/bin/python3";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Fails (never skips) when an interop tool is missing.
fn require_interop_tools() {
    let mktorrent = Command::new("mktorrent").arg("-h").output();
    assert!(
        mktorrent.is_ok(),
        "these tests need mktorrent: install it (apt-get install mktorrent)"
    );
    let lt = Command::new(PYTHON).args(["-c", "import libtorrent"]).output();
    assert!(
        lt.is_ok_and(|o| o.status.success()),
        "these tests need libtorrent's Python bindings for {PYTHON}: install them \
         (apt-get install python3-libtorrent)"
    );
}

/// A temporary directory holding the generated payloads, torrents and `expected.json`.
struct Fixtures {
    dir: TempDir,
    expected: Value,
}

impl Fixtures {
    fn new() -> Self {
        require_interop_tools();
        let dir = tempfile::tempdir().unwrap();
        let script = repo().join("tests/fixtures/make_fixtures.sh");
        let out = Command::new("bash").arg(&script).arg(dir.path()).output().unwrap();
        assert!(out.status.success(), "make_fixtures.sh failed: {}", text(&out.stderr));
        let expected = fs::read(dir.path().join("expected.json")).unwrap();
        Fixtures { expected: serde_json::from_slice(&expected).unwrap(), dir }
    }

    fn payload(&self, name: &str) -> PathBuf {
        self.dir.path().join("payload").join(name)
    }

    fn torrent(&self, name: &str) -> PathBuf {
        self.dir.path().join("torrents").join(name)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ferrent<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(FERRENT).args(args).env("FERRENT_LOG", "warn").output().unwrap()
}

/// Runs ferrent and expects success.
fn ferrent_ok<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = ferrent(args);
    assert!(out.status.success(), "ferrent failed: {}", text(&out.stderr));
    text(&out.stdout)
}

fn info_json(torrent: &Path) -> Value {
    let out = ferrent_ok([Path::new("info"), Path::new("--json"), torrent]);
    serde_json::from_str(&out).unwrap()
}

/// What libtorrent says about `torrent`; with `data`, also whether the data there verifies.
fn lt_check(torrent: &Path, data: Option<&Path>) -> Value {
    let mut cmd = Command::new(PYTHON);
    cmd.arg(repo().join("tests/fixtures/lt_check.py")).arg(torrent);
    if let Some(dir) = data {
        cmd.arg(dir);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "libtorrent refused {}: {}{}",
        torrent.display(),
        text(&out.stdout),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `ferrent create` with fixed settings; returns the output path.
fn create(source: &Path, out: &Path, extra: &[&str]) -> PathBuf {
    let mut args = vec![
        "create".as_ref(),
        source.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--no-date".as_ref(),
        "-t".as_ref(),
        "http://127.0.0.1:6969/announce".as_ref(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let stdout = ferrent_ok(&args);
    assert!(stdout.contains("magnet:?xt=urn:"), "{stdout}");
    out.to_path_buf()
}

fn hashes(report: &Value) -> (Value, Value) {
    (report["v1"].clone(), report["v2"].clone())
}

fn json_hashes(info: &Value) -> (Value, Value) {
    (info["info_hash_v1"].clone(), info["info_hash_v2"].clone())
}

#[test]
fn info_reports_the_hashes_libtorrent_computes() {
    let fx = Fixtures::new();
    let expected = fx.expected.as_object().unwrap();
    assert_eq!(expected.len(), 8, "make_fixtures.sh should write 8 torrents");
    for (name, want) in expected {
        let info = info_json(&fx.torrent(name));
        assert_eq!(info["schema"], 1, "{name}");
        assert_eq!(info["source"], "torrent", "{name}");
        assert_eq!(json_hashes(&info), (want["v1"].clone(), want["v2"].clone()), "{name}");
        assert_eq!(info["piece_length"], want["piece_length"], "{name}");
        assert_eq!(info["total_size"], want["total_size"], "{name}");
        let version = match (want["v1"].is_string(), want["v2"].is_string()) {
            (true, true) => "hybrid",
            (false, true) => "v2",
            _ => "v1",
        };
        assert_eq!(info["version"], version, "{name}");
        let sizes: u64 =
            info["files"].as_array().unwrap().iter().map(|f| f["size"].as_u64().unwrap()).sum();
        assert_eq!(Some(sizes), want["total_size"].as_u64(), "{name}: files add up");

        // The text form shows the same hashes.
        let human = ferrent_ok([Path::new("info"), &fx.torrent(name)]);
        for hash in [&want["v1"], &want["v2"]].into_iter().filter_map(Value::as_str) {
            assert!(human.contains(hash), "{name}: {human}");
        }
    }
}

#[test]
fn info_shows_every_field() {
    let fx = Fixtures::new();
    let info = info_json(&fx.torrent("multi_mk.torrent"));
    assert_eq!(info["name"], "multi");
    assert_eq!(info["private"], true);
    assert_eq!(info["comment"], "fixture comment");
    assert_eq!(info["created_by"], "mktorrent 1.1");
    assert_eq!(info["creation_date"], Value::Null);
    assert_eq!(
        info["trackers"],
        serde_json::json!([
            ["http://127.0.0.1:6969/announce", "udp://127.0.0.1:6970/announce"],
            ["http://127.0.0.1:6971/announce"]
        ])
    );
    assert_eq!(info["web_seeds"], serde_json::json!(["http://127.0.0.1:8080/files/"]));
    let paths: Vec<&str> =
        info["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    // mktorrent's order: whole paths compared as bytes.
    assert_eq!(paths, ["a.txt", "a/b/deep.bin", "a/x.bin", "b.bin", "empty.dat", "zz/last.bin"]);
    assert_eq!(info["pad_files"], 0);
    assert_eq!(info["piece_count"], 14);
    let magnet = info["magnet"].as_str().unwrap();
    assert!(magnet.starts_with("magnet:?xt=urn:btih:f74a0f55a4ed05a1dbeb4ea5f00864110a833a14"));

    // The documented schema: exactly these keys.
    let keys: Vec<&str> = info.as_object().unwrap().keys().map(String::as_str).collect();
    let mut documented = vec![
        "schema",
        "source",
        "name",
        "info_hash_v1",
        "info_hash_v2",
        "trackers",
        "web_seeds",
        "magnet",
        "version",
        "total_size",
        "piece_length",
        "piece_count",
        "private",
        "files",
        "pad_files",
        "creation_date",
        "created_by",
        "comment",
    ];
    documented.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, documented);

    // A hybrid torrent hides its pad files and counts them.
    let hybrid = info_json(&fx.torrent("multi_lt_hybrid.torrent"));
    assert_eq!(hybrid["files"].as_array().unwrap().len(), 6);
    assert!(hybrid["pad_files"].as_u64().unwrap() > 0);
    assert!(hybrid["files"][0]["pieces_root"].as_str().is_some_and(|h| h.len() == 64));
    let human = ferrent_ok([Path::new("info"), &fx.torrent("multi_lt_hybrid.torrent")]);
    assert!(human.contains("pad files not shown"), "{human}");
    assert!(!human.contains(".pad"), "{human}");
}

#[test]
fn info_reads_magnet_links_offline() {
    let v1 = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
    let v2 = "45911410ed7363ee311550001fbe37e210584aa9ff35e74507afe775351e0224";
    let link = format!(
        "magnet:?xt=urn:btih:{v1}&xt=urn:btmh:1220{v2}&dn=Some%20Name\
         &tr=udp%3A%2F%2F127.0.0.1%3A6969&tr=http%3A%2F%2F127.0.0.1%3A80%2Fa\
         &ws=http%3A%2F%2F127.0.0.1%2Ff&x.pe=127.0.0.1:6881&so=0,2-4"
    );
    let info: Value = serde_json::from_str(&ferrent_ok(["info", "--json", &link])).unwrap();
    assert_eq!(info["schema"], 1);
    assert_eq!(info["source"], "magnet");
    assert_eq!(info["name"], "Some Name");
    assert_eq!(json_hashes(&info), (v1.into(), v2.into()));
    assert_eq!(
        info["trackers"],
        serde_json::json!([["udp://127.0.0.1:6969"], ["http://127.0.0.1:80/a"]])
    );
    assert_eq!(info["web_seeds"], serde_json::json!(["http://127.0.0.1/f"]));
    assert_eq!(info["peers"], serde_json::json!(["127.0.0.1:6881"]));
    assert_eq!(info["select_only"], serde_json::json!([[0, 0], [2, 4]]));
    let human = ferrent_ok(["info", &link]);
    for needle in [v1, v2, "Some Name", "udp://127.0.0.1:6969", "127.0.0.1:6881", "0, 2-4"] {
        assert!(human.contains(needle), "{needle} missing from {human}");
    }
}

#[test]
fn create_matches_mktorrent_v1_info_hashes() {
    let fx = Fixtures::new();
    // Hidden files are included by mktorrent; ferrent includes them when asked.
    let hidden_dir = fx.payload("multi");
    fs::write(hidden_dir.join(".hidden"), b"hidden content").unwrap();
    fs::create_dir_all(hidden_dir.join("a/.dot")).unwrap();
    fs::write(hidden_dir.join("a/.dot/x"), b"x").unwrap();

    for (source, log2, extra) in [
        ("single.bin", 15, &[][..]),
        ("single.bin", 20, &["--private"][..]),
        ("multi", 15, &["--include-hidden"][..]),
        ("multi", 16, &["--include-hidden", "--private"][..]),
    ] {
        let mk_out = fx.path(&format!("mk-{source}-{log2}.torrent"));
        let mut mk = Command::new("mktorrent");
        mk.current_dir(fx.payload(""))
            .args(["-d", "-l", &log2.to_string(), "-a", "http://127.0.0.1:1/announce", "-o"])
            .arg(&mk_out);
        if extra.contains(&"--private") {
            mk.arg("-p");
        }
        let out = mk.arg(source).output().unwrap();
        assert!(out.status.success(), "mktorrent failed: {}", text(&out.stderr));

        let piece_length = (1u64 << log2).to_string();
        let mut args = vec!["--piece-length", piece_length.as_str()];
        args.extend_from_slice(extra);
        let ours = create(
            &fx.payload(source),
            &fx.path(&format!("ferrent-{source}-{log2}.torrent")),
            &args,
        );
        let theirs = lt_check(&mk_out, None);
        let mine = lt_check(&ours, None);
        assert!(theirs["v1"].is_string());
        assert_eq!(mine["v1"], theirs["v1"], "{source} at 2^{log2}");
        assert_eq!(mine["v2"], Value::Null);
        assert_eq!(info_json(&ours)["info_hash_v1"], theirs["v1"]);
    }

    // Without --include-hidden the hidden files are left out, so the hash differs.
    let plain = create(&hidden_dir, &fx.path("plain.torrent"), &["--piece-length", "32K"]);
    let files = info_json(&plain)["files"].as_array().unwrap().len();
    assert_eq!(files, 6);
}

#[test]
fn libtorrent_accepts_created_torrents_and_their_data() {
    let fx = Fixtures::new();
    // A payload spanning many hashing jobs and threads, beside the small fixtures.
    let big = fx.payload("big");
    fs::create_dir_all(big.join("sub")).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut bytes = |len: usize| -> Vec<u8> {
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    };
    fs::write(big.join("one.bin"), bytes(9 << 20 | 12_345)).unwrap();
    fs::write(big.join("sub/two.bin"), bytes(5 << 20)).unwrap();
    fs::write(big.join("sub/three.bin"), bytes(777)).unwrap();

    let cases: [(&str, &[&str], Option<&str>); 10] = [
        // (libtorrent lists v1 files in directory order, so its v1 torrent differs.)
        ("multi", &["--piece-length", "32K"], None),
        ("multi", &["--v2", "--piece-length", "32K"], Some("multi_lt_v2.torrent")),
        ("multi", &["--hybrid", "--piece-length", "64K"], Some("multi_lt_hybrid_notail.torrent")),
        ("single.bin", &["--hybrid", "--piece-length", "16K"], Some("single_lt_hybrid.torrent")),
        ("single.bin", &["--v2", "--piece-length", "64K"], Some("single_lt_v2.torrent")),
        ("single.bin", &[], None),
        ("big", &["--threads", "3", "--piece-length", "16K"], None),
        ("big", &["--v2", "--threads", "3", "--piece-length", "16K"], None),
        ("big", &["--hybrid", "--threads", "2"], None),
        ("big", &["--hybrid", "--threads", "1", "--piece-length", "4M"], None),
    ];
    for (n, (source, args, same_as)) in cases.into_iter().enumerate() {
        let what = format!("{source} {args:?}");
        let torrent = create(&fx.payload(source), &fx.path(&format!("c{n}.torrent")), args);
        let report = lt_check(&torrent, Some(&fx.payload("")));
        assert_eq!(report["checked"], true, "{what}: {report}");
        assert_eq!(report["seeding"], true, "{what}: libtorrent rejected the data: {report}");
        assert_eq!(report["error"], Value::Null, "{what}");
        assert_eq!(json_hashes(&info_json(&torrent)), hashes(&report), "{what}");
        let v2 = args.contains(&"--v2") || args.contains(&"--hybrid");
        assert_eq!(report["v2"].is_string(), v2, "{what}");
        assert_eq!(report["v1"].is_string(), !args.contains(&"--v2"), "{what}");
        if let Some(reference) = same_as {
            // libtorrent's own torrent of the same files: identical info dictionaries.
            let want = &fx.expected[reference];
            assert_eq!(hashes(&report), (want["v1"].clone(), want["v2"].clone()), "{what}");
        }
    }

    // The check is real: a corrupted byte costs exactly one piece.
    let torrent = fx.path("c2.torrent");
    let copy = fx.path("corrupt");
    fs::create_dir_all(&copy).unwrap();
    let out = Command::new("cp").arg("-r").arg(fx.payload("multi")).arg(&copy).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let victim = copy.join("multi/a/b/deep.bin");
    let mut data = fs::read(&victim).unwrap();
    data[100_000] ^= 0xff;
    fs::write(&victim, data).unwrap();
    let report = lt_check(&torrent, Some(&copy));
    assert_eq!(report["checked"], true, "{report}");
    assert_eq!(report["seeding"], false, "{report}");
    assert_eq!(report["have_pieces"].as_u64(), report["num_pieces"].as_u64().map(|n| n - 1));
}

#[test]
fn create_refuses_bad_input_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();

    let fail = |args: &[&std::ffi::OsStr], needles: &[&str]| {
        let out = ferrent(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        for needle in needles {
            assert!(stderr.contains(needle), "{needle:?} missing from {stderr}");
        }
        assert!(out.stdout.is_empty(), "{args:?}");
    };
    let os = |s: &'static str| -> &std::ffi::OsStr { s.as_ref() };

    let missing = root.join("missing");
    fail(&[os("create"), missing.as_os_str()], &["missing", "No such file"]);

    let empty = root.join("empty");
    fs::create_dir_all(empty.join("sub/.git")).unwrap();
    fs::write(empty.join(".hidden"), b"x").unwrap();
    fail(&[os("create"), empty.as_os_str()], &["empty", "contains no files"]);

    let zero = root.join("zero.bin");
    fs::write(&zero, b"").unwrap();
    fail(&[os("create"), zero.as_os_str()], &["zero.bin", "0 bytes"]);

    // An existing output is kept unless --force.
    let data = root.join("data.bin");
    fs::write(&data, vec![7u8; 40_000]).unwrap();
    let out = root.join("data.torrent");
    fs::write(&out, b"precious").unwrap();
    fail(
        &[os("create"), data.as_os_str(), os("-o"), out.as_os_str()],
        &["already exists", "--force"],
    );
    assert_eq!(fs::read(&out).unwrap(), b"precious");
    ferrent_ok([os("create"), data.as_os_str(), os("-o"), out.as_os_str(), os("--force")]);
    assert!(fs::read(&out).unwrap().starts_with(b"d"));

    // Usage errors exit with 2.
    for bad in [
        &["create", "--piece-length", "3M", "x"][..],
        &["create", "--threads", "0", "x"],
        &["create"],
    ] {
        assert_eq!(ferrent(bad).status.code(), Some(2), "{bad:?}");
    }
}

#[cfg(unix)]
#[test]
fn create_reports_unreadable_files() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;

    let dir = tempfile::tempdir().unwrap();
    // As root, permissions do not stop reads, so run ferrent as `nobody` instead.
    let root_user = unsafe { libc::geteuid() } == 0;
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let payload = dir.path().join("payload");
    fs::create_dir_all(&payload).unwrap();
    fs::set_permissions(&payload, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(payload.join("ok.bin"), vec![1u8; 5000]).unwrap();
    let locked = payload.join("locked.bin");
    fs::write(&locked, vec![2u8; 5000]).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    fs::set_permissions(payload.join("ok.bin"), fs::Permissions::from_mode(0o644)).unwrap();

    for target in [&locked, &payload] {
        let mut cmd = Command::new(FERRENT);
        cmd.arg("create").arg(target).arg("-o").arg(dir.path().join("out.torrent"));
        if root_user {
            cmd.uid(65534).gid(65534);
        }
        let out = cmd.output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("locked.bin") && stderr.contains("ermission denied"), "{stderr}");
    }
}

#[test]
fn info_rejects_malformed_torrents() {
    let fx_dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = fx_dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        path
    };
    let cases: [(PathBuf, &[&str]); 4] = [
        (write("garbage.torrent", b"not bencode at all"), &["garbage.torrent", "byte 0"]),
        (write("cut.torrent", b"d8:announce9:http://x/4:infod4:name1:a6:length"), &["cut.torrent", "byte"]),
        (
            write("pl.torrent", b"d4:infod6:lengthi5e4:name1:a12:piece lengthi1000e6:pieces20:aaaaaaaaaaaaaaaaaaaaee"),
            &["pl.torrent", "piece length"],
        ),
        (write("list.torrent", b"le"), &["list.torrent"]),
    ];
    for (path, needles) in cases {
        let out = ferrent([Path::new("info"), &path]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", path.display());
        for needle in needles {
            assert!(stderr.contains(needle), "{needle:?} missing from {stderr}");
        }
    }
    let out = ferrent([Path::new("info"), &fx_dir.path().join("absent.torrent")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("absent.torrent"));
    let out = ferrent(["info", "magnet:?dn=no-hash"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("info hash"), "{}", text(&out.stderr));
}
