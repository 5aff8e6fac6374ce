//! Hashing a payload on several threads.
//!
//! Workers take jobs from a shared counter, read each job's bytes with positioned reads
//! into one reusable buffer (a job is piece-aligned, so no piece straddles two jobs), hash
//! them, and send the digests to the calling thread, which stores them and reports
//! progress. The first error stops the other workers at their next job.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use sha1::{Digest, Sha1};

use super::merkle::{self, Hash32, LEAF_SIZE};
use super::plan::{FileRun, Job, Plan};
use super::walk::InputFile;
use super::{CreateError, Version};

/// The v2 hashes of one non-empty file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileDigest {
    /// The `pieces root`: the root of the file's merkle tree.
    pub root: Hash32,
    /// The piece layer: one hash per piece; empty when the file fits one piece (BEP 52
    /// leaves those out of `piece layers`).
    pub layer: Vec<Hash32>,
}

/// Every hash a torrent needs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Digests {
    /// v1 piece hashes (empty for v2-only torrents).
    pub v1: Vec<[u8; 20]>,
    /// v2 hashes per file, `None` for empty files (empty for v1-only torrents).
    pub v2: Vec<Option<FileDigest>>,
}

/// The hashes one job produced.
struct JobOutput {
    /// Payload bytes read.
    bytes: u64,
    /// The v1 index of the first entry of `v1`.
    v1_first: usize,
    v1: Vec<[u8; 20]>,
    /// `(file, first piece, piece hashes)`.
    v2: Vec<(usize, u64, Vec<Hash32>)>,
}

/// Hashes `files` as `plan` says, on up to `threads` threads, calling `progress` on this
/// thread with the number of payload bytes hashed so far.
pub(crate) fn hash_all(
    files: &[InputFile],
    plan: &Plan,
    threads: usize,
    progress: &dyn Fn(u64),
) -> Result<Digests, CreateError> {
    let next = AtomicUsize::new(0);
    let abort = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Result<JobOutput, CreateError>>();
    let threads = threads.clamp(1, plan.jobs.len().max(1));

    let mut v1 = vec![[0u8; 20]; plan.v1_pieces];
    let mut piece_hashes: Vec<Vec<Hash32>> =
        plan.v2_pieces.iter().map(|&n| vec![[0u8; 32]; n as usize]).collect();
    let mut first_error = None;

    std::thread::scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, abort) = (&next, &abort);
            scope.spawn(move || {
                let mut worker = Worker::new(files, plan);
                while !abort.load(Ordering::Relaxed) {
                    let Some(job) = plan.jobs.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    let result = worker.run(job);
                    let failed = result.is_err();
                    if failed {
                        abort.store(true, Ordering::Relaxed);
                    }
                    if tx.send(result).is_err() || failed {
                        break;
                    }
                }
            });
        }
        drop(tx);

        let mut done = 0u64;
        for result in rx {
            match result {
                Ok(out) => {
                    done += out.bytes;
                    store(&mut v1, out.v1_first, &out.v1);
                    for (file, first, hashes) in out.v2 {
                        if let Some(slots) = piece_hashes.get_mut(file) {
                            store(slots, first as usize, &hashes);
                        }
                    }
                    progress(done);
                }
                Err(err) => {
                    abort.store(true, Ordering::Relaxed);
                    first_error.get_or_insert(err);
                }
            }
        }
    });
    if let Some(err) = first_error {
        return Err(err);
    }
    let bpp = (plan.piece_length / LEAF_SIZE as u64) as usize;
    let pad = merkle::zero_subtree(bpp.trailing_zeros());
    let v2 = piece_hashes
        .into_iter()
        .map(|layer| match layer.len() {
            0 => None,
            1 => Some(FileDigest { root: layer[0], layer: Vec::new() }),
            n => {
                let root = merkle::root_of_layer(&mut layer.clone(), n.next_power_of_two(), pad);
                Some(FileDigest { root, layer })
            }
        })
        .collect();
    Ok(Digests { v1, v2 })
}

/// Copies `hashes` into `slots` from `first` on, ignoring anything out of range (which a
/// correct plan never produces).
fn store<T: Copy>(slots: &mut [T], first: usize, hashes: &[T]) {
    if hashes.is_empty() {
        return;
    }
    if let Some(dest) = slots.get_mut(first..first.saturating_add(hashes.len())) {
        dest.copy_from_slice(hashes);
    } else {
        debug_assert!(false, "hashes {first}+{} out of {}", hashes.len(), slots.len());
    }
}

/// Zeros for hashing pad files without allocating them.
static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

/// One hashing thread's state.
struct Worker<'a> {
    plan: &'a Plan,
    reader: Reader<'a>,
    buf: Vec<u8>,
    leaves: Vec<Hash32>,
}

