//! Outstanding queries, keyed by transaction id, with their deadlines.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use crate::id::NodeId;
use crate::lookup::LookupId;

/// Why a query was sent, which decides what its answer (or silence) feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A liveness check (new node, questionable node, BEP 5 `port` message).
    Ping,
    /// A step of a lookup; `seed` when sent to an address whose id we did not know.
    Lookup { lookup: LookupId, seed: bool },
    /// The final `announce_peer` of an announce.
    Announce,
}

/// A query awaiting its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pending {
    /// Where it went; the answer must come from there.
    pub addr: SocketAddr,
    /// The id the node had when we learned of it, if we knew it.
    pub id: Option<NodeId>,
    /// What the answer is for.
    pub purpose: Purpose,
    /// When it counts as failed.
    pub deadline: Instant,
}

/// The transaction table: 2-byte ids, at most `max` outstanding.
#[derive(Debug, Clone)]
pub(crate) struct Transactions {
    pending: HashMap<u16, Pending>,
    /// Deadlines in sending order (timeouts are uniform, so this is sorted); entries whose
    /// transaction was answered are skipped lazily.
    deadlines: VecDeque<(Instant, u16)>,
    next: u16,
    max: usize,
}

impl Transactions {
    pub fn new(first: u16, max: usize) -> Self {
        Self { pending: HashMap::new(), deadlines: VecDeque::new(), next: first, max }
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Registers a query; `None` when the table is full.
    pub fn start(&mut self, pending: Pending) -> Option<[u8; 2]> {
        if self.pending.len() >= self.max || self.pending.len() >= usize::from(u16::MAX) {
            return None;
        }
        while self.pending.contains_key(&self.next) {
            self.next = self.next.wrapping_add(1);
        }
        let tid = self.next;
        self.next = self.next.wrapping_add(1);
        self.pending.insert(tid, pending);
        self.deadlines.push_back((pending.deadline, tid));
        Some(tid.to_be_bytes())
    }

    /// Takes the query `tid` answers, if `from` is where it was sent.
    pub fn take(&mut self, tid: &[u8], from: SocketAddr) -> Option<Pending> {
        let tid = u16::from_be_bytes(<[u8; 2]>::try_from(tid).ok()?);
        let taken = match self.pending.get(&tid) {
            Some(p) if p.addr == from => self.pending.remove(&tid),
            _ => None,
        };
        while self.deadlines.front().is_some_and(|front| !self.is_live(front)) {
            self.deadlines.pop_front();
        }
        taken
    }

    /// True when a query to `addr` is outstanding.
    pub fn is_querying(&self, addr: &SocketAddr) -> bool {
        self.pending.values().any(|p| p.addr == *addr)
    }

    fn is_live(&self, (deadline, tid): &(Instant, u16)) -> bool {
        self.pending.get(tid).is_some_and(|p| p.deadline == *deadline)
    }

    /// The earliest deadline of an outstanding query.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.iter().find(|entry| self.is_live(entry)).map(|(deadline, _)| *deadline)
    }

    /// Removes and returns the queries whose deadline has passed.
    pub fn expire(&mut self, now: Instant) -> Vec<Pending> {
        let mut expired = Vec::new();
        while let Some(&(deadline, tid)) = self.deadlines.front() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_front();
            if self.is_live(&(deadline, tid)) {
                expired.extend(self.pending.remove(&tid));
            }
        }
        expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pending(port: u16, deadline: Instant) -> Pending {
        Pending {
            addr: SocketAddr::from(([1, 2, 3, 4], port)),
            id: None,
            purpose: Purpose::Ping,
            deadline,
        }
    }

    #[test]
    fn answers_must_come_from_the_queried_address() {
        let now = Instant::now();
        let mut t = Transactions::new(0xfffe, 8);
        let a = t.start(pending(1, now)).unwrap();
        let b = t.start(pending(2, now)).unwrap();
        let c = t.start(pending(3, now)).unwrap();
        assert_eq!((a, b, c), ([0xff, 0xfe], [0xff, 0xff], [0, 0]));
        assert!(t.take(&a, SocketAddr::from(([1, 2, 3, 4], 9))).is_none());
        assert!(t.take(&a[..1], SocketAddr::from(([1, 2, 3, 4], 1))).is_none());
        assert!(t.take(&a, SocketAddr::from(([1, 2, 3, 4], 1))).is_some());
        assert!(t.take(&a, SocketAddr::from(([1, 2, 3, 4], 1))).is_none(), "only once");
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn deadlines_expire_in_order_skipping_answered_queries() {
        let now = Instant::now();
        let mut t = Transactions::new(0, 2);
        let a = t.start(pending(1, now + Duration::from_secs(1))).unwrap();
        t.start(pending(2, now + Duration::from_secs(2))).unwrap();
        assert!(t.start(pending(3, now)).is_none(), "full");
        t.take(&a, SocketAddr::from(([1, 2, 3, 4], 1))).unwrap();
        assert_eq!(t.next_deadline(), Some(now + Duration::from_secs(2)));
        t.start(pending(4, now + Duration::from_secs(5))).unwrap();
        assert!(t.expire(now + Duration::from_secs(1)).is_empty());
        assert_eq!(t.expire(now + Duration::from_secs(2)).len(), 1);
        assert_eq!(t.next_deadline(), Some(now + Duration::from_secs(5)));
        assert_eq!(t.expire(now + Duration::from_secs(9))[0].addr.port(), 4);
        assert_eq!(t.next_deadline(), None);
    }
}
