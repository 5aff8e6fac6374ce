//! The client commands for a running `ferrent daemon`: `add`, `ls`, `show`, `pause`,
//! `resume`, `rm` and `limit`.
//!
//! The daemon's address and token file come from its config file (`--config`, or
//! `FERRENT_CONFIG`, or `~/.config/ferrent/daemon.toml`) and the same environment
//! overrides the daemon reads; `--url` and `--token-file` win over both. A torrent is named
//! by its info hash, a unique prefix of it, or its exact name. Output is a table, or JSON
//! with `--json` (the API's own JSON shapes).

use crate::info::human_size;
use anyhow::{bail, Context, Result};
use ferrent_daemon::client::ApiClient;
use ferrent_daemon::config::{BaseDirs, DaemonConfig};
use ferrent_daemon::model::{AddRequest, Limits, State, TorrentDetails, TorrentSummary};
use serde::Serialize;
use std::path::PathBuf;

/// How to reach the daemon (shared by every client command and `ferrent tui`).
#[derive(clap::Args, Debug)]
pub struct Endpoint {
    /// The daemon's config file, for its API address and token file.
    #[arg(long, env = "FERRENT_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// The API's base URL, e.g. http://127.0.0.1:6880 (default: from the config).
    #[arg(long, env = "FERRENT_API_URL", value_name = "URL")]
    url: Option<String>,
    /// File holding the API token (default: from the config).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
}

/// How to reach the daemon and how to answer (shared by every client command).
#[derive(clap::Args, Debug)]
pub struct Connection {
    #[command(flatten)]
    endpoint: Endpoint,
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
}

/// `ferrent add`.
#[derive(clap::Args, Debug)]
pub struct AddArgs {
    /// .torrent files, magnet links or http(s) URLs of .torrent files.
    #[arg(required = true, value_name = "TORRENT|MAGNET|URL")]
    sources: Vec<String>,
    /// Download directory, inside the daemon's download root.
    #[arg(long = "dir", value_name = "DIR")]
    download_dir: Option<String>,
    /// Add without starting.
    #[arg(long)]
    paused: bool,
    #[command(flatten)]
    conn: Connection,
}

/// `ferrent ls`.
#[derive(clap::Args, Debug)]
pub struct LsArgs {
    /// Only torrents in this state (downloading, seeding, paused, checking, ...).
    #[arg(long, value_parser = parse_state)]
    state: Option<State>,
    #[command(flatten)]
    conn: Connection,
}

/// `ferrent show`.
#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// Info hash, a unique prefix of it, or the exact name.
    torrent: String,
    #[command(flatten)]
    conn: Connection,
}

/// `ferrent pause` and `ferrent resume`.
#[derive(clap::Args, Debug)]
pub struct SelectArgs {
    /// Info hashes, unique prefixes or exact names.
    #[arg(required_unless_present = "all", value_name = "TORRENT")]
    torrents: Vec<String>,
    /// Every torrent.
    #[arg(long, conflicts_with = "torrents")]
    all: bool,
    #[command(flatten)]
    conn: Connection,
}

/// `ferrent rm`.
#[derive(clap::Args, Debug)]
pub struct RmArgs {
    /// Info hashes, unique prefixes or exact names.
    #[arg(required = true, value_name = "TORRENT")]
    torrents: Vec<String>,
    /// Delete the downloaded files too.
    #[arg(long)]
    delete_data: bool,
    #[command(flatten)]
    conn: Connection,
}

/// `ferrent limit`.
#[derive(clap::Args, Debug)]
pub struct LimitArgs {
    /// A torrent; without one the session-wide caps are shown or changed.
    torrent: Option<String>,
    /// Upload cap in bytes per second (K, M, G suffixes; 0 = unlimited).
    #[arg(long, value_parser = crate::create::parse_size, value_name = "RATE")]
    up: Option<u64>,
    /// Download cap in bytes per second (K, M, G suffixes; 0 = unlimited).
    #[arg(long, value_parser = crate::create::parse_size, value_name = "RATE")]
    down: Option<u64>,
    #[command(flatten)]
    conn: Connection,
}

