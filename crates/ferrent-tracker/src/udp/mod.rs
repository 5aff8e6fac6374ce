//! The UDP tracker protocol (BEP 15): datagram codecs and a per-tracker state machine.

mod codec;
mod tracker;

#[cfg(test)]
mod tests;

pub use codec::{
    encode_announce, encode_connect, ActionName, UdpDecodeError, UdpResponse, ANNOUNCE_LEN,
    ANNOUNCE_RESPONSE_MIN_LEN, CONNECT_LEN, HEADER_LEN, PROTOCOL_ID,
};
pub use tracker::{UdpConfig, UdpEvent, UdpTracker};
