//! Peers announced to this node, per info hash, with expiry and hard caps.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ferrent_core::InfoHashV1;
use rand::seq::SliceRandom;
use rand::Rng;

/// Peer store limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreConfig {
    /// How long an announce is kept (BEP 5 suggests 30 minutes; clients re-announce).
    pub peer_ttl: Duration,
    /// Most peers kept per info hash; the oldest announce makes way for a new one.
    pub max_peers_per_hash: usize,
    /// Most info hashes kept; when full, the one with the fewest peers makes way.
    pub max_info_hashes: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            peer_ttl: Duration::from_secs(30 * 60),
            max_peers_per_hash: 200,
            max_info_hashes: 2000,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Stored {
    addr: SocketAddr,
    expires: Instant,
}

/// Announced peers, bounded in memory by [`StoreConfig`].
#[derive(Debug, Clone)]
pub struct PeerStore {
    config: StoreConfig,
    torrents: HashMap<InfoHashV1, Vec<Stored>>,
}

impl PeerStore {
    /// An empty store.
    pub fn new(config: StoreConfig) -> Self {
        Self { config, torrents: HashMap::new() }
    }

    /// Number of info hashes with peers.
    pub fn info_hash_count(&self) -> usize {
        self.torrents.len()
    }

    /// Number of stored peers, all info hashes together.
    pub fn peer_count(&self) -> usize {
        self.torrents.values().map(Vec::len).sum()
    }

    /// Records that `addr` is a peer of `info_hash` until `now + peer_ttl`.
    pub fn announce(&mut self, info_hash: InfoHashV1, addr: SocketAddr, now: Instant) {
        let expires = now + self.config.peer_ttl;
        if self.config.max_peers_per_hash == 0 || self.config.max_info_hashes == 0 {
            return;
        }
        if !self.torrents.contains_key(&info_hash)
            && self.torrents.len() >= self.config.max_info_hashes
        {
            self.expire(now);
            if self.torrents.len() >= self.config.max_info_hashes {
                let smallest =
                    self.torrents.iter().min_by_key(|(_, peers)| peers.len()).map(|(h, _)| *h);
                if let Some(hash) = smallest {
                    self.torrents.remove(&hash);
                }
            }
        }
        let peers = self.torrents.entry(info_hash).or_default();
        if let Some(known) = peers.iter_mut().find(|p| p.addr == addr) {
            known.expires = expires;
        } else if peers.len() < self.config.max_peers_per_hash {
            peers.push(Stored { addr, expires });
        } else if let Some(oldest) = peers.iter_mut().min_by_key(|p| p.expires) {
            *oldest = Stored { addr, expires };
        }
    }

    /// Up to `max` live peers of `info_hash`, a random sample when there are more.
    pub fn peers(
        &self,
        info_hash: &InfoHashV1,
        max: usize,
        now: Instant,
        rng: &mut impl Rng,
    ) -> Vec<SocketAddr> {
        let live = self.live_peers(info_hash, now);
        if live.len() <= max {
            return live;
        }
        live.choose_multiple(rng, max).copied().collect()
    }

    /// Every live peer of `info_hash`.
    pub fn live_peers(&self, info_hash: &InfoHashV1, now: Instant) -> Vec<SocketAddr> {
        self.torrents.get(info_hash).map_or_else(Vec::new, |peers| {
            peers.iter().filter(|p| p.expires > now).map(|p| p.addr).collect()
        })
    }

    /// Drops expired announces and info hashes left without peers.
    pub fn expire(&mut self, now: Instant) {
        self.torrents.retain(|_, peers| {
            peers.retain(|p| p.expires > now);
            !peers.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    fn addr(n: u32) -> SocketAddr {
        SocketAddr::from((std::net::Ipv4Addr::from(0x0100_0000 + n), 6881))
    }

    fn hash(n: u32) -> InfoHashV1 {
        let mut h = [0u8; 20];
        h[..4].copy_from_slice(&n.to_be_bytes());
        InfoHashV1(h)
    }

    #[test]
    fn peers_expire() {
        let now = Instant::now();
        let mut rng = SmallRng::seed_from_u64(1);
        let mut store = PeerStore::new(StoreConfig::default());
        store.announce(hash(1), addr(1), now);
        store.announce(hash(1), addr(2), now + Duration::from_secs(600));
        store.announce(hash(1), addr(1), now + Duration::from_secs(600)); // refresh, no dup
        assert_eq!(store.peer_count(), 2);
        let at = now + Duration::from_secs(30 * 60 + 1);
        assert_eq!(store.peers(&hash(1), 50, at, &mut rng).len(), 2);
        let at = now + Duration::from_secs(40 * 60 + 1);
        assert!(store.peers(&hash(1), 50, at, &mut rng).is_empty());
        store.expire(at);
        assert_eq!(store.info_hash_count(), 0);
    }

    #[test]
    fn caps_hold() {
        let now = Instant::now();
        let mut rng = SmallRng::seed_from_u64(2);
        let config =
            StoreConfig { max_peers_per_hash: 5, max_info_hashes: 10, ..Default::default() };
        let mut store = PeerStore::new(config);
        for n in 0..20 {
            store.announce(hash(0), addr(n), now + Duration::from_secs(n.into()));
        }
        assert_eq!(store.peer_count(), 5);
        let kept = store.peers(&hash(0), 50, now, &mut rng);
        assert!(kept.contains(&addr(19)) && !kept.contains(&addr(0)), "oldest make way");
        assert_eq!(store.peers(&hash(0), 3, now, &mut rng).len(), 3);
        for n in 1..1000 {
            store.announce(hash(n), addr(n), now);
        }
        assert_eq!(store.info_hash_count(), 10);
        assert_eq!(store.peers(&hash(0), 50, now, &mut rng).len(), 5, "the busy torrent stays");
    }
}