fn parse_state(text: &str) -> Result<State, String> {
    State::ALL.into_iter().find(|s| s.as_str() == text).ok_or_else(|| {
        format!("unknown state {text:?}; one of: {}", State::ALL.map(State::as_str).join(", "))
    })
}

impl Connection {
    fn client(&self) -> Result<ApiClient> {
        self.endpoint.client()
    }
}

impl Endpoint {
    /// A client for the daemon these flags (or the config) name.
    pub(crate) fn client(&self) -> Result<ApiClient> {
        let dirs = BaseDirs::from_env();
        let mut config = DaemonConfig::load(self.config.as_deref(), &dirs)?;
        config.apply_env(|name| std::env::var(name).ok())?;
        let url = self.url.clone().unwrap_or_else(|| config.api_url());
        let token_file = self.token_file.clone().unwrap_or_else(|| config.token_file());
        // Loopback requests need no token by default, so an unreadable file is no error
        // unless it was named explicitly.
        let token = match std::fs::read_to_string(&token_file) {
            Ok(text) => Some(text.trim().to_string()),
            Err(e) if self.token_file.is_some() => {
                return Err(e)
                    .with_context(|| format!("cannot read token file {}", token_file.display()));
            }
            Err(_) => None,
        };
        Ok(ApiClient::new(&url, token)?)
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn print_json<T: Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Finds the torrent `name` designates among `list`.
fn resolve<'a>(list: &'a [TorrentSummary], name: &str) -> Result<&'a TorrentSummary> {
    if let Some(t) = list.iter().find(|t| t.id.eq_ignore_ascii_case(name)) {
        return Ok(t);
    }
    let lower = name.to_ascii_lowercase();
    let mut matches: Vec<&TorrentSummary> =
        list.iter().filter(|t| t.id.starts_with(&lower)).collect();
    if matches.is_empty() {
        matches = list.iter().filter(|t| t.name == name).collect();
    }
    match matches.as_slice() {
        [one] => Ok(one),
        [] => bail!("no torrent matches {name:?}"),
        many => {
            let names: Vec<String> =
                many.iter().map(|t| format!("{} {}", &t.id[..12], t.name)).collect();
            bail!("{name:?} matches {} torrents: {}", many.len(), names.join("; "))
        }
    }
}

async fn resolve_ids(client: &ApiClient, names: &[String], all: bool) -> Result<Vec<String>> {
    let list = client.list().await?;
    if all {
        return Ok(list.into_iter().map(|t| t.id).collect());
    }
    names.iter().map(|n| resolve(&list, n).map(|t| t.id.clone())).collect()
}

/// Runs `ferrent add`.
pub fn add(args: AddArgs) -> Result<()> {
    let client = args.conn.client()?;
    let added = runtime()?.block_on(async {
        let mut added = Vec::new();
        for source in &args.sources {
            added.push(
                add_source(&client, source, args.download_dir.as_deref(), args.paused).await?,
            );
        }
        anyhow::Ok(added)
    })?;
    if args.conn.json {
        return print_json(&added);
    }
    for t in &added {
        println!("added {} {} ({})", t.id, t.name, t.state.as_str());
    }
    Ok(())
}

/// Adds one magnet link, http(s) URL or .torrent file path (read here, uploaded).
pub(crate) async fn add_source(
    client: &ApiClient,
    source: &str,
    download_dir: Option<&str>,
    paused: bool,
) -> Result<TorrentSummary> {
    let summary = if source.starts_with("magnet:")
        || source.starts_with("http://")
        || source.starts_with("https://")
    {
        let mut request = AddRequest {
            download_dir: download_dir.map(str::to_string),
            paused,
            ..AddRequest::default()
        };
        if source.starts_with("magnet:") {
            request.magnet = Some(source.to_string());
        } else {
            request.url = Some(source.to_string());
        }
        client.add(&request).await
    } else {
        let bytes = std::fs::read(source).with_context(|| format!("cannot read {source}"))?;
        client.add_torrent_file(bytes, download_dir, paused).await
    };
    summary.with_context(|| format!("cannot add {source}"))
}

