//! The 68-byte handshake that opens every peer connection (BEP 3) and its reserved bits.

use std::fmt;

use crate::error::WireError;

/// The eight reserved handshake bytes, where peers advertise protocol extensions.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Reserved(pub [u8; 8]);

/// The (byte, mask) of each extension bit this crate knows.
const EXTENSION_PROTOCOL: (usize, u8) = (5, 0x10);
const FAST: (usize, u8) = (7, 0x04);
const DHT: (usize, u8) = (7, 0x01);
const V2_UPGRADE: (usize, u8) = (7, 0x10);

impl Reserved {
    /// What ferrent advertises: the extension protocol, the fast extension and DHT.
    pub fn ferrent() -> Self {
        let mut reserved = Self::default();
        reserved.set_extension_protocol(true);
        reserved.set_fast(true);
        reserved.set_dht(true);
        reserved
    }

    /// Whether the extension protocol (BEP 10) is supported.
    pub fn extension_protocol(&self) -> bool {
        self.get(EXTENSION_PROTOCOL)
    }

    /// Sets or clears the extension protocol (BEP 10) bit.
    pub fn set_extension_protocol(&mut self, on: bool) {
        self.set(EXTENSION_PROTOCOL, on);
    }

    /// Whether the fast extension (BEP 6) is supported.
    pub fn fast(&self) -> bool {
        self.get(FAST)
    }

    /// Sets or clears the fast extension (BEP 6) bit.
    pub fn set_fast(&mut self, on: bool) {
        self.set(FAST, on);
    }

    /// Whether the peer runs a DHT node (BEP 5).
    pub fn dht(&self) -> bool {
        self.get(DHT)
    }

    /// Sets or clears the DHT (BEP 5) bit.
    pub fn set_dht(&mut self, on: bool) {
        self.set(DHT, on);
    }

    /// Whether the peer can upgrade a hybrid torrent's connection to v2 (BEP 52).
    pub fn v2_upgrade(&self) -> bool {
        self.get(V2_UPGRADE)
    }

    /// Sets or clears the v2 upgrade (BEP 52) bit.
    pub fn set_v2_upgrade(&mut self, on: bool) {
        self.set(V2_UPGRADE, on);
    }

    fn get(&self, (byte, mask): (usize, u8)) -> bool {
        self.0[byte] & mask != 0
    }

    fn set(&mut self, (byte, mask): (usize, u8), on: bool) {
        if on {
            self.0[byte] |= mask;
        } else {
            self.0[byte] &= !mask;
        }
    }
}

impl fmt::Debug for Reserved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reserved(")?;
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        write!(f, ")")
    }
}

/// The handshake: protocol string, reserved bytes, info hash and peer id.
///
/// For a v2 torrent the info hash is the SHA-256 info hash truncated to 20 bytes (BEP 52).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Handshake {
    /// Extensions the sender supports.
    pub reserved: Reserved,
    /// The torrent the sender wants to exchange.
    pub info_hash: [u8; 20],
    /// The sender's peer id.
    pub peer_id: [u8; 20],
}

impl Handshake {
    /// The size of a handshake on the wire.
    pub const LEN: usize = 68;

    /// The protocol string a handshake starts with, after its length byte.
    pub const PROTOCOL: &'static [u8; 19] = b"BitTorrent protocol";

    /// Our handshake for a torrent: [`Reserved::ferrent`] bits, `info_hash` and `peer_id`.
    pub fn new(info_hash: [u8; 20], peer_id: [u8; 20]) -> Self {
        Self { reserved: Reserved::ferrent(), info_hash, peer_id }
    }

    /// The handshake's bytes.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0; Self::LEN];
        out[0] = 19;
        out[1..20].copy_from_slice(Self::PROTOCOL);
        out[20..28].copy_from_slice(&self.reserved.0);
        out[28..48].copy_from_slice(&self.info_hash);
        out[48..].copy_from_slice(&self.peer_id);
        out
    }

    /// Parses a handshake from exactly [`Self::LEN`] bytes, checking the protocol string.
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let bytes: &[u8; Self::LEN] =
            bytes.try_into().map_err(|_| WireError::HandshakeLength { len: bytes.len() })?;
        if bytes[0] != 19 {
            return Err(WireError::HandshakeProtocolLength(bytes[0]));
        }
        if field::<19>(bytes, 1) != *Self::PROTOCOL {
            return Err(WireError::HandshakeProtocol);
        }
        Ok(Self {
            reserved: Reserved(field(bytes, 20)),
            info_hash: field(bytes, 28),
            peer_id: field(bytes, 48),
        })
    }
}

/// The `N` bytes at `at` of a handshake; the offsets used are constants inside 68 bytes.
fn field<const N: usize>(handshake: &[u8; Handshake::LEN], at: usize) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&handshake[at..at + N]);
    out
}
