//! `ferrent create`: make a .torrent from a file or a directory.

use std::fs::{self, OpenOptions};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::Args;
use ferrent_core::Metainfo;
use ferrent_storage::create::{TorrentBuilder, Version, MAX_PIECE_LENGTH, MIN_PIECE_LENGTH};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::info::{human_size, payload_size};

/// Arguments of `ferrent create`.
#[derive(Debug, Args)]
#[command(after_help = "\
Trackers: each -t starts a new tier (backups tried in order); `-t URL1,URL2` puts several \
trackers in one tier. Files and directories whose names start with '.' are left out unless \
--include-hidden; symlinks inside a directory are skipped, never followed. v1 torrents list \
files in mktorrent's order, so with the same piece length (`mktorrent -l N` is \
--piece-length 2^N) both tools give the same info hash.")]
pub struct CreateArgs {
    /// The file or directory to share.
    path: PathBuf,

    /// Where to write the torrent [default: NAME.torrent in the current directory].
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Overwrite the output file if it exists.
    #[arg(short, long)]
    force: bool,

    /// Tracker announce URL; repeat for more tiers, or `URL1,URL2` for one tier.
    #[arg(short = 't', long = "tracker", value_name = "URL[,URL...]", value_parser = parse_tier)]
    trackers: Vec<Vec<String>>,

    /// Web seed URL (BEP 19); may be repeated.
    #[arg(short = 'w', long = "web-seed", value_name = "URL", value_parser = parse_web_seed)]
    web_seeds: Vec<String>,

    /// Piece length in bytes, a power of two from 16K to 64M: `262144`, `256K`, `1M`, `1MiB`
    /// [default: chosen from the total size, aiming for 1024-2048 pieces].
    #[arg(long, value_name = "SIZE", value_parser = parse_piece_length)]
    piece_length: Option<u64>,

    /// Mark the torrent private (BEP 27): peers only from its trackers.
    #[arg(short, long)]
    private: bool,

    /// A comment to store in the torrent.
    #[arg(short, long, value_name = "TEXT")]
    comment: Option<String>,

    /// Create a v2-only torrent (BEP 52); only v2-aware clients can join.
    #[arg(long, conflicts_with = "hybrid")]
    v2: bool,

    /// Create a hybrid v1 + v2 torrent (BEP 52, with BEP 47 pad files).
    #[arg(long)]
    hybrid: bool,

    /// Include files and directories whose names start with '.'.
    #[arg(long)]
    include_hidden: bool,

    /// Hashing threads [default: one per CPU].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,

    /// Leave out the creation date (the output then depends only on the input).
    #[arg(long)]
    no_date: bool,
}

/// Runs `ferrent create`.
pub fn run(args: CreateArgs) -> anyhow::Result<()> {
    let version = match (args.v2, args.hybrid) {
        (true, _) => Version::V2,
        (_, true) => Version::Hybrid,
        _ => Version::V1,
    };
    let creation_date = if args.no_date {
        None
    } else {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        Some(i64::try_from(now.as_secs()).unwrap_or(i64::MAX))
    };
    let builder = TorrentBuilder::new(&args.path)
        .piece_length(args.piece_length)
        .trackers(args.trackers)
        .web_seeds(args.web_seeds)
        .private(args.private)
        .comment(args.comment)
        .created_by(Some(format!("ferrent {}", env!("CARGO_PKG_VERSION"))))
        .creation_date(creation_date)
        .include_hidden(args.include_hidden)
        .version(version)
        .threads(args.threads.map_or(0, usize::from));

    let name = builder
        .name()
        .with_context(|| format!("cannot create a torrent of `{}`", args.path.display()))?;
    let output = args.output.unwrap_or_else(|| PathBuf::from(format!("{name}.torrent")));
    // Checked again, atomically, when writing; this only avoids hashing for nothing.
    if !args.force && output.exists() {
        bail!("`{}` already exists (use --force to overwrite it)", output.display());
    }

    let bar = progress_bar();
    let torrent = builder
        .build(&|hashed, total| {
            if let Some(bar) = &bar {
                bar.set_length(total);
                bar.set_position(hashed);
            }
        })
        .with_context(|| format!("cannot create a torrent of `{}`", args.path.display()))?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }

    write_output(&output, &torrent, args.force)
        .with_context(|| format!("cannot write `{}`", output.display()))?;
    let meta = Metainfo::from_bytes(&torrent).context("the created torrent does not parse")?;
    report(&output, &meta, version).context("cannot write to stdout")
}