/// Runs `ferrent ls`.
pub fn ls(args: LsArgs) -> Result<()> {
    let client = args.conn.client()?;
    let mut list = runtime()?.block_on(client.list())?;
    if let Some(state) = args.state {
        list.retain(|t| t.state == state);
    }
    if args.conn.json {
        return print_json(&list);
    }
    let mut rows = vec![["ID", "NAME", "STATE", "DONE", "SIZE", "DOWN", "UP", "PEERS"]
        .map(String::from)
        .to_vec()];
    for t in &list {
        rows.push(vec![
            t.id[..8].to_string(),
            t.name.clone(),
            t.state.as_str().to_string(),
            format!("{:.1}%", t.progress * 100.0),
            human_size(t.size),
            rate(t.down_rate),
            rate(t.up_rate),
            t.peer_count.to_string(),
        ]);
    }
    print_table(&rows);
    Ok(())
}

/// Runs `ferrent show`.
pub fn show(args: ShowArgs) -> Result<()> {
    let client = args.conn.client()?;
    let details = runtime()?.block_on(async {
        let list = client.list().await?;
        let id = resolve(&list, &args.torrent)?.id.clone();
        anyhow::Ok(client.details(&id).await?)
    })?;
    if args.conn.json {
        return print_json(&details);
    }
    print_details(&details);
    Ok(())
}

fn print_details(d: &TorrentDetails) {
    let s = &d.summary;
    println!("Name:      {}", s.name);
    println!("Id:        {}", s.id);
    println!(
        "State:     {}{}",
        s.state.as_str(),
        s.error.as_ref().map(|e| format!(" ({e})")).unwrap_or_default()
    );
    println!(
        "Progress:  {:.1}% of {} ({}/{} pieces)",
        s.progress * 100.0,
        human_size(s.size),
        s.pieces_have,
        s.pieces_total
    );
    println!("Directory: {}", s.download_dir);
    println!(
        "Rates:     down {}, up {}; {} peers",
        rate(s.down_rate),
        rate(s.up_rate),
        s.peer_count
    );
    let cap = |n: u64| if n == 0 { "none".to_string() } else { rate(n) };
    println!("Limits:    down {}, up {}", cap(s.download_limit), cap(s.upload_limit));
    for notice in &d.notices {
        println!("Notice:    {notice}");
    }
    if !d.files.is_empty() {
        println!();
        let mut rows = vec![["#", "PRIO", "DONE", "SIZE", "PATH"].map(String::from).to_vec()];
        for f in &d.files {
            let done = if f.size == 0 { 100.0 } else { f.done as f64 * 100.0 / f.size as f64 };
            let prio = if f.priority == 0 { "skip".to_string() } else { f.priority.to_string() };
            rows.push(vec![
                f.index.to_string(),
                prio,
                format!("{done:.1}%"),
                human_size(f.size),
                f.path.clone(),
            ]);
        }
        print_table(&rows);
    }
    if !d.peers.is_empty() {
        println!();
        let mut rows =
            vec![["PEER", "CLIENT", "FLAGS", "HAS", "DOWN", "UP"].map(String::from).to_vec()];
        for p in &d.peers {
            rows.push(vec![
                p.addr.clone(),
                p.client.clone().unwrap_or_else(|| "?".into()),
                p.flags.clone(),
                format!("{:.0}%", p.progress * 100.0),
                rate(p.down_rate),
                rate(p.up_rate),
            ]);
        }
        print_table(&rows);
    }
    if !d.trackers.is_empty() {
        println!();
        let mut rows = vec![["TRACKER", "STATUS", "SEEDS", "PEERS"].map(String::from).to_vec()];
        for t in &d.trackers {
            let status = match (&t.message, t.working) {
                (Some(m), _) => m.clone(),
                (None, true) => "working".into(),
                (None, false) => "not contacted".into(),
            };
            let n = |v: Option<u32>| v.map_or("-".to_string(), |v| v.to_string());
            rows.push(vec![t.url.clone(), status, n(t.seeders), n(t.leechers)]);
        }
        print_table(&rows);
    }
}

