//! The address book: peers we know of and when to dial them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Known peer addresses for one torrent, with retry back-off.
#[derive(Default, Debug)]
pub(crate) struct AddressBook {
    entries: HashMap<SocketAddr, Entry>,
}

#[derive(Debug)]
struct Entry {
    failures: u32,
    next_try: Option<Instant>,
    busy: bool,
}

/// At most this many addresses are remembered per torrent.
const MAX_ENTRIES: usize = 2000;

impl AddressBook {
    /// Learns addresses (from a tracker, a magnet, the command line, or an incoming peer).
    pub(crate) fn add(&mut self, addrs: impl IntoIterator<Item = SocketAddr>) {
        for addr in addrs {
            if self.entries.len() >= MAX_ENTRIES || addr.port() == 0 {
                break;
            }
            self.entries.entry(addr).or_insert(Entry { failures: 0, next_try: None, busy: false });
        }
    }

    /// Up to `max` addresses due for a connection attempt, marked busy.
    pub(crate) fn due(
        &mut self,
        now: Instant,
        max: usize,
        skip: impl Fn(SocketAddr) -> bool,
    ) -> Vec<SocketAddr> {
        let mut out: Vec<SocketAddr> = self
            .entries
            .iter()
            .filter(|(a, e)| !e.busy && e.next_try.is_none_or(|t| t <= now) && !skip(**a))
            .map(|(a, _)| *a)
            .collect();
        out.sort_by_key(|a| self.entries[a].failures);
        out.truncate(max);
        for a in &out {
            if let Some(e) = self.entries.get_mut(a) {
                e.busy = true;
            }
        }
        out
    }

    /// The connection to `addr` ended; `worked` when it got past the handshake.
    pub(crate) fn finished(&mut self, addr: SocketAddr, worked: bool, now: Instant) {
        if let Some(e) = self.entries.get_mut(&addr) {
            e.busy = false;
            e.failures = if worked { 0 } else { e.failures + 1 };
            let wait = Duration::from_secs(5u64 << e.failures.min(7));
            e.next_try = Some(now + wait);
        }
    }

    /// Forgets `addr` (it turned out to be ourselves).
    pub(crate) fn remove(&mut self, addr: SocketAddr) {
        self.entries.remove(&addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_and_busy() {
        let mut book = AddressBook::default();
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let now = Instant::now();
        book.add([a, a]);
        assert_eq!(book.due(now, 10, |_| false), vec![a]);
        assert!(book.due(now, 10, |_| false).is_empty());
        book.finished(a, false, now);
        assert!(book.due(now, 10, |_| false).is_empty());
        assert_eq!(book.due(now + Duration::from_secs(11), 10, |_| false), vec![a]);
        book.remove(a);
        assert!(book.due(now + Duration::from_secs(1000), 10, |_| false).is_empty());
    }
}
