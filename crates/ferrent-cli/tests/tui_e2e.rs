//! `ferrent tui` end to end, driven like a person would through tmux: a real daemon on
//! 127.0.0.1 and a libtorrent seeder behind opentracker; the torrent is added with `a`
//! (typing its path), downloads to 100%, is paused with `p`, resumed with `r` and removed
//! with `d` + `y`. The screen survives a resize and the daemon going away, and quitting
//! puts the terminal back.
//!
//! Needs Debian's `tmux` (installed by scripts/setup.sh).

mod daemon_support;
mod swarm;

use daemon_support::DaemonProc;
use ferrent_daemon::model::State;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use swarm::fixture::{Fixture, SEED_READY, SINGLE};
use swarm::peers::{Peer, Role};

/// Upper bound for a download of a few MiB on loopback.
const DOWNLOAD: Duration = Duration::from_secs(60);

/// Upper bound for the screen to show the effect of a key (it refreshes every second).
const SCREEN: Duration = Duration::from_secs(15);

/// A private tmux server (its own socket, no user config) running one window; the server
/// and everything in it is killed on drop.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    /// Starts `command` (a shell command line) in a `width` × `height` window.
    fn start(dir: &Path, width: u16, height: u16, command: &str) -> Tmux {
        let version = Command::new("tmux").arg("-V").output();
        assert!(
            version.is_ok_and(|o| o.status.success()),
            "tmux is missing: install it (apt-get install tmux, or bash scripts/setup.sh)"
        );
        let tmux = Tmux { socket: dir.join("tmux.sock") };
        let (w, h) = (width.to_string(), height.to_string());
        tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            &w,
            "-y",
            &h,
            command,
        ]);
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&self.socket).args(args).env_remove("FERRENT_API_URL").env_remove("TMUX");
        let out = cmd.output().expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Presses keys by tmux name (`a`, `Enter`, `Tab`, ...).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Types `text` literally.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "e2e", "-l", text]);
    }

    /// The visible screen.
    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }

    /// Waits until the screen satisfies `done`; panics with the last screen after `timeout`.
    fn wait(&self, timeout: Duration, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if Instant::now() >= deadline {
                // The guard prints the screen as the test unwinds.
                panic!("timed out after {timeout:?} waiting for {what}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until a screen line contains every one of `parts`.
    fn wait_line(&self, timeout: Duration, parts: &[&str]) -> String {
        let what = format!("a line with {parts:?}");
        self.wait(timeout, &what, |s| s.lines().any(|l| parts.iter().all(|p| l.contains(p))))
    }

    /// Resizes the window.
    fn resize(&self, width: u16, height: u16) {
        self.run(&[
            "resize-window",
            "-t",
            "e2e",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Ok(out) = Command::new("tmux")
                .arg("-S")
                .arg(&self.socket)
                .args(["capture-pane", "-p", "-t", "e2e"])
                .output()
            {
                eprintln!("----- tmux screen -----\n{}", String::from_utf8_lossy(&out.stdout));
            }
        }
        let _ = Command::new("tmux").arg("-S").arg(&self.socket).arg("kill-server").output();
    }
}

#[test]
fn add_download_pause_resume_remove_through_the_tui() {
    let fx = Fixture::new("tui-e2e", SINGLE, |t| vec![t.http()]);
    let mut seeder = Peer::libtorrent(Role::Seed, &fx.torrent, &fx.payload.parent).spawn();
    seeder.wait_ready(SEED_READY);
    let mut daemon = DaemonProc::start(&fx.scratch.subdir("daemon"), "");
    let id = fx.torrent.info.info_hash.clone();

    // The shell line stays after the TUI quits, to show what it left on the terminal.
    let command = format!(
        "'{}' tui --config '{}'; echo \"tui exited with $?\"; sleep 600",
        env!("CARGO_BIN_EXE_ferrent"),
        daemon.config.display()
    );
    let tmux = Tmux::start(fx.scratch.path(), 140, 36, &command);
    tmux.wait(SCREEN, "the empty list", |s| s.contains("No torrents. Press a to add"));

    // `a`, the path, Enter: added and selected, then complete from the seeder.
    tmux.keys(&["a"]);
    tmux.wait(SCREEN, "the add prompt", |s| s.contains("Add a magnet link"));
    tmux.type_text(fx.torrent.path.to_str().expect("UTF-8 path"));
    tmux.keys(&["Enter"]);
    tmux.wait_line(SCREEN, &["✔ added single.bin"]);
    tmux.wait_line(DOWNLOAD, &["▶ single.bin", "100.0%", "seeding"]);
    daemon.wait_state(&id, State::Seeding, SCREEN);
    fx.payload.assert_complete_in(&daemon.downloads);

    // The detail tabs: the file at 100% and the tracker working.
    tmux.keys(&["Tab"]);
    tmux.wait_line(SCREEN, &["█ 100.0%", "normal", "single.bin"]);
    tmux.keys(&["Tab", "Tab"]);
    tmux.wait_line(SCREEN, &[&fx.tracker.addr.http(), "working"]);

    // A narrow terminal keeps the essentials; back to wide.
    tmux.resize(44, 16);
    let narrow = tmux.wait_line(SCREEN, &["single.bin", "100.0%"]);
    assert!(!narrow.contains("Ratio"), "a narrow list drops columns:\n{narrow}");
    assert!(narrow.lines().all(|l| l.chars().count() <= 44), "drawn past the edge:\n{narrow}");
    tmux.resize(140, 36);
    tmux.wait_line(SCREEN, &["Ratio", "Peers"]);

    // Pause and resume.
    tmux.keys(&["p"]);
    tmux.wait_line(SCREEN, &["▶ single.bin", "paused"]);
    daemon.wait_state(&id, State::Paused, SCREEN);
    tmux.keys(&["r"]);
    tmux.wait_line(SCREEN, &["▶ single.bin", "seeding"]);
    daemon.wait_state(&id, State::Seeding, SCREEN);

    // Remove: `d` asks; anything but `y` keeps it; `y` removes it and keeps the data.
    tmux.keys(&["d"]);
    tmux.wait(SCREEN, "the removal question", |s| {
        s.contains("Remove single.bin? Its downloaded data stays on disk.")
    });
    tmux.keys(&["n"]);
    tmux.wait_line(SCREEN, &["✔ kept single.bin"]);
    assert_eq!(daemon.list().len(), 1);
    tmux.keys(&["d"]);
    tmux.wait(SCREEN, "the removal question", |s| s.contains("Remove single.bin?"));
    tmux.keys(&["y"]);
    tmux.wait_line(SCREEN, &["✔ removed single.bin"]);
    tmux.wait(SCREEN, "the empty list", |s| s.contains("No torrents. Press a to add"));
    assert!(daemon.list().is_empty());
    assert!(daemon.downloads.join("single.bin").exists(), "`d` keeps the data");

    // The daemon goes away: the status line says so and the screen stays up.
    daemon.terminate();
    tmux.wait_line(SCREEN, &["cannot reach the daemon", "retrying"]);
    tmux.wait_line(SCREEN, &["Torrents (0) (not updating)"]);

    // `q` quits with status 0 and leaves the alternate screen.
    tmux.keys(&["q"]);
    let after = tmux.wait_line(SCREEN, &["tui exited with 0"]);
    assert!(
        !after.contains("Torrents ("),
        "the TUI's screen is still shown after quitting:\n{after}"
    );
}
