//! Splitting the hashing work into independent jobs.
//!
//! A v1 torrent hashes one stream (all files back to back), so a job is a piece-aligned
//! byte range of that stream and may cross files. v2 and hybrid torrents hash every file
//! on its own (pieces start at each file's first byte; hybrid pads the v1 stream so the
//! two agree), so a job is a list of piece runs, each inside one file.

use super::walk::InputFile;
use super::{CreateError, Version};

/// How many bytes a job reads (at least one piece): large enough that syscalls cost
/// nothing next to hashing, small enough to stay cache-friendly and balance threads.
const TARGET_JOB_BYTES: u64 = 4 << 20;

/// Consecutive pieces of one file, hashed by one job (v2 and hybrid torrents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileRun {
    /// Index of the file in the payload.
    pub file: usize,
    /// The first piece of the run, counted from the file's start.
    pub first_piece: u64,
    /// How many pieces the run covers.
    pub pieces: u64,
    /// The v1 piece index of `first_piece` (hybrid torrents).
    pub v1_first: usize,
}

/// One unit of work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Job {
    /// v1 torrents: bytes `start..end` of the concatenated stream, starting with piece
    /// `first_piece`.
    Stream { start: u64, end: u64, first_piece: usize },
    /// v2 and hybrid torrents: whole pieces of one or more files.
    Runs(Vec<FileRun>),
}

/// The hashing work for a payload.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The torrent's piece length.
    pub piece_length: u64,
    /// Which hashes to compute.
    pub version: Version,
    /// Offset of each file in the v1 stream (pad files included for hybrid torrents).
    pub starts: Vec<u64>,
    /// Bytes of padding after each file in the v1 stream (hybrid torrents only).
    pub pad_after: Vec<u64>,
    /// Number of v1 pieces (0 for v2-only torrents).
    pub v1_pieces: usize,
    /// Number of v2 pieces of each file (empty for v1-only torrents).
    pub v2_pieces: Vec<u64>,
    /// The jobs, in stream order.
    pub jobs: Vec<Job>,
    /// The largest number of bytes any job reads.
    pub max_job_bytes: usize,
}

impl Plan {
    /// Plans the work for `files` at `piece_length` (already validated as a power of two
    /// of at least 16 KiB).
    pub(crate) fn new(
        files: &[InputFile],
        piece_length: u64,
        version: Version,
    ) -> Result<Self, CreateError> {
        let last = files.len().saturating_sub(1);
        let pad_after: Vec<u64> = files
            .iter()
            .enumerate()
            .map(|(i, f)| match version {
                // BEP 47: pad every file but the last up to a piece boundary.
                Version::Hybrid if i < last => {
                    (piece_length - f.length % piece_length) % piece_length
                }
                _ => 0,
            })
            .collect();
        let mut starts = Vec::with_capacity(files.len());
        let mut stream_len = 0u64;
        for (file, pad) in files.iter().zip(&pad_after) {
            starts.push(stream_len);
            stream_len = stream_len
                .checked_add(file.length)
                .and_then(|n| n.checked_add(*pad))
                .ok_or(CreateError::TooLarge)?;
        }
        // Bencode integers are signed 64-bit.
        if i64::try_from(stream_len).is_err() {
            return Err(CreateError::TooLarge);
        }
        let v1_pieces = stream_len.div_ceil(piece_length);
        let v2_pieces: Vec<u64> = match version {
            Version::V1 => Vec::new(),
            Version::V2 | Version::Hybrid => {
                files.iter().map(|f| f.length.div_ceil(piece_length)).collect()
            }
        };
        // Every piece index must fit the wire protocol's 32 bits; in a v2 torrent the
        // per-file piece counts add up to the same limit.
        let counted = v1_pieces.max(v2_pieces.iter().sum());
        if counted > u64::from(u32::MAX) {
            return Err(CreateError::TooManyPieces { pieces: counted });
        }
        let per_job = (TARGET_JOB_BYTES / piece_length).max(1);
        let jobs = match version {
            Version::V1 => stream_jobs(stream_len, piece_length, per_job),
            Version::V2 | Version::Hybrid => run_jobs(&v2_pieces, per_job),
        };
        let max_job_bytes = usize::try_from(per_job.saturating_mul(piece_length).min(stream_len))
            .map_err(|_| CreateError::TooLarge)?;
        Ok(Plan {
            piece_length,
            version,
            starts,
            pad_after,
            v1_pieces: match version {
                Version::V2 => 0,
                // `counted` fits in 32 bits, so this cannot truncate.
                Version::V1 | Version::Hybrid => v1_pieces as usize,
            },
            v2_pieces,
            jobs,
            max_job_bytes,
        })
    }

    /// The bytes of file `file` covered by `run`: `(offset in the file, length)`.
    pub(crate) fn run_span(&self, run: &FileRun, file_len: u64) -> (u64, u64) {
        let start = run.first_piece * self.piece_length;
        let end = ((run.first_piece + run.pieces) * self.piece_length).min(file_len);
        (start, end - start)
    }
}

