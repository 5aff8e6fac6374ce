//! `ferrent info`: what a `.torrent` file or a magnet link describes, offline.
//!
//! ## JSON output (`ferrent info --json`), schema 1
//!
//! One JSON object on stdout. Keys are snake_case, sizes are in bytes, hashes are lowercase
//! hex, absent values are `null`. Keys are only ever added within a schema version; a
//! change to an existing key bumps `schema`.
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `schema` | number | always `1` |
//! | `source` | string | `"torrent"` or `"magnet"` |
//! | `name` | string or null | torrent name (a magnet's `dn`, null when it has none) |
//! | `info_hash_v1` | string or null | 40 hex digits, SHA-1 info hash (v1 and hybrid) |
//! | `info_hash_v2` | string or null | 64 hex digits, SHA-256 info hash (v2 and hybrid) |
//! | `trackers` | array of arrays of strings | announce URLs by tier (BEP 12); a magnet's `tr` URLs are one tier each |
//! | `web_seeds` | array of strings | web seed URLs (BEP 19 `url-list`, a magnet's `ws`) |
//! | `magnet` | string | magnet link (for a torrent: built from it; for a magnet: normalized) |
//!
//! Only for `"source": "torrent"`:
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `version` | string | `"v1"`, `"v2"` or `"hybrid"` |
//! | `total_size` | number | payload bytes, pad files excluded |
//! | `piece_length` | number | bytes per piece |
//! | `piece_count` | number | number of pieces |
//! | `private` | bool | BEP 27 private flag |
//! | `files` | array of objects | files in torrent order, pad files excluded: `path` (string, `/`-separated, relative to the torrent's directory; the name itself for a single-file torrent), `size` (number), `pieces_root` (64 hex digits, or null for v1-only torrents and empty files) |
//! | `pad_files` | number | BEP 47 pad files left out of `files` |
//! | `creation_date` | number or null | seconds since the Unix epoch |
//! | `created_by` | string or null | the creating program |
//! | `comment` | string or null | free text |
//!
//! Only for `"source": "magnet"`:
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `peers` | array of strings | `x.pe` peer addresses, `host:port` or `[v6]:port` |
//! | `select_only` | array of [first, last] pairs | BEP 53 `so` file index ranges (inclusive); empty means all files |

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{bail, Context};
use clap::Args;
use ferrent_core::{FileEntry, InfoHashes, Magnet, Metainfo};
use serde::Serialize;

/// Arguments of `ferrent info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// A .torrent file, or a magnet link (`magnet:?xt=...`, quote it in the shell).
    target: String,

    /// Print JSON (schema documented in the README) instead of text.
    #[arg(long)]
    json: bool,
}

/// The largest `.torrent` file `info` reads; real ones are at most a few MiB.
const MAX_TORRENT_SIZE: u64 = 64 << 20;

/// Runs `ferrent info`.
pub fn run(args: InfoArgs) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    if args.target.get(..7).is_some_and(|s| s.eq_ignore_ascii_case("magnet:")) {
        let magnet = Magnet::parse(&args.target).context("cannot parse the magnet link")?;
        if args.json {
            write_json(&mut out, &MagnetJson::new(&magnet))
        } else {
            write_magnet(&mut out, &magnet)
        }
    } else {
        let path = Path::new(&args.target);
        let meta = load(path)?;
        if args.json {
            write_json(&mut out, &TorrentJson::new(&meta))
        } else {
            write_torrent(&mut out, &meta)
        }
    }
    .context("cannot write to stdout")
}

/// Reads and parses a `.torrent` file.
fn load(path: &Path) -> anyhow::Result<Metainfo> {
    let size =
        fs::metadata(path).with_context(|| format!("cannot read `{}`", path.display()))?.len();
    if size > MAX_TORRENT_SIZE {
        bail!(
            "`{}` is {} bytes, too large for a .torrent file (limit {})",
            path.display(),
            size,
            human_size(MAX_TORRENT_SIZE)
        );
    }
    let bytes = fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    Metainfo::from_bytes(&bytes)
        .with_context(|| format!("`{}` is not a valid .torrent file", path.display()))
}