impl<'a> Worker<'a> {
    fn new(files: &'a [InputFile], plan: &'a Plan) -> Self {
        let reader = Reader { files, open: None };
        Worker { plan, reader, buf: vec![0; plan.max_job_bytes], leaves: Vec::new() }
    }

    fn run(&mut self, job: &Job) -> Result<JobOutput, CreateError> {
        match job {
            Job::Stream { start, end, first_piece } => self.stream(*start, *end, *first_piece),
            Job::Runs(runs) => self.runs(runs),
        }
    }

    /// A v1 job: reads `start..end` of the concatenated files and hashes its pieces.
    fn stream(
        &mut self,
        start: u64,
        end: u64,
        first_piece: usize,
    ) -> Result<JobOutput, CreateError> {
        let starts = &self.plan.starts;
        let files = self.reader.files;
        // v1 streams have no padding: file `i` covers `starts[i]..starts[i + 1]`.
        let mut index = starts.partition_point(|&s| s <= start).saturating_sub(1);
        let mut pos = start;
        while pos < end {
            let (Some(file), Some(&file_start)) = (files.get(index), starts.get(index)) else {
                break;
            };
            let take = (file_start + file.length).min(end).saturating_sub(pos);
            if take > 0 {
                let at = (pos - start) as usize;
                let dest = &mut self.buf[at..at + take as usize];
                self.reader.read(index, pos - file_start, dest)?;
                pos += take;
            }
            index += 1;
        }
        let pl = self.plan.piece_length as usize;
        let data = &self.buf[..(end - start) as usize];
        let v1 = data.chunks(pl).map(|piece| Sha1::digest(piece).into()).collect();
        Ok(JobOutput { bytes: end - start, v1_first: first_piece, v1, v2: Vec::new() })
    }

    /// A v2 or hybrid job: hashes whole pieces of single files.
    fn runs(&mut self, runs: &[FileRun]) -> Result<JobOutput, CreateError> {
        let hybrid = self.plan.version == Version::Hybrid;
        let pl = self.plan.piece_length;
        let mut out = JobOutput {
            bytes: 0,
            v1_first: runs.first().map_or(0, |r| r.v1_first),
            v1: Vec::new(),
            v2: Vec::with_capacity(runs.len()),
        };
        for run in runs {
            let file_len = self.reader.files.get(run.file).map_or(0, |f| f.length);
            let (offset, len) = self.plan.run_span(run, file_len);
            let data = &mut self.buf[..len as usize];
            self.reader.read(run.file, offset, data)?;
            out.bytes += len;
            let single_piece = self.plan.v2_pieces.get(run.file) == Some(&1);
            let width = if single_piece {
                merkle::leaf_width(file_len)
            } else {
                (pl / LEAF_SIZE as u64) as usize
            };
            let mut roots = Vec::with_capacity(run.pieces as usize);
            for piece in data.chunks(pl as usize) {
                roots.push(merkle::subtree_root(piece, width, &mut self.leaves));
                if hybrid {
                    let mut sha = Sha1::new();
                    sha.update(piece);
                    // Only a file's last piece is short; its pad file fills the rest.
                    if piece.len() < pl as usize {
                        let pad = self.plan.pad_after.get(run.file).copied().unwrap_or(0);
                        feed_zeros(&mut sha, pad);
                    }
                    out.v1.push(sha.finalize().into());
                }
            }
            out.v2.push((run.file, run.first_piece, roots));
        }
        Ok(out)
    }
}

/// Reads payload files, keeping the last one open.
struct Reader<'a> {
    files: &'a [InputFile],
    open: Option<(usize, File)>,
}

impl Reader<'_> {
    /// Fills `buf` from file `index` at `offset`.
    fn read(&mut self, index: usize, offset: u64, buf: &mut [u8]) -> Result<(), CreateError> {
        let Some(input) = self.files.get(index) else {
            return Ok(());
        };
        let path = &input.disk_path;
        let file = match &self.open {
            Some((open_index, file)) if *open_index == index => file,
            _ => {
                let file = File::open(path)
                    .map_err(|source| CreateError::Read { path: path.clone(), source })?;
                let now = file
                    .metadata()
                    .map_err(|source| CreateError::Read { path: path.clone(), source })?
                    .len();
                if now != input.length {
                    return Err(CreateError::FileChanged { path: path.clone() });
                }
                &self.open.insert((index, file)).1
            }
        };
        read_exact_at(file, buf, offset).map_err(|source| match source.kind() {
            io::ErrorKind::UnexpectedEof => CreateError::FileChanged { path: path.clone() },
            _ => CreateError::Read { path: path.clone(), source },
        })
    }
}

/// Feeds `count` zero bytes to `sha`.
fn feed_zeros(sha: &mut Sha1, mut count: u64) {
    while count > 0 {
        let n = count.min(ZEROS.len() as u64) as usize;
        sha.update(&ZEROS[..n]);
        count -= n as u64;
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
