//! `ferrent daemon`: the long-running service, and `ferrent config --print-default`.
//!
//! The daemon runs in the foreground and logs to stderr (set `FERRENT_LOG`, default
//! `info`), which suits systemd. Settings come from the config file, then the `FERRENT_*`
//! environment variables, then the flags here. SIGTERM or SIGINT stops it cleanly within
//! five seconds (trackers are told, state is saved); a second signal exits at once.

use anyhow::{Context, Result};
use ferrent_daemon::config::{BaseDirs, DaemonConfig};
use ferrent_daemon::Service;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Arguments of `ferrent daemon`.
#[derive(clap::Args, Debug)]
pub struct DaemonArgs {
    /// Config file (default: ~/.config/ferrent/daemon.toml when it exists).
    #[arg(long, short = 'c', env = "FERRENT_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Download root (overrides `download_dir`).
    #[arg(long, value_name = "DIR")]
    download_dir: Option<PathBuf>,
    /// State directory (overrides `state_dir`).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Watch folder (overrides `watch.dir`).
    #[arg(long, value_name = "DIR")]
    watch_dir: Option<PathBuf>,
    /// Peer port (overrides `network.listen_port`).
    #[arg(long, value_name = "PORT")]
    listen_port: Option<u16>,
    /// API address (overrides `api.bind`).
    #[arg(long, value_name = "IP:PORT")]
    api_bind: Option<SocketAddr>,
    /// Turn the DHT off (overrides `network.dht`).
    #[arg(long)]
    no_dht: bool,
}

/// Arguments of `ferrent config`.
#[derive(clap::Args, Debug)]
pub struct ConfigArgs {
    /// Print the commented default daemon configuration.
    #[arg(long, required = true)]
    print_default: bool,
}

/// Runs `ferrent config`.
pub fn config(args: ConfigArgs) -> Result<()> {
    if args.print_default {
        print!("{}", DaemonConfig::default_toml(&BaseDirs::from_env()));
    }
    Ok(())
}

/// The configuration from file, environment and flags.
fn load(args: &DaemonArgs) -> Result<DaemonConfig> {
    let dirs = BaseDirs::from_env();
    let mut config = DaemonConfig::load(args.config.as_deref(), &dirs)?;
    config.apply_env(|name| std::env::var(name).ok())?;
    if let Some(dir) = &args.download_dir {
        config.download_dir.clone_from(dir);
    }
    if let Some(dir) = &args.state_dir {
        config.state_dir.clone_from(dir);
    }
    if let Some(dir) = &args.watch_dir {
        config.watch.dir = Some(dir.clone());
    }
    if let Some(port) = args.listen_port {
        config.network.listen_port = port;
    }
    if let Some(bind) = args.api_bind {
        config.api.bind = bind;
    }
    if args.no_dht {
        config.network.dht = false;
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    config.finish(&cwd)?;
    Ok(config)
}

/// Threads for blocking work (disk reads and writes, state files, file checks) at most.
/// Disk work is bounded by the session's own permits; this bounds the rest, so a burst of
/// starts or saves does not leave a hundred idle threads' stacks behind (tokio's default
/// is 512).
const BLOCKING_THREADS: usize = 32;

/// Runs `ferrent daemon` until SIGTERM or SIGINT.
pub fn run(args: DaemonArgs) -> Result<()> {
    let config = load(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let service = Service::start(config).await?;
        wait_for_signal().await?;
        tracing::info!("shutting down");
        // A second signal during shutdown exits at once.
        tokio::spawn(async {
            if wait_for_signal().await.is_ok() {
                tracing::warn!("second signal: exiting without waiting");
                std::process::exit(130);
            }
        });
        service.shutdown().await;
        anyhow::Ok(())
    })
}

async fn wait_for_signal() -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}
