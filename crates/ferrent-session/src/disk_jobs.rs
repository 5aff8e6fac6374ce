//! Counts of the session's disk work, for metrics: piece hash-and-write jobs and piece reads
//! for uploads, each from the moment it is queued until it is done.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// How much disk work a session has queued or running.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskQueue {
    /// Received pieces waiting for a disk thread or being hashed and written.
    pub verifying: usize,
    /// Pieces being read from disk to serve peers' requests.
    pub reading: usize,
}

/// The session's live counters.
#[derive(Debug, Default)]
pub(crate) struct DiskJobs {
    verifying: AtomicUsize,
    reading: AtomicUsize,
}

/// Which counter a job counts in.
#[derive(Debug, Clone, Copy)]
pub(crate) enum JobKind {
    Verify,
    Read,
}

impl DiskJobs {
    /// The counts now.
    pub(crate) fn snapshot(&self) -> DiskQueue {
        DiskQueue {
            verifying: self.verifying.load(Ordering::Relaxed),
            reading: self.reading.load(Ordering::Relaxed),
        }
    }

    /// Counts a job until the returned guard is dropped.
    pub(crate) fn start(self: &Arc<Self>, kind: JobKind) -> DiskJob {
        self.counter(kind).fetch_add(1, Ordering::Relaxed);
        DiskJob { jobs: self.clone(), kind }
    }

    fn counter(&self, kind: JobKind) -> &AtomicUsize {
        match kind {
            JobKind::Verify => &self.verifying,
            JobKind::Read => &self.reading,
        }
    }
}

/// One job in [`DiskJobs`]; dropping it (however the job ends) takes it off the count.
#[derive(Debug)]
pub(crate) struct DiskJob {
    jobs: Arc<DiskJobs>,
    kind: JobKind,
}

impl Drop for DiskJob {
    fn drop(&mut self) {
        self.jobs.counter(self.kind).fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_counts_until_its_guard_drops() {
        let jobs = Arc::new(DiskJobs::default());
        let a = jobs.start(JobKind::Verify);
        let b = jobs.start(JobKind::Verify);
        let c = jobs.start(JobKind::Read);
        assert_eq!(jobs.snapshot(), DiskQueue { verifying: 2, reading: 1 });
        drop((a, c));
        assert_eq!(jobs.snapshot(), DiskQueue { verifying: 1, reading: 0 });
        // A job that ends by unwinding is counted off too.
        let moved = jobs.clone();
        let _ = std::thread::spawn(move || {
            let _job = moved.start(JobKind::Read);
            panic!("disk job failed");
        })
        .join();
        drop(b);
        assert_eq!(jobs.snapshot(), DiskQueue::default());
    }
}
