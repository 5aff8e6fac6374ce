//! The I/O side of the TUI: snapshots and actions go through the daemon's [`ApiClient`]
//! on a small background runtime, and their results come back to the screen loop as
//! [`Update`]s over a channel, so a slow or absent daemon never freezes the screen.

use super::app::{Outcome, Request, Snapshot, Target};
use super::format;
use anyhow::{Context, Result};
use ferrent_daemon::client::{ApiClient, ClientError};
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::runtime::Runtime;

/// How long a refresh may take before the daemon counts as not answering.
const REFRESH_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an action may take (adding from a URL makes the daemon fetch it).
const ACTION_TIMEOUT: Duration = Duration::from_secs(60);

/// How long the screen loop has to end after SIGTERM or SIGINT before the process exits
/// without it.
const SIGNAL_GRACE: Duration = Duration::from_secs(2);

/// A result for the screen loop.
#[derive(Debug)]
pub enum Update {
    /// A refresh worked.
    Snapshot(Box<Snapshot>),
    /// A refresh failed; why.
    Unreachable(String),
    /// A request ended.
    Finished(Outcome),
    /// SIGTERM or SIGINT arrived: time to put the terminal back and exit.
    Signal,
}

/// Runs requests in the background.
pub struct Worker {
    client: ApiClient,
    runtime: Option<Runtime>,
    updates: Sender<Update>,
}

impl Worker {
    /// Starts the background runtime; results go to `updates`.
    pub fn start(client: ApiClient, updates: Sender<Update>) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("ferrent-tui-io")
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let signals = updates.clone();
        runtime.spawn(async move {
            let signal = wait_for_signal().await;
            let _ = signals.send(Update::Signal);
            // The screen loop ends the process well before this, unless it is stuck
            // (crossterm can spin on a terminal that went away).
            tokio::time::sleep(SIGNAL_GRACE).await;
            ratatui::restore();
            std::process::exit(128 + signal);
        });
        Ok(Self { client, runtime: Some(runtime), updates })
    }

    /// Fetches the list, the session totals and the details of torrent `selected`.
    pub fn refresh(&self, selected: Option<String>) {
        let client = self.client.clone();
        self.spawn(async move {
            match tokio::time::timeout(REFRESH_TIMEOUT, snapshot(&client, selected)).await {
                Ok(Ok(snapshot)) => Update::Snapshot(Box::new(snapshot)),
                Ok(Err(e)) => Update::Unreachable(e.to_string()),
                Err(_) => Update::Unreachable(format!(
                    "the daemon did not answer within {} s",
                    REFRESH_TIMEOUT.as_secs()
                )),
            }
        });
    }

    /// Asks the daemon for a change.
    pub fn perform(&self, request: Request) {
        let client = self.client.clone();
        self.spawn(async move {
            let outcome =
                match tokio::time::timeout(ACTION_TIMEOUT, perform(&client, request)).await {
                    Ok(Ok(outcome)) => outcome,
                    Ok(Err(e)) => Outcome::Failed(format!("{e:#}")),
                    Err(_) => Outcome::Failed(format!(
                        "the daemon did not finish within {} s",
                        ACTION_TIMEOUT.as_secs()
                    )),
                };
            Update::Finished(outcome)
        });
    }

    fn spawn(&self, task: impl std::future::Future<Output = Update> + Send + 'static) {
        let updates = self.updates.clone();
        if let Some(runtime) = &self.runtime {
            runtime.spawn(async move {
                // The screen loop may have ended; then nobody needs the result.
                let _ = updates.send(task.await);
            });
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Quit at once, without waiting for requests in flight.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Waits for SIGTERM or SIGINT; returns the signal's number. (SIGHUP keeps its default
/// action: the terminal is gone, so there is nothing to put back.)
async fn wait_for_signal() -> i32 {
    use tokio::signal::unix::{signal, SignalKind};
    let (term, int) = (SignalKind::terminate(), SignalKind::interrupt());
    let (Ok(mut term_stream), Ok(mut int_stream)) = (signal(term), signal(int)) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term_stream.recv() => term.as_raw_value(),
        _ = int_stream.recv() => int.as_raw_value(),
    }
}

async fn snapshot(client: &ApiClient, selected: Option<String>) -> Result<Snapshot, ClientError> {
    let (torrents, session) = tokio::try_join!(client.list(), client.session())?;
    let details = match selected {
        Some(id) if torrents.iter().any(|t| t.id == id) => match client.details(&id).await {
            Ok(details) => Some(details),
            // Removed between the two requests.
            Err(ClientError::Api { status: 404, .. }) => None,
            Err(e) => return Err(e),
        },
        _ => None,
    };
    let unix_now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Ok(Snapshot { torrents, session, details, taken: Instant::now(), unix_now })
}

async fn perform(client: &ApiClient, request: Request) -> Result<Outcome> {
    let done = |message: String| Outcome::Done { message, added: None };
    Ok(match request {
        Request::Add(source) => {
            let path = expand_home(&source);
            let t = crate::remote::add_source(client, &path, None, false).await?;
            Outcome::Done { message: format!("added {}", t.name), added: Some(t.id) }
        }
        Request::Pause(id) => {
            let t = client.pause(&id).await.context("cannot pause")?;
            done(format!("paused {}", t.name))
        }
        Request::Resume(id) => {
            let t = client.resume(&id).await.context("cannot resume")?;
            done(format!("resumed {} ({})", t.name, t.state.as_str()))
        }
        Request::Remove(removal) => {
            client.remove(&removal.id, removal.delete_data).await.context("cannot remove")?;
            let data = if removal.delete_data { " and deleted its data" } else { "" };
            done(format!("removed {}{data}", removal.name))
        }
        Request::SetLimits(Target::Torrent { id, name }, limits) => {
            let t = client
                .set_limits(&id, limits)
                .await
                .with_context(|| format!("cannot set limits for {name}"))?;
            done(format!(
                "limits for {}: down {}, up {}",
                t.name,
                format::cap(t.download_limit),
                format::cap(t.upload_limit)
            ))
        }
        Request::SetLimits(Target::Session, limits) => {
            let set =
                client.set_session_limits(limits).await.context("cannot set the session limits")?;
            done(format!(
                "session limits: down {}, up {}",
                format::cap(set.download.unwrap_or(0)),
                format::cap(set.upload.unwrap_or(0))
            ))
        }
    })
}

/// `~/x` as `$HOME/x` (a shell would have done it on a command line).
fn expand_home(source: &str) -> String {
    match (source.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest).to_string_lossy().into_owned(),
        _ => source.to_string(),
    }
}