fn stream_jobs(stream_len: u64, piece_length: u64, per_job: u64) -> Vec<Job> {
    let job_bytes = per_job * piece_length;
    (0..stream_len.div_ceil(job_bytes))
        .map(|j| Job::Stream {
            start: j * job_bytes,
            end: ((j + 1) * job_bytes).min(stream_len),
            first_piece: (j * per_job) as usize,
        })
        .collect()
}

fn run_jobs(v2_pieces: &[u64], per_job: u64) -> Vec<Job> {
    let mut jobs = Vec::new();
    let mut current = Vec::new();
    let mut room = per_job;
    let mut v1_next = 0usize;
    for (file, &pieces) in v2_pieces.iter().enumerate() {
        let mut first_piece = 0;
        while first_piece < pieces {
            let take = room.min(pieces - first_piece);
            current.push(FileRun { file, first_piece, pieces: take, v1_first: v1_next });
            first_piece += take;
            v1_next += take as usize;
            // A small file counts as a whole piece of work, like the piece it fills.
            room -= take;
            if room == 0 {
                jobs.push(Job::Runs(std::mem::take(&mut current)));
                room = per_job;
            }
        }
    }
    if !current.is_empty() {
        jobs.push(Job::Runs(current));
    }
    jobs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(lengths: &[u64]) -> Vec<InputFile> {
        lengths
            .iter()
            .enumerate()
            .map(|(i, &length)| InputFile {
                disk_path: format!("f{i}").into(),
                components: vec![format!("f{i}")],
                length,
            })
            .collect()
    }

    #[test]
    fn v1_jobs_cover_the_stream_in_piece_aligned_ranges() {
        let pl = 1 << 20;
        let plan = Plan::new(&files(&[5 << 20, 3, 0, 6 << 20]), pl, Version::V1).unwrap();
        assert_eq!(plan.v1_pieces, 12);
        assert_eq!(plan.starts, [0, 5 << 20, (5 << 20) + 3, (5 << 20) + 3]);
        let mut expected_start = 0;
        for job in &plan.jobs {
            let Job::Stream { start, end, first_piece } = *job else { panic!("{job:?}") };
            assert_eq!(start, expected_start);
            assert_eq!(start % pl, 0);
            assert_eq!(first_piece as u64, start / pl);
            assert!(end - start <= plan.max_job_bytes as u64);
            expected_start = end;
        }
        assert_eq!(expected_start, (11 << 20) + 3);
    }

    #[test]
    fn hybrid_pads_all_but_the_last_file() {
        let pl = 32 << 10;
        let plan = Plan::new(&files(&[100, pl, 0, pl + 1, 7]), pl, Version::Hybrid).unwrap();
        assert_eq!(plan.pad_after, [pl - 100, 0, 0, pl - 1, 0]);
        assert_eq!(plan.starts, [0, pl, 2 * pl, 2 * pl, 4 * pl]);
        assert_eq!(plan.v2_pieces, [1, 1, 0, 2, 1]);
        assert_eq!(plan.v1_pieces, 5);
        let runs: Vec<FileRun> = plan
            .jobs
            .iter()
            .flat_map(|j| match j {
                Job::Runs(runs) => runs.clone(),
                Job::Stream { .. } => panic!("stream job in a hybrid plan"),
            })
            .collect();
        let v1: Vec<(usize, u64, usize)> =
            runs.iter().map(|r| (r.file, r.pieces, r.v1_first)).collect();
        // 4 MiB jobs of 32 KiB pieces: everything fits one job.
        assert_eq!(v1, [(0, 1, 0), (1, 1, 1), (3, 2, 2), (4, 1, 4)]);
        assert_eq!(plan.jobs.len(), 1);
    }

    #[test]
    fn big_files_split_into_runs() {
        let pl = 1 << 20;
        let plan = Plan::new(&files(&[10 << 20, 1]), pl, Version::V2).unwrap();
        assert_eq!(plan.v1_pieces, 0);
        let shapes: Vec<Vec<(usize, u64, u64)>> = plan
            .jobs
            .iter()
            .map(|j| match j {
                Job::Runs(runs) => runs.iter().map(|r| (r.file, r.first_piece, r.pieces)).collect(),
                Job::Stream { .. } => panic!("stream job in a v2 plan"),
            })
            .collect();
        assert_eq!(shapes, [vec![(0, 0, 4)], vec![(0, 4, 4)], vec![(0, 8, 2), (1, 0, 1)]]);
        let run = FileRun { file: 0, first_piece: 8, pieces: 2, v1_first: 0 };
        assert_eq!(plan.run_span(&run, 10 << 20), (8 << 20, 2 << 20));
    }

    #[test]
    fn too_many_pieces_is_an_error() {
        let err = Plan::new(&files(&[1 << 60]), 16 << 10, Version::V1).unwrap_err();
        assert!(matches!(err, CreateError::TooManyPieces { .. }), "{err}");
        let err = Plan::new(&files(&[u64::MAX, 1]), 16 << 10, Version::V1).unwrap_err();
        assert!(matches!(err, CreateError::TooLarge), "{err}");
        let err = Plan::new(&files(&[1 << 63]), 16 << 10, Version::V1).unwrap_err();
        assert!(matches!(err, CreateError::TooLarge), "{err}");
    }
}