fn write_json(out: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// `ferrent info --json` for a torrent (see the module docs for the schema).
#[derive(Serialize)]
struct TorrentJson<'a> {
    schema: u32,
    source: &'static str,
    name: &'a str,
    info_hash_v1: Option<String>,
    info_hash_v2: Option<String>,
    version: &'static str,
    total_size: u64,
    piece_length: u64,
    piece_count: u32,
    private: bool,
    files: Vec<FileJson>,
    pad_files: usize,
    trackers: &'a [Vec<String>],
    web_seeds: &'a [String],
    creation_date: Option<i64>,
    created_by: Option<&'a str>,
    comment: Option<&'a str>,
    magnet: String,
}

#[derive(Serialize)]
struct FileJson {
    path: String,
    size: u64,
    pieces_root: Option<String>,
}

impl<'a> TorrentJson<'a> {
    fn new(meta: &'a Metainfo) -> Self {
        let info = &meta.info;
        let (v1, v2) = hex_hashes(&meta.info_hashes);
        TorrentJson {
            schema: 1,
            source: "torrent",
            name: &info.name,
            info_hash_v1: v1,
            info_hash_v2: v2,
            version: version_name(meta),
            total_size: payload_size(meta),
            piece_length: info.piece_length,
            piece_count: info.lengths().piece_count(),
            private: info.private,
            files: real_files(meta)
                .map(|f| FileJson {
                    path: f.path.join("/"),
                    size: f.length,
                    pieces_root: f.pieces_root.map(hex::encode),
                })
                .collect(),
            pad_files: info.files.iter().filter(|f| f.pad).count(),
            trackers: &meta.trackers,
            web_seeds: &meta.web_seeds,
            creation_date: meta.creation_date,
            created_by: meta.created_by.as_deref(),
            comment: meta.comment.as_deref(),
            magnet: meta.magnet().to_uri(),
        }
    }
}

/// `ferrent info --json` for a magnet link (see the module docs for the schema).
#[derive(Serialize)]
struct MagnetJson<'a> {
    schema: u32,
    source: &'static str,
    name: Option<&'a str>,
    info_hash_v1: Option<String>,
    info_hash_v2: Option<String>,
    trackers: Vec<[&'a str; 1]>,
    web_seeds: &'a [String],
    peers: Vec<String>,
    select_only: Vec<[usize; 2]>,
    magnet: String,
}

impl<'a> MagnetJson<'a> {
    fn new(magnet: &'a Magnet) -> Self {
        let (v1, v2) = hex_hashes(&magnet.info_hashes);
        MagnetJson {
            schema: 1,
            source: "magnet",
            name: magnet.display_name.as_deref(),
            info_hash_v1: v1,
            info_hash_v2: v2,
            trackers: magnet.trackers.iter().map(|url| [url.as_str()]).collect(),
            web_seeds: &magnet.web_seeds,
            peers: magnet.peers.iter().map(ToString::to_string).collect(),
            select_only: magnet.select_only.iter().map(|r| [*r.start(), *r.end()]).collect(),
            magnet: magnet.to_uri(),
        }
    }
}

fn hex_hashes(hashes: &InfoHashes) -> (Option<String>, Option<String>) {
    (hashes.v1.map(|h| h.to_hex()), hashes.v2.map(|h| h.to_hex()))
}

fn version_name(meta: &Metainfo) -> &'static str {
    match (meta.info.has_v1(), meta.info.has_v2()) {
        (true, true) => "hybrid",
        (false, true) => "v2",
        _ => "v1",
    }
}

/// The files a user sees: everything but BEP 47 pad files.
fn real_files(meta: &Metainfo) -> impl Iterator<Item = &FileEntry> {
    meta.info.files.iter().filter(|f| !f.pad)
}

/// Payload bytes, pad files excluded.
pub(crate) fn payload_size(meta: &Metainfo) -> u64 {
    real_files(meta).map(|f| f.length).sum()
}

