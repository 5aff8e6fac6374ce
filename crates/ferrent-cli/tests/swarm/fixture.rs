//! The common test setup: scratch dir, payload, torrent and a running tracker.

use std::path::PathBuf;
use std::time::Duration;

use super::payload::{Payload, Privacy, Torrent};
use super::tracker::{Tracker, TrackerAddr};
use super::Scratch;

/// How long a seeder may take to hash-check a test payload.
pub const SEED_READY: Duration = Duration::from_secs(30);

/// How long to wait for a helper peer's status to show an effect (it reports every 0.5 s).
pub const STATUS_WAIT: Duration = Duration::from_secs(5);

/// A single file of 3 MiB + 12345 bytes: 97 pieces, not a multiple of 8.
pub const SINGLE: Shape = Shape::Single((3 << 20) + 12_345);

/// Fixed seed for payload contents: runs are reproducible.
const CONTENT_SEED: u64 = 0x00fe_4e47;

/// Piece size used by the fixtures: 32 KiB (`mktorrent -l 15`).
pub const PIECE_LOG2: u32 = 15;

/// What the payload looks like.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// One file of this many bytes, named `single.bin`.
    Single(u64),
    /// [`Payload::spanning`]: nested dirs, tiny files, a piece spanning four files.
    Spanning,
    /// [`Payload::many`] with this many files: an info dictionary of several metadata pieces.
    Many(usize),
}

/// Scratch dir + payload + `.torrent` + opentracker, torn down in that reverse order.
pub struct Fixture {
    /// The tracker (dropped first).
    pub tracker: Tracker,
    /// The torrent.
    pub torrent: Torrent,
    /// The source content, under `scratch/source`.
    pub payload: Payload,
    /// The scratch directory (dropped last).
    pub scratch: Scratch,
}

impl Fixture {
    /// Builds the payload and torrent (announce tiers from `tiers`, given the tracker's
    /// address) and starts the tracker with the torrent whitelisted.
    pub fn new(
        test: &str,
        shape: Shape,
        tiers: impl FnOnce(&TrackerAddr) -> Vec<String>,
    ) -> Fixture {
        Fixture::with_privacy(test, shape, Privacy::Private, tiers)
    }

    /// A public torrent naming no tracker: peers can only come from `--peer`, magnet `x.pe`,
    /// the DHT, PEX or LSD. (The tracker runs all the same, idle.)
    pub fn public(test: &str, shape: Shape) -> Fixture {
        Fixture::with_privacy(test, shape, Privacy::Public, |_| Vec::new())
    }

    /// [`Fixture::new`] with the torrent's private flag as `privacy` says.
    pub fn with_privacy(
        test: &str,
        shape: Shape,
        privacy: Privacy,
        tiers: impl FnOnce(&TrackerAddr) -> Vec<String>,
    ) -> Fixture {
        Fixture::build(test, shape, privacy, PIECE_LOG2, tiers)
    }

    /// [`Fixture::new`] with pieces of `2^piece_log2` bytes instead of [`PIECE_LOG2`].
    pub fn with_piece_log2(
        test: &str,
        shape: Shape,
        piece_log2: u32,
        tiers: impl FnOnce(&TrackerAddr) -> Vec<String>,
    ) -> Fixture {
        Fixture::build(test, shape, Privacy::Private, piece_log2, tiers)
    }

    fn build(
        test: &str,
        shape: Shape,
        privacy: Privacy,
        piece_log2: u32,
        tiers: impl FnOnce(&TrackerAddr) -> Vec<String>,
    ) -> Fixture {
        let scratch = Scratch::new(test);
        let source = scratch.subdir("source");
        let payload = match shape {
            Shape::Single(len) => Payload::single(&source, "single.bin", len, CONTENT_SEED),
            Shape::Spanning => Payload::spanning(&source, "multi", CONTENT_SEED),
            Shape::Many(count) => Payload::many(&source, "many", count, CONTENT_SEED),
        };
        let addr = TrackerAddr::pick();
        let torrent = Torrent::make_with(
            &payload,
            &scratch.path().join("test.torrent"),
            piece_log2,
            &tiers(&addr),
            privacy,
        );
        let tracker = addr.start(&scratch.subdir("tracker"), &[&torrent.info.info_hash]);
        Fixture { tracker, torrent, payload, scratch }
    }

    /// A fresh, empty directory for a downloader.
    pub fn out_dir(&self, name: &str) -> PathBuf {
        self.scratch.subdir(name)
    }
}
