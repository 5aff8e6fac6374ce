//! A virtual network for DHT nodes: datagrams travel with a fixed latency, time is virtual,
//! and nodes can be taken offline. Everything is deterministic.
#![allow(dead_code)] // each test file uses a different part

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use ferrent_dht::{generate_id, Config, Dht, DhtEvent};
use rand::rngs::SmallRng;
use rand::SeedableRng;

/// One node on the network.
pub struct SimNode {
    pub addr: SocketAddr,
    pub dht: Dht,
    pub events: Vec<DhtEvent>,
    pub online: bool,
}

/// Datagrams in flight, nodes and the clock.
pub struct Net {
    pub now: Instant,
    pub nodes: Vec<SimNode>,
    pub latency: Duration,
    in_flight: VecDeque<(Instant, SocketAddr, SocketAddr, Vec<u8>)>,
    /// Datagrams delivered so far.
    pub delivered: usize,
    /// Datagrams sent to an address with no (online) node.
    pub lost: usize,
}

/// A public-looking address for node `i`.
pub fn public_addr(i: usize) -> SocketAddr {
    let ip = std::net::Ipv4Addr::new(1, 0, (i / 250) as u8, (i % 250) as u8 + 1);
    SocketAddr::new(IpAddr::V4(ip), 6881)
}

/// The default configuration with fast timeouts, a BEP 42 id for `addr` and `seed`.
pub fn config_for(addr: SocketAddr, seed: u64) -> Config {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x5eed);
    Config { node_id: Some(generate_id(addr.ip(), &mut rng)), seed, ..Config::default() }
}

impl Net {
    pub fn new() -> Self {
        Self {
            now: Instant::now(),
            nodes: Vec::new(),
            latency: Duration::from_millis(20),
            in_flight: VecDeque::new(),
            delivered: 0,
            lost: 0,
        }
    }

    /// Adds a node and returns its index.
    pub fn add(&mut self, addr: SocketAddr, config: Config) -> usize {
        let dht = Dht::new(config, self.now);
        self.nodes.push(SimNode { addr, dht, events: Vec::new(), online: true });
        self.nodes.len() - 1
    }

    /// Adds `n` nodes at public addresses, each with a BEP 42 id.
    pub fn add_public(&mut self, n: usize) {
        for _ in 0..n {
            let addr = public_addr(self.nodes.len());
            let seed = self.nodes.len() as u64 + 1;
            self.add(addr, config_for(addr, seed));
        }
    }

    pub fn addr(&self, i: usize) -> SocketAddr {
        self.nodes[i].addr
    }

    pub fn dht(&mut self, i: usize) -> &mut Dht {
        &mut self.nodes[i].dht
    }

    /// Takes every queued datagram and event out of the nodes.
    fn collect(&mut self) {
        let at = self.now + self.latency;
        for node in &mut self.nodes {
            while let Some((to, bytes)) = node.dht.poll_transmit() {
                if node.online {
                    self.in_flight.push_back((at, node.addr, to, bytes));
                }
            }
            while let Some(event) = node.dht.poll_event() {
                node.events.push(event);
            }
        }
    }

    /// Injects a datagram from an arbitrary address (a test client or an attacker).
    pub fn inject(&mut self, from: SocketAddr, to: usize, bytes: &[u8]) {
        let now = self.now;
        self.nodes[to].dht.handle_datagram(from, bytes, now);
    }

    /// Runs the network for `duration` of virtual time.
    pub fn run_for(&mut self, duration: Duration) {
        let end = self.now + duration;
        self.run_until(end, |_| false);
    }

    /// Runs until `done` holds (checked after every step) or `end`; true when `done` held.
    pub fn run_until(&mut self, end: Instant, mut done: impl FnMut(&mut Net) -> bool) -> bool {
        let mut same_instant = 0;
        loop {
            self.collect();
            if done(self) {
                return true;
            }
            let next_delivery = self.in_flight.front().map(|d| d.0);
            let next_timer = self.nodes.iter().filter_map(|n| n.dht.poll_timeout()).min();
            let Some(next) = [next_delivery, next_timer].into_iter().flatten().min() else {
                self.now = end;
                return false;
            };
            if next > end {
                self.now = end;
                return false;
            }
            if next <= self.now {
                same_instant += 1;
                assert!(same_instant < 100_000, "the network makes no progress: busy loop");
            } else {
                same_instant = 0;
                self.now = next;
            }
            let now = self.now;
            while self.in_flight.front().is_some_and(|d| d.0 <= now) {
                let Some((_, from, to, bytes)) = self.in_flight.pop_front() else { break };
                match self.nodes.iter_mut().find(|n| n.addr == to && n.online) {
                    Some(node) => {
                        node.dht.handle_datagram(from, &bytes, now);
                        self.delivered += 1;
                    }
                    None => self.lost += 1,
                }
            }
            for node in &mut self.nodes {
                if node.dht.poll_timeout().is_some_and(|t| t <= now) {
                    node.dht.handle_timeout(now);
                }
            }
        }
    }

    /// Bootstraps every node but the first through the first, one after the other.
    pub fn bootstrap_all(&mut self) {
        let router = self.addr(0);
        for i in 1..self.nodes.len() {
            let now = self.now;
            self.dht(i).bootstrap(&[router], now);
            self.run_for(Duration::from_millis(300));
        }
        self.run_for(Duration::from_secs(10));
    }

    /// Drains the events node `i` reported so far.
    pub fn take_events(&mut self, i: usize) -> Vec<DhtEvent> {
        self.collect();
        std::mem::take(&mut self.nodes[i].events)
    }
}