/// A byte-count progress bar on stderr, or `None` when stderr is not a terminal.
fn progress_bar() -> Option<ProgressBar> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "hashing {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

/// Writes the torrent, refusing to replace an existing file unless `force`.
fn write_output(path: &Path, bytes: &[u8], force: bool) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|err| {
        if err.kind() == io::ErrorKind::AlreadyExists {
            io::Error::new(err.kind(), "file exists (use --force to overwrite it)")
        } else {
            err
        }
    })?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    if written.is_err() {
        let _ = fs::remove_file(path);
    }
    written
}

/// Prints what was created: the file, the size, the info hashes and the magnet link.
fn report(output: &Path, meta: &Metainfo, version: Version) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let info = &meta.info;
    let kind = match version {
        Version::V1 => "v1",
        Version::V2 => "v2",
        Version::Hybrid => "hybrid v1+v2",
    };
    writeln!(
        out,
        "created {} ({kind}, {}, {} pieces of {})",
        output.display(),
        human_size(payload_size(meta)),
        info.lengths().piece_count(),
        human_size(info.piece_length),
    )?;
    if let Some(v1) = meta.info_hashes.v1 {
        writeln!(out, "info hash v1: {v1}")?;
    }
    if let Some(v2) = meta.info_hashes.v2 {
        writeln!(out, "info hash v2: {v2}")?;
    }
    writeln!(out, "magnet: {}", meta.magnet().to_uri())
}

/// Parses a size such as `262144`, `256K`, `256KiB`, `1M` or `1MiB` (binary units).
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().map_err(|_| format!("`{text}` is not a size"))?;
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("unknown unit `{unit}` (use K, M or G)")),
    };
    number.checked_mul(1 << shift).ok_or_else(|| format!("`{text}` is too large"))
}

fn parse_piece_length(text: &str) -> Result<u64, String> {
    let len = parse_size(text)?;
    if !len.is_power_of_two() || !(MIN_PIECE_LENGTH..=MAX_PIECE_LENGTH).contains(&len) {
        return Err(format!(
            "{len} bytes is not a power of two between {} and {}",
            human_size(MIN_PIECE_LENGTH),
            human_size(MAX_PIECE_LENGTH)
        ));
    }
    Ok(len)
}

/// Checks that `url` has one of `schemes` and something after `://`.
fn check_url(url: &str, schemes: &[&str]) -> Result<String, String> {
    match url.split_once("://") {
        Some((scheme, rest))
            if !rest.is_empty() && schemes.contains(&scheme.to_ascii_lowercase().as_str()) =>
        {
            Ok(url.to_owned())
        }
        _ => Err(format!("`{url}` is not a URL with scheme {}", schemes.join(", "))),
    }
}

fn parse_tier(text: &str) -> Result<Vec<String>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(|url| check_url(url, &["http", "https", "udp", "ws", "wss"]))
        .collect::<Result<Vec<_>, _>>()
        .and_then(
            |tier| if tier.is_empty() { Err("no tracker URL given".into()) } else { Ok(tier) },
        )
}

fn parse_web_seed(text: &str) -> Result<String, String> {
    check_url(text.trim(), &["http", "https", "ftp"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16384"), Ok(16384));
        assert_eq!(parse_size("256K"), Ok(256 << 10));
        assert_eq!(parse_size("256kib"), Ok(256 << 10));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert!(parse_size("1T").is_err());
        assert!(parse_size("K").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
        assert_eq!(parse_piece_length("1M"), Ok(1 << 20));
        assert!(parse_piece_length("3M").is_err());
        assert!(parse_piece_length("8K").is_err());
        assert!(parse_piece_length("128M").is_err());
    }

    #[test]
    fn tiers_and_urls() {
        assert_eq!(
            parse_tier("http://a/announce, udp://b:80"),
            Ok(vec!["http://a/announce".to_owned(), "udp://b:80".to_owned()])
        );
        assert!(parse_tier("tracker.example.com").is_err());
        assert!(parse_tier(",").is_err());
        assert!(parse_tier("gopher://x").is_err());
        assert_eq!(parse_web_seed("https://x/files/"), Ok("https://x/files/".to_owned()));
        assert!(parse_web_seed("udp://x").is_err());
    }
}
