//! `ferrent`: a BitTorrent client for the command line.
//!
//! Subcommands live in their own modules, each with an `Args` struct (clap derive) and a
//! `run` function returning `anyhow::Result<()>`; adding one is a module, a [`Command`]
//! variant and a match arm.
//!
//! Exit status: 0 on success, 1 on any error (printed as `error: <context>: <cause>...`
//! on stderr), 2 for usage errors (clap's default). Logs go to stderr; the `FERRENT_LOG`
//! environment variable sets the filter (`tracing-subscriber` syntax, default `warn`;
//! `info` for `ferrent daemon`).
#![deny(missing_docs)]

mod create;
mod daemon;
mod download;
mod info;
mod remote;
mod tui;

use std::io;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "ferrent", version, about = "A fast, careful BitTorrent client")]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Show what a .torrent file or a magnet link describes (offline).
    Info(info::InfoArgs),
    /// Create a .torrent from a file or a directory.
    Create(create::CreateArgs),
    /// Download torrents into a directory, then exit or keep seeding.
    Download(download::DownloadArgs),
    /// Run the long-running service (HTTP API, watch folder, fast resume).
    Daemon(daemon::DaemonArgs),
    /// Daemon configuration (`--print-default` prints a commented default file).
    Config(daemon::ConfigArgs),
    /// Add torrents to a running daemon.
    Add(remote::AddArgs),
    /// List a running daemon's torrents.
    Ls(remote::LsArgs),
    /// Show one torrent of a running daemon in full.
    Show(remote::ShowArgs),
    /// Pause torrents of a running daemon.
    Pause(remote::SelectArgs),
    /// Resume torrents of a running daemon.
    Resume(remote::SelectArgs),
    /// Remove torrents from a running daemon.
    Rm(remote::RmArgs),
    /// Show or set a running daemon's rate limits (session-wide or per torrent).
    Limit(remote::LimitArgs),
    /// Watch and control a running daemon in a terminal screen.
    Tui(tui::TuiArgs),
}

/// Tunes glibc's allocator for a process that moves a lot of data through short-lived
/// buffers and holds many small long-lived objects.
///
/// Received blocks live in 256 KiB buffers that are freed once their piece is on disk. By
/// default glibc serves blocks that large with `mmap` and hands freed memory back to the
/// kernel at once, so every buffer costs page faults and zeroing (about a tenth of a
/// download's CPU time). Below 4 MiB the heap serves them, and up to 64 MiB of free heap is
/// kept before trimming. Two arenas rather than one per thread keep the daemon's thousands
/// of torrents from spreading over many half-empty heaps (a fifth less memory at 2,000).
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tunables; it is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    // Log lines would scribble over the TUI's screen: none unless FERRENT_LOG asks.
    init_logging(match cli.command {
        Command::Daemon(_) => "info",
        Command::Tui(_) => "off",
        _ => "warn",
    });
    let result = match cli.command {
        Command::Info(args) => info::run(args),
        Command::Create(args) => create::run(args),
        Command::Download(args) => download::run(args),
        Command::Daemon(args) => daemon::run(args),
        Command::Config(args) => daemon::config(args),
        Command::Add(args) => remote::add(args),
        Command::Ls(args) => remote::ls(args),
        Command::Show(args) => remote::show(args),
        Command::Pause(args) => remote::pause_or_resume(args, false),
        Command::Resume(args) => remote::pause_or_resume(args, true),
        Command::Rm(args) => remote::rm(args),
        Command::Limit(args) => remote::limit(args),
        Command::Tui(args) => tui::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A closed stdout (`ferrent info x | head -1`) is the reader's choice, not a failure.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", error_chain(&err));
            ExitCode::FAILURE
        }
    }
}

/// `context: cause: cause...`, leaving out a cause whose text its parent already ends
/// with (many error types print their source as part of their own message).
fn error_chain(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if message.ends_with(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// Logs to stderr, filtered by `FERRENT_LOG` (default `default`).
fn init_logging(default: &str) {
    let filter = EnvFilter::try_from_env("FERRENT_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(ansi)
        .init();
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_chain_skips_causes_already_in_the_message() {
        let io = io::Error::new(io::ErrorKind::NotFound, "gone");
        let err = anyhow::Error::new(io).context("cannot open `x`: gone").context("cannot create");
        assert_eq!(error_chain(&err), "cannot create: cannot open `x`: gone");
        let io = io::Error::new(io::ErrorKind::NotFound, "gone");
        let err = anyhow::Error::new(io).context("cannot open `x`");
        assert_eq!(error_chain(&err), "cannot open `x`: gone");
    }
}