fn write_torrent(out: &mut impl Write, meta: &Metainfo) -> io::Result<()> {
    let info = &meta.info;
    let files: Vec<&FileEntry> = real_files(meta).collect();
    let total = payload_size(meta);
    let kind = match version_name(meta) {
        "hybrid" => "hybrid (v1 + v2)",
        other => other,
    };
    writeln!(out, "name:          {}", info.name)?;
    if let Some(v1) = meta.info_hashes.v1 {
        writeln!(out, "info hash v1:  {v1}")?;
    }
    if let Some(v2) = meta.info_hashes.v2 {
        writeln!(out, "info hash v2:  {v2}")?;
    }
    writeln!(out, "version:       {kind}")?;
    let count = files.len();
    let noun = if count == 1 { "file" } else { "files" };
    writeln!(
        out,
        "size:          {} ({} bytes) in {count} {noun}",
        human_size(total),
        grouped(total)
    )?;
    writeln!(
        out,
        "pieces:        {} of {}",
        info.lengths().piece_count(),
        human_size(info.piece_length)
    )?;
    writeln!(out, "private:       {}", if info.private { "yes" } else { "no" })?;
    match (meta.creation_date, &meta.created_by) {
        (None, None) => {}
        (date, by) => {
            let date = date.map_or_else(|| "unknown date".to_owned(), format_date);
            let by = by.as_ref().map(|b| format!(" by {b}")).unwrap_or_default();
            writeln!(out, "created:       {date}{by}")?;
        }
    }
    if let Some(comment) = &meta.comment {
        writeln!(out, "comment:       {comment}")?;
    }
    write_trackers(out, meta.trackers.iter().map(|tier| tier.as_slice()))?;
    write_list(out, "web seeds:", &meta.web_seeds)?;
    writeln!(out, "files (index, size, path; `download --only` takes the index):")?;
    for (index, file) in files.iter().enumerate() {
        writeln!(out, "  {index:>4}  {:>11}  {}", human_size(file.length), file.path.join("/"))?;
    }
    let pads = info.files.len() - files.len();
    if pads > 0 {
        let noun = if pads == 1 { "pad file" } else { "pad files" };
        writeln!(out, "  ({pads} {noun} not shown)")?;
    }
    writeln!(out, "magnet:        {}", meta.magnet().to_uri())
}

fn write_magnet(out: &mut impl Write, magnet: &Magnet) -> io::Result<()> {
    writeln!(out, "magnet link (offline: only what the link itself says)")?;
    if let Some(name) = &magnet.display_name {
        writeln!(out, "name:          {name}")?;
    }
    if let Some(v1) = magnet.info_hashes.v1 {
        writeln!(out, "info hash v1:  {v1}")?;
    }
    if let Some(v2) = magnet.info_hashes.v2 {
        writeln!(out, "info hash v2:  {v2}")?;
    }
    write_trackers(out, magnet.trackers.iter().map(std::slice::from_ref))?;
    write_list(out, "web seeds:", &magnet.web_seeds)?;
    let peers: Vec<String> = magnet.peers.iter().map(ToString::to_string).collect();
    write_list(out, "peers:", &peers)?;
    if let Some(so) = magnet.select_only_text() {
        writeln!(out, "only files:    {}", so.replace(',', ", "))?;
    }
    writeln!(out, "magnet:        {}", magnet.to_uri())
}

fn write_trackers<'a>(
    out: &mut impl Write,
    tiers: impl ExactSizeIterator<Item = &'a [String]>,
) -> io::Result<()> {
    if tiers.len() == 0 {
        return writeln!(out, "trackers:      none");
    }
    writeln!(out, "trackers:")?;
    for (n, tier) in tiers.enumerate() {
        for (i, url) in tier.iter().enumerate() {
            let label = if i == 0 { format!("tier {}:", n + 1) } else { String::new() };
            writeln!(out, "  {label:<9}{url}")?;
        }
    }
    Ok(())
}

fn write_list(out: &mut impl Write, title: &str, items: &[String]) -> io::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    writeln!(out, "{title}")?;
    for item in items {
        writeln!(out, "  {item}")?;
    }
    Ok(())
}

/// `1.5 GiB`, `438.4 KiB`, `512 B`: binary units, one decimal (none for whole numbers).
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `448882` as `448,882`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut groups = Vec::new();
    let mut end = digits.len();
    while end > 3 {
        groups.push(&digits[end - 3..end]);
        end -= 3;
    }
    groups.push(&digits[..end]);
    groups.reverse();
    groups.join(",")
}

/// Seconds since the Unix epoch as `YYYY-MM-DD HH:MM:SS UTC`.
fn format_date(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    // Civil date from a day count (Howard Hinnant's algorithm), in i128 so no input overflows.
    let z = i128::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i128::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1024), "1 KiB");
        assert_eq!(human_size(448_882), "438.4 KiB");
        assert_eq!(human_size(1 << 30), "1 GiB");
        assert_eq!(human_size(u64::MAX), "16 EiB");
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(format_date(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_date(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_date(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(format_date(-1), "1969-12-31 23:59:59 UTC");
        // Absurd values from a hostile file still format without overflow.
        assert!(format_date(i64::MAX).ends_with("UTC"));
        assert!(format_date(i64::MIN).ends_with("UTC"));
    }
}
