//! The per-tracker UDP state machine: connect, announce, retransmit, give up.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};

use super::codec::{encode_announce, encode_connect, UdpResponse};
use crate::{AnnounceRequest, AnnounceResponse};

/// Timing of the UDP protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpConfig {
    /// The first retransmission timeout; the n-th wait is `retransmit_base * 2^n`.
    /// BEP 15 says 15 seconds; tests and loopback use shrink it.
    pub retransmit_base: Duration,
    /// How many times a request is retransmitted before giving up (BEP 15: 8).
    pub max_retransmits: u32,
    /// How long a connection id may be used after it was received (BEP 15: one minute).
    pub connection_id_lifetime: Duration,
}

impl Default for UdpConfig {
    fn default() -> Self {
        Self {
            retransmit_base: Duration::from_secs(15),
            max_retransmits: 8,
            connection_id_lifetime: Duration::from_secs(60),
        }
    }
}

/// What a [`UdpTracker`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UdpEvent {
    /// The announce succeeded: interval, seeders, leechers and peers.
    Announced(AnnounceResponse),
    /// The tracker answered with an error message.
    Error(String),
    /// The tracker did not answer after every retransmission.
    GaveUp {
        /// How many datagrams were sent for the announce, connects included.
        attempts: u32,
    },
}

/// Where an announce stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for a connection id.
    Connecting,
    /// Waiting for the announce response.
    Announcing,
}

/// The announce in progress.
#[derive(Debug)]
struct Operation {
    request: AnnounceRequest,
    stage: Stage,
    transaction_id: u32,
    /// Retransmissions so far. Shared by the connect and announce steps of one announce, so
    /// that a tracker that answers connects but never announces still ends in `GaveUp`.
    retransmits: u32,
    /// Datagrams sent, for the `GaveUp` report.
    sent: u32,
    deadline: Instant,
}

/// A connection id and when it stops being valid.
#[derive(Debug, Clone, Copy)]
struct Connection {
    id: u64,
    expires: Instant,
}

/// One UDP tracker (BEP 15), sans IO.
///
/// Call [`announce`](Self::announce), then loop: send what [`poll_transmit`](Self::poll_transmit)
/// gives, feed received datagrams to [`handle_datagram`](Self::handle_datagram), call
/// [`handle_timeout`](Self::handle_timeout) once [`poll_timeout`](Self::poll_timeout) has
/// passed, until [`poll_event`](Self::poll_event) yields the outcome. Datagrams that are too
/// short, carry another transaction id or answer a step that is not in progress are ignored.
#[derive(Debug)]
pub struct UdpTracker {
    config: UdpConfig,
    ipv6_peers: bool,
    url_data: Vec<u8>,
    rng: SmallRng,
    connection: Option<Connection>,
    operation: Option<Operation>,
    transmit: Option<Vec<u8>>,
    events: VecDeque<UdpEvent>,
}

impl UdpTracker {
    /// A tracker reached over IPv6 (`ipv6_peers`) answers with 18-byte peers. `url_data` is
    /// the BEP 41 path and query ([`UdpTrackerAddr::request`](crate::UdpTrackerAddr::request)).
    /// Transaction ids come from a generator seeded from `rng`.
    pub fn new(
        config: UdpConfig,
        ipv6_peers: bool,
        url_data: Vec<u8>,
        rng: &mut impl RngCore,
    ) -> Self {
        Self {
            config,
            ipv6_peers,
            url_data,
            rng: SmallRng::seed_from_u64(rng.next_u64()),
            connection: None,
            operation: None,
            transmit: None,
            events: VecDeque::new(),
        }
    }

    /// Starts an announce, abandoning any announce still in progress.
    pub fn announce(&mut self, request: AnnounceRequest, now: Instant) {
        let stage =
            if self.connection_id(now).is_some() { Stage::Announcing } else { Stage::Connecting };
        self.operation = Some(Operation {
            request,
            stage,
            transaction_id: 0,
            retransmits: 0,
            sent: 0,
            deadline: now,
        });
        self.send_step(stage, now);
    }

    /// Whether an announce is in progress.
    pub fn is_busy(&self) -> bool {
        self.operation.is_some()
    }

    /// The next datagram to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.take()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.operation.as_ref().map(|op| op.deadline)
    }

    /// The next outcome, if any.
    pub fn poll_event(&mut self) -> Option<UdpEvent> {
        self.events.pop_front()
    }

    /// Retransmits the pending request, or gives up, once its deadline has passed. A request
    /// whose connection id has expired in the meantime goes back to the connect step.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(op) = &mut self.operation else { return };
        if now < op.deadline {
            return;
        }
        if op.retransmits >= self.config.max_retransmits {
            let attempts = op.sent;
            self.operation = None;
            self.transmit = None;
            self.events.push_back(UdpEvent::GaveUp { attempts });
            return;
        }
        op.retransmits += 1;
        self.resend(now);
    }

    /// Feeds a datagram received from the tracker.
    pub fn handle_datagram(&mut self, data: &[u8], now: Instant) {
        let Some(op) = &self.operation else { return };
        let Ok(response) = UdpResponse::decode(data, self.ipv6_peers) else { return };
        if response.transaction_id() != op.transaction_id {
            return;
        }
        match (op.stage, response) {
            (_, UdpResponse::Error { message, .. }) => self.finish(UdpEvent::Error(message)),
            (Stage::Connecting, UdpResponse::Connect { connection_id, .. }) => {
                let expires = now.checked_add(self.config.connection_id_lifetime).unwrap_or(now);
                self.connection = Some(Connection { id: connection_id, expires });
                self.send_step(Stage::Announcing, now);
            }
            // An announce answer is taken even while reconnecting: the transaction id is ours.
            (_, UdpResponse::Announce { response, .. }) => {
                self.finish(UdpEvent::Announced(response));
            }
            _ => {}
        }
    }

    fn finish(&mut self, event: UdpEvent) {
        self.operation = None;
        self.transmit = None;
        self.events.push_back(event);
    }

    /// The connection id, if one is still valid at `now`.
    fn connection_id(&self, now: Instant) -> Option<u64> {
        self.connection.filter(|c| now < c.expires).map(|c| c.id)
    }

    /// Moves the operation to `stage` with a fresh transaction id and sends its request.
    fn send_step(&mut self, stage: Stage, now: Instant) {
        let transaction_id = self.rng.gen();
        if let Some(op) = &mut self.operation {
            op.stage = stage;
            op.transaction_id = transaction_id;
        }
        self.resend(now);
    }

    /// Sends the current request of the operation and arms its timer. An announce whose
    /// connection id has expired goes back to the connect step (same transaction id).
    fn resend(&mut self, now: Instant) {
        let connection_id = self.connection_id(now);
        let Some(op) = &mut self.operation else { return };
        let datagram = match connection_id {
            Some(id) if op.stage == Stage::Announcing => {
                encode_announce(id, op.transaction_id, &op.request, &self.url_data)
            }
            _ => {
                op.stage = Stage::Connecting;
                encode_connect(op.transaction_id)
            }
        };
        let exponent = op.retransmits.min(30);
        let wait = self.config.retransmit_base.saturating_mul(1u32 << exponent);
        op.deadline = now.checked_add(wait).unwrap_or(now);
        op.sent = op.sent.saturating_add(1);
        self.transmit = Some(datagram);
    }
}