/// Runs `ferrent pause` (`resume` = false) or `ferrent resume`.
pub fn pause_or_resume(args: SelectArgs, resume: bool) -> Result<()> {
    let client = args.conn.client()?;
    let changed = runtime()?.block_on(async {
        let mut changed = Vec::new();
        for id in resolve_ids(&client, &args.torrents, args.all).await? {
            changed.push(if resume {
                client.resume(&id).await?
            } else {
                client.pause(&id).await?
            });
        }
        anyhow::Ok(changed)
    })?;
    if args.conn.json {
        return print_json(&changed);
    }
    for t in &changed {
        println!("{} {} {}", t.state.as_str(), &t.id[..8], t.name);
    }
    Ok(())
}

/// Runs `ferrent rm`.
pub fn rm(args: RmArgs) -> Result<()> {
    let client = args.conn.client()?;
    let removed = runtime()?.block_on(async {
        let ids = resolve_ids(&client, &args.torrents, false).await?;
        for id in &ids {
            client.remove(id, args.delete_data).await?;
        }
        anyhow::Ok(ids)
    })?;
    if args.conn.json {
        return print_json(
            &serde_json::json!({"removed": removed, "deleted_data": args.delete_data}),
        );
    }
    for id in &removed {
        println!("removed {id}{}", if args.delete_data { " and its data" } else { "" });
    }
    Ok(())
}

/// Runs `ferrent limit`.
pub fn limit(args: LimitArgs) -> Result<()> {
    let client = args.conn.client()?;
    let wanted = Limits { upload: args.up, download: args.down };
    let (what, limits) = runtime()?.block_on(async {
        match &args.torrent {
            Some(name) => {
                let list = client.list().await?;
                let id = resolve(&list, name)?.id.clone();
                let t = if wanted == Limits::default() {
                    client.details(&id).await?.summary
                } else {
                    client.set_limits(&id, wanted).await?
                };
                anyhow::Ok((
                    t.name.clone(),
                    Limits { upload: Some(t.upload_limit), download: Some(t.download_limit) },
                ))
            }
            None => {
                let limits = if wanted == Limits::default() {
                    client.session().await?.limits
                } else {
                    client.set_session_limits(wanted).await?
                };
                anyhow::Ok(("session".to_string(), limits))
            }
        }
    })?;
    if args.conn.json {
        return print_json(&limits);
    }
    let cap = |n: Option<u64>| match n {
        Some(0) | None => "unlimited".to_string(),
        Some(n) => rate(n),
    };
    println!("{what}: download {}, upload {}", cap(limits.download), cap(limits.upload));
    Ok(())
}

fn rate(bytes_per_sec: u64) -> String {
    format!("{}/s", human_size(bytes_per_sec))
}

/// Prints rows as left-aligned columns (the last column is not padded).
fn print_table(rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[c]));
            }
        }
        println!("{}", line.trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, name: &str) -> TorrentSummary {
        TorrentSummary {
            id: id.into(),
            name: name.into(),
            state: State::Seeding,
            progress: 1.0,
            size: 0,
            left: 0,
            pieces_have: 0,
            pieces_total: 0,
            downloaded: 0,
            uploaded: 0,
            down_rate: 0,
            up_rate: 0,
            peer_count: 0,
            download_dir: String::new(),
            added_at: 0,
            upload_limit: 0,
            download_limit: 0,
            error: None,
        }
    }

    #[test]
    fn torrents_are_named_by_hash_prefix_or_name() {
        let list = vec![
            summary(&"ab".repeat(20), "alpha"),
            summary(&format!("ac{}", "0".repeat(38)), "beta"),
        ];
        assert_eq!(resolve(&list, &"AB".repeat(20)).unwrap().name, "alpha");
        assert_eq!(resolve(&list, "ab").unwrap().name, "alpha");
        assert_eq!(resolve(&list, "beta").unwrap().name, "beta");
        let err = resolve(&list, "a").unwrap_err().to_string();
        assert!(err.contains("matches 2 torrents"), "{err}");
        assert!(resolve(&list, "zz").is_err());
    }

    #[test]
    fn states_parse_by_name() {
        assert_eq!(parse_state("fetching_metadata"), Ok(State::FetchingMetadata));
        assert!(parse_state("done").unwrap_err().contains("seeding"));
    }
}
