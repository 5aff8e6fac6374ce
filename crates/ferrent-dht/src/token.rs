//! Announce tokens: proof that an `announce_peer` comes from the address that asked
//! `get_peers` recently.
//!
//! A token is the first 8 bytes of SHA-1(secret ‖ IP). The secret is rotated every few
//! minutes and the previous one is still accepted, so a token lives between one and two
//! rotation periods (BEP 5: up to 10 minutes with a 5-minute rotation).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use rand::RngCore;
use sha1::{Digest, Sha1};

use crate::addr::{canonical_ip, write_compact_ip};

/// Length of the tokens this node hands out.
pub const TOKEN_LEN: usize = 8;

/// The current and previous token secrets.
#[derive(Debug, Clone)]
pub struct Tokens {
    current: [u8; 20],
    previous: [u8; 20],
    rotate_every: Duration,
    next_rotation: Instant,
}

impl Tokens {
    /// Fresh secrets, rotated every `rotate_every` from `now` on.
    pub fn new(rotate_every: Duration, now: Instant, rng: &mut impl RngCore) -> Self {
        let mut current = [0u8; 20];
        let mut previous = [0u8; 20];
        rng.fill_bytes(&mut current);
        rng.fill_bytes(&mut previous);
        Self { current, previous, rotate_every, next_rotation: now + rotate_every }
    }

    /// The token for a querier at `ip`.
    pub fn issue(&self, ip: IpAddr) -> [u8; TOKEN_LEN] {
        derive(&self.current, ip)
    }

    /// True when `token` was issued to `ip` under the current or previous secret.
    pub fn verify(&self, ip: IpAddr, token: &[u8]) -> bool {
        token == derive(&self.current, ip) || token == derive(&self.previous, ip)
    }

    /// When the secret next rotates.
    pub fn next_rotation(&self) -> Instant {
        self.next_rotation
    }

    /// Rotates the secret if it is due; returns true when it did.
    pub fn maybe_rotate(&mut self, now: Instant, rng: &mut impl RngCore) -> bool {
        if now < self.next_rotation {
            return false;
        }
        self.previous = self.current;
        rng.fill_bytes(&mut self.current);
        self.next_rotation = now + self.rotate_every;
        true
    }
}

fn derive(secret: &[u8; 20], ip: IpAddr) -> [u8; TOKEN_LEN] {
    let mut input = secret.to_vec();
    write_compact_ip(&mut input, canonical_ip(ip));
    let digest = Sha1::digest(&input);
    let mut out = [0u8; TOKEN_LEN];
    out.copy_from_slice(&digest[..TOKEN_LEN]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    #[test]
    fn tokens_survive_one_rotation_not_two() {
        let now = Instant::now();
        let every = Duration::from_secs(300);
        let mut rng = SmallRng::seed_from_u64(9);
        let mut tokens = Tokens::new(every, now, &mut rng);
        let ip: IpAddr = "1.2.3.4".parse().unwrap();
        let other: IpAddr = "1.2.3.5".parse().unwrap();
        let t = tokens.issue(ip);
        assert!(tokens.verify(ip, &t));
        assert!(!tokens.verify(other, &t), "bound to the IP");
        assert!(!tokens.verify(ip, &t[..7]));
        assert!(!tokens.maybe_rotate(now + every - Duration::from_secs(1), &mut rng));
        assert!(tokens.maybe_rotate(now + every, &mut rng));
        assert!(tokens.verify(ip, &t), "previous secret still accepted");
        assert_ne!(tokens.issue(ip), t);
        assert!(tokens.maybe_rotate(now + every * 2, &mut rng));
        assert!(!tokens.verify(ip, &t), "two rotations later it is refused");
    }
}
