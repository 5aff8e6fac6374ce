//! What a node saves across runs: its id, its external IP, and the nodes of its table.

use std::net::IpAddr;

use ferrent_bencode::{decode, DecodeError, Kind, OwnedValue, Value};

use crate::addr::{read_compact_ip, read_compact_nodes, write_compact_ip, write_compact_nodes};
use crate::addr::{Family, NodeInfo};
use crate::id::NodeId;

/// A routing table snapshot, bencoded as `{id, ip?, nodes, nodes6}` with compact node lists.
///
/// ```
/// use ferrent_dht::{NodeId, NodeInfo, SavedState};
/// let state = SavedState {
///     id: NodeId([7; 20]),
///     external_ip: Some("203.0.113.5".parse().unwrap()),
///     nodes: vec![NodeInfo { id: NodeId([1; 20]), addr: "198.51.100.1:6881".parse().unwrap() }],
/// };
/// assert_eq!(SavedState::decode(&state.encode()).unwrap(), state);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedState {
    /// The node id to keep using.
    pub id: NodeId,
    /// The external IP other nodes reported (BEP 42), if known.
    pub external_ip: Option<IpAddr>,
    /// Nodes to bootstrap from next time.
    pub nodes: Vec<NodeInfo>,
}

/// Why a saved state could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// Not valid bencode.
    #[error("saved DHT state is not valid bencode: {0}")]
    Bencode(#[from] DecodeError),
    /// The top-level value is not a dictionary.
    #[error("saved DHT state is a {0}, not a dictionary")]
    NotADict(Kind),
    /// A key is missing or has the wrong type or length.
    #[error("saved DHT state: key `{0}` is missing or malformed")]
    BadField(&'static str),
}

impl SavedState {
    /// The bencoded snapshot.
    pub fn encode(&self) -> Vec<u8> {
        let mut v4 = Vec::new();
        write_compact_nodes(&mut v4, &self.nodes, Family::V4);
        let mut v6 = Vec::new();
        write_compact_nodes(&mut v6, &self.nodes, Family::V6);
        let mut dict = OwnedValue::dict([
            ("id", OwnedValue::from(&self.id.0[..])),
            ("nodes", OwnedValue::Bytes(v4)),
            ("nodes6", OwnedValue::Bytes(v6)),
        ]);
        if let Some(ip) = self.external_ip {
            let mut compact = Vec::new();
            write_compact_ip(&mut compact, ip);
            dict = dict.with("ip", compact);
        }
        dict.encode()
    }

    /// Reads a snapshot written by [`encode`](Self::encode).
    pub fn decode(bytes: &[u8]) -> Result<Self, StateError> {
        let value = decode(bytes)?;
        if value.as_dict().is_none() {
            return Err(StateError::NotADict(value.kind()));
        }
        let id = value
            .get(b"id")
            .and_then(Value::as_bytes)
            .and_then(|b| <[u8; 20]>::try_from(b).ok())
            .ok_or(StateError::BadField("id"))?;
        let external_ip = match value.get(b"ip") {
            Some(ip) => {
                Some(ip.as_bytes().and_then(read_compact_ip).ok_or(StateError::BadField("ip"))?)
            }
            None => None,
        };
        let mut nodes = Vec::new();
        for (key, family) in [("nodes", Family::V4), ("nodes6", Family::V6)] {
            if let Some(list) = value.get(key.as_bytes()) {
                let list = list
                    .as_bytes()
                    .and_then(|b| read_compact_nodes(b, family))
                    .ok_or(StateError::BadField(key))?;
                nodes.extend(list);
            }
        }
        Ok(Self { id: NodeId(id), external_ip, nodes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_damaged_state() {
        assert!(matches!(SavedState::decode(b"i1e"), Err(StateError::NotADict(Kind::Int))));
        assert!(matches!(SavedState::decode(b"d2:id3:abce"), Err(StateError::BadField("id"))));
        let bad_nodes = b"d2:id20:aaaaaaaaaaaaaaaaaaaa5:nodes3:abce";
        assert!(matches!(SavedState::decode(bad_nodes), Err(StateError::BadField("nodes"))));
        assert!(matches!(SavedState::decode(b"d2:id"), Err(StateError::Bencode(_))));
    }

    #[test]
    fn mixed_families_round_trip() {
        let state = SavedState {
            id: NodeId([3; 20]),
            external_ip: Some("2001:db8::1".parse().unwrap()),
            nodes: vec![
                NodeInfo { id: NodeId([1; 20]), addr: "1.2.3.4:5".parse().unwrap() },
                NodeInfo { id: NodeId([2; 20]), addr: "[2001:db8::9]:6".parse().unwrap() },
            ],
        };
        assert_eq!(SavedState::decode(&state.encode()).unwrap(), state);
    }
}
