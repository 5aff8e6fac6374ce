//! `/metrics` in the Prometheus text format (0.0.4).

use crate::daemon::Daemon;
use crate::model::State;
use std::fmt::Write;

/// One metric family: name, type, help, and its samples as (labels, value).
struct Family<'a> {
    name: &'a str,
    kind: &'a str,
    help: &'a str,
    samples: Vec<(String, u64)>,
}

fn write_family(out: &mut String, f: &Family<'_>) {
    let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
    let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
    for (labels, value) in &f.samples {
        let _ = writeln!(out, "{}{} {}", f.name, labels, value);
    }
}

fn one<'a>(name: &'a str, kind: &'a str, help: &'a str, value: u64) -> Family<'a> {
    Family { name, kind, help, samples: vec![(String::new(), value)] }
}

/// The metrics page.
pub fn render(daemon: &Daemon) -> String {
    let session = daemon.session_view();

    let (saves, save_errors, saves_in_flight) = daemon.save_counters();
    let disk = daemon.disk_queue();
    let count = |state: State| session.states.get(&state).copied().unwrap_or(0) as u64;
    let by_state =
        State::ALL.iter().map(|&s| (format!("{{state=\"{}\"}}", s.as_str()), count(s))).collect();
    let tally = daemon.tally();
    let families = [
        Family {
            name: "ferrent_torrents",
            kind: "gauge",
            help: "Torrents by state.",
            samples: by_state,
        },
        one(
            "ferrent_download_rate_bytes",
            "gauge",
            "Download rate summed over torrents, bytes per second.",
            session.down_rate,
        ),
        one(
            "ferrent_upload_rate_bytes",
            "gauge",
            "Upload rate summed over torrents, bytes per second.",
            session.up_rate,
        ),
        one(
            "ferrent_downloaded_bytes_total",
            "counter",
            "Payload bytes received since the daemon started.",
            session.downloaded,
        ),
        one(
            "ferrent_uploaded_bytes_total",
            "counter",
            "Payload bytes sent since the daemon started.",
            session.uploaded,
        ),
        one("ferrent_peers", "gauge", "Connected peers.", session.peers as u64),
        one("ferrent_left_bytes", "gauge", "Wanted bytes not downloaded yet.", tally.left),
        one(
            "ferrent_hash_queue_depth",
            "gauge",
            "Received pieces waiting for a disk thread or being hash-checked and written.",
            disk.verifying as u64,
        ),
        one(
            "ferrent_disk_queue_depth",
            "gauge",
            "Disk jobs queued or running: pieces to hash and write, and pieces to read for uploads.",
            (disk.verifying + disk.reading) as u64,
        ),
        one(
            "ferrent_checking_torrents",
            "gauge",
            "Torrents whose existing data is being checked or waits to be.",
            count(State::Checking) + count(State::Queued),
        ),
        one(
            "ferrent_sleeping_torrents",
            "gauge",
            "Complete torrents with no peer and nothing under way, kept without an engine, \
             read cache or open files until a peer or reader needs them.",
            tally.asleep as u64,
        ),
        one("ferrent_state_saves_in_flight", "gauge", "State-file writes in flight.", saves_in_flight),
        one("ferrent_state_saves_total", "counter", "Torrent state files written.", saves),
        one(
            "ferrent_state_save_errors_total",
            "counter",
            "Torrent state files that could not be written.",
            save_errors,
        ),
        one(
            "ferrent_upload_limit_bytes",
            "gauge",
            "Session upload cap, bytes per second (0 = none).",
            session.limits.upload.unwrap_or(0),
        ),
        one(
            "ferrent_download_limit_bytes",
            "gauge",
            "Session download cap, bytes per second (0 = none).",
            session.limits.download.unwrap_or(0),
        ),
        one(
            "ferrent_uptime_seconds",
            "gauge",
            "Seconds since the daemon started.",
            session.uptime_secs,
        ),
    ];
    let mut out = String::with_capacity(4096);
    for family in &families {
        write_family(&mut out, family);
    }
    out
}
