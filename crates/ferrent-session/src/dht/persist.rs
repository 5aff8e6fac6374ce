//! The state file and the bootstrap routers: what the node needs from disk and DNS.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ferrent_dht::{generate_id, id_matches_ip, Family, NodeId, SavedState};
use rand::RngCore;
use tokio::task::JoinSet;

/// How long resolving one router's name may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);
/// Addresses kept per router name.
const ADDRS_PER_ROUTER: usize = 4;
/// Router names resolved at most.
const MAX_ROUTERS: usize = 16;

/// Reads the saved state; a missing file is normal, a damaged one is reported and ignored.
pub(super) async fn load(path: &Path) -> Option<SavedState> {
    match tokio::fs::read(path).await {
        Ok(bytes) => match SavedState::decode(&bytes) {
            Ok(state) => Some(state),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "ignoring damaged DHT state file");
                None
            }
        },
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot read DHT state file");
            None
        }
    }
}

/// The saved id while it still suits our last known external IP (BEP 42); otherwise a
/// compliant id for that IP, or a random one when the IP is unknown.
pub(super) fn choose_id(saved: Option<&SavedState>, rng: &mut impl RngCore) -> NodeId {
    match saved {
        Some(state) => match state.external_ip {
            Some(ip) if !id_matches_ip(&state.id, ip) => generate_id(ip, rng),
            _ => state.id,
        },
        None => NodeId::random(rng),
    }
}

/// Writes `state` to `path` atomically: a temporary file in the same directory, synced,
/// then renamed over the old one.
pub(super) async fn save(path: PathBuf, state: SavedState) -> io::Result<()> {
    let bytes = state.encode();
    tokio::task::spawn_blocking(move || write_atomically(&path, &bytes))
        .await
        .map_err(io::Error::other)?
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the DHT state file path has no file name")
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    // Make the rename itself durable; not every platform can open a directory.
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Resolves `host:port` router names concurrently, keeping addresses of `family`.
pub(super) async fn resolve_routers(names: &[String], family: Family) -> Vec<SocketAddr> {
    let mut lookups = JoinSet::new();
    for name in names.iter().take(MAX_ROUTERS) {
        let name = name.clone();
        lookups.spawn(async move {
            let found =
                tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host(name.as_str())).await;
            match found {
                Ok(Ok(addrs)) => {
                    addrs.filter(|a| Family::of(a) == family).take(ADDRS_PER_ROUTER).collect()
                }
                Ok(Err(error)) => {
                    tracing::debug!(router = %name, %error, "cannot resolve DHT router");
                    Vec::new()
                }
                Err(_) => {
                    tracing::debug!(router = %name, "resolving DHT router timed out");
                    Vec::new()
                }
            }
        });
    }
    let mut routers = Vec::new();
    while let Some(result) = lookups.join_next().await {
        for addr in result.unwrap_or_default() {
            if !routers.contains(&addr) {
                routers.push(addr);
            }
        }
    }
    routers
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrent_dht::NodeInfo;

    #[test]
    fn saved_ids_are_kept_unless_they_contradict_the_external_ip() {
        let mut rng = rand::rngs::OsRng;
        let ip = "203.0.113.7".parse().unwrap();
        let good = generate_id(ip, &mut rng);
        let mut state = SavedState { id: good, external_ip: Some(ip), nodes: Vec::new() };
        assert_eq!(choose_id(Some(&state), &mut rng), good);
        state.id = NodeId([0; 20]);
        let fresh = choose_id(Some(&state), &mut rng);
        assert!(id_matches_ip(&fresh, ip) && fresh != state.id);
        state.external_ip = None;
        assert_eq!(choose_id(Some(&state), &mut rng), state.id);
    }

    #[test]
    fn state_is_written_atomically() {
        let dir = std::env::temp_dir().join(format!("ferrent-dht-persist-{}", std::process::id()));
        let path = dir.join("sub").join("dht.dat");
        let node = NodeInfo { id: NodeId([1; 20]), addr: "198.51.100.1:6881".parse().unwrap() };
        let state = SavedState { id: NodeId([2; 20]), external_ip: None, nodes: vec![node] };
        write_atomically(&path, &state.encode()).unwrap();
        write_atomically(&path, &state.encode()).unwrap();
        assert_eq!(SavedState::decode(&std::fs::read(&path).unwrap()).unwrap(), state);
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
