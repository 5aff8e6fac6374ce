//! `ferrent tui`: a terminal screen for a running `ferrent daemon`.
//!
//! It shows the torrent list (name, size, progress, state, rates, ETA, ratio, peers), the
//! selected torrent's files, peers, trackers and details, and a graph of the session's
//! rates over the last five minutes; keys add, pause, resume and remove torrents and set
//! rate limits (`?` lists them). It needs nothing but a plain terminal: no mouse, 16
//! colours at most (the selection is reverse video), so it works over SSH.
//!
//! The parts:
//! * [`app`]: the state, pure — keys in, [`app::Action`]s out; snapshots in.
//! * [`view`]: draws an [`app::App`] into a ratatui frame, for any size.
//! * [`worker`]: requests to the daemon on a background runtime.
//! * this module: the terminal and the loop tying them together. The terminal is put
//!   back as it was on every way out: quitting, an error, a panic, SIGTERM or SIGINT.
//!
//! The daemon is found as for the other client commands (`--config`, `--url`,
//! `--token-file`); the screen refreshes every second (`--refresh`), and a daemon that
//! cannot be reached is reported in the status line while the screen keeps retrying.

mod app;
mod format;
mod history;
mod prompt;
mod view;
mod worker;

#[cfg(test)]
mod tests;

use anyhow::{bail, Context, Result};
use app::{Action, App};
use ratatui::crossterm::event::{self, Event};
use ratatui::DefaultTerminal;
use std::io::IsTerminal;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use worker::{Update, Worker};

/// How long the loop waits for a key before looking for the daemon's answers.
const TICK: Duration = Duration::from_millis(50);

/// Terminal events handled between two looks at the daemon's answers.
const MAX_EVENTS: usize = 64;

/// `ferrent tui`.
#[derive(clap::Args, Debug)]
pub struct TuiArgs {
    /// Seconds between refreshes (0.2 to 60).
    #[arg(long, default_value = "1", value_parser = parse_refresh, value_name = "SECONDS")]
    refresh: Duration,
    #[command(flatten)]
    endpoint: crate::remote::Endpoint,
}

fn parse_refresh(text: &str) -> Result<Duration, String> {
    let secs: f64 = text.parse().map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(0.2..=60.0).contains(&secs) {
        return Err(format!("{secs} s is out of range (0.2 to 60)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Runs `ferrent tui` until the user quits.
pub fn run(args: TuiArgs) -> Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!("ferrent tui needs a terminal (use `ferrent ls` and friends in scripts)");
    }
    let client = args.endpoint.client()?;
    let (updates, results) = mpsc::channel();
    let worker = Worker::start(client, updates)?;
    let mut terminal = Screen::enter()?;
    run_loop(&mut terminal.terminal, &worker, &results, args.refresh)
}

/// The terminal in raw mode on the alternate screen; put back as it was when dropped
/// (ratatui's panic hook does the same before a panic message is printed).
struct Screen {
    terminal: DefaultTerminal,
}

impl Screen {
    fn enter() -> Result<Self> {
        match ratatui::try_init() {
            Ok(terminal) => Ok(Self { terminal }),
            Err(e) => {
                ratatui::restore();
                Err(e).context("cannot set up the terminal")
            }
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Draws, reads keys and passes work to `worker` until the user quits.
fn run_loop(
    terminal: &mut DefaultTerminal,
    worker: &Worker,
    results: &mpsc::Receiver<Update>,
    every: Duration,
) -> Result<()> {
    let mut app = App::new();
    let mut next_refresh = Instant::now();
    let mut in_flight = false;
    let mut wanted = false;
    let mut dirty = true;
    loop {
        if dirty {
            terminal.draw(|frame| view::render(&app, frame)).context("cannot draw")?;
            dirty = false;
        }
        // Wait up to a tick for input, then take what else is queued (a bounded batch, so
        // that a flood of keys cannot starve the daemon's answers).
        let mut timeout = TICK;
        for _ in 0..MAX_EVENTS {
            if !event::poll(timeout).context("cannot read the terminal")? {
                break;
            }
            timeout = Duration::ZERO;
            match event::read().context("cannot read the terminal")? {
                Event::Key(key) => {
                    dirty = true;
                    match app.handle_key(key) {
                        Some(Action::Refresh) => wanted = true,
                        Some(Action::Request(request)) => worker.perform(request),
                        None => {}
                    }
                }
                // The next draw takes the new size.
                Event::Resize(..) => dirty = true,
                _ => {}
            }
        }
        while let Ok(update) = results.try_recv() {
            dirty = true;
            match update {
                Update::Snapshot(snapshot) => {
                    in_flight = false;
                    let before = app.selected_id().map(str::to_owned);
                    app.apply(*snapshot);
                    // A new selection wants its details at once.
                    wanted |= app.selected_id() != before.as_deref();
                }
                Update::Unreachable(reason) => {
                    in_flight = false;
                    app.unreachable(reason);
                }
                Update::Finished(outcome) => {
                    app.finished(outcome);
                    wanted = true;
                }
                Update::Signal => return Ok(()),
            }
        }
        if app.should_quit() {
            return Ok(());
        }
        if !in_flight && (wanted || Instant::now() >= next_refresh) {
            worker.refresh(app.selected_id().map(str::to_owned));
            in_flight = true;
            wanted = false;
            next_refresh = Instant::now() + every;
        }
    }
}
