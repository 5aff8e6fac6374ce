//! Child processes that cannot outlive their test.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::wait_until;

/// Lines of each stream shown when a failing test dumps a process's output.
const DUMP_TAIL: usize = 300;

/// Which output stream a captured line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One captured output line and when the harness read it.
#[derive(Clone, Debug)]
pub struct Line {
    /// When the line was read.
    pub at: Instant,
    /// Where it came from.
    pub stream: Stream,
    /// The line, without its newline (invalid UTF-8 replaced).
    pub text: String,
}

type Log = Arc<Mutex<Vec<Line>>>;

/// A running child process in its own process group, with its output captured line by line.
///
/// Dropping the guard SIGKILLs the whole group and reaps the child; if the test is panicking the
/// captured output is printed first.
pub struct Proc {
    name: String,
    child: Child,
    /// Captured stdout and stderr lines, in that order.
    logs: [Log; 2],
    readers: Vec<JoinHandle<()>>,
    status: Option<ExitStatus>,
}

impl Proc {
    /// Starts `cmd` (stdin null, stdout/stderr captured) in a new process group.
    pub fn spawn(name: &str, cmd: Command) -> Proc {
        Proc::start(name, cmd, Stdio::null()).0
    }

    /// Like [`Proc::spawn`], but with stdin piped: returns the writing end too (closing it
    /// gives the child end-of-file).
    pub fn spawn_with_stdin(name: &str, cmd: Command) -> (Proc, ChildStdin) {
        let (proc, stdin) = Proc::start(name, cmd, Stdio::piped());
        (proc, stdin.expect("stdin is piped"))
    }

    fn start(name: &str, mut cmd: Command, stdin: Stdio) -> (Proc, Option<ChildStdin>) {
        cmd.stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
        let mut child =
            cmd.spawn().unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        let stdin = child.stdin.take();
        let logs = [Log::default(), Log::default()];
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let readers = vec![
            capture(stdout, Stream::Stdout, logs[0].clone()),
            capture(stderr, Stream::Stderr, logs[1].clone()),
        ];
        (Proc { name: name.to_owned(), child, logs, readers, status: None }, stdin)
    }

    /// The name given at spawn time.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The child's process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The lines of `stream` captured so far.
    pub fn lines(&self, stream: Stream) -> Vec<Line> {
        let log = match stream {
            Stream::Stdout => &self.logs[0],
            Stream::Stderr => &self.logs[1],
        };
        log.lock().expect("log lock").clone()
    }

    /// The standard output lines captured so far.
    pub fn stdout(&self) -> Vec<String> {
        self.lines(Stream::Stdout).into_iter().map(|l| l.text).collect()
    }

    /// Waits for a stdout line accepted by `pick`, returning what `pick` made of it.
    ///
    /// Panics on timeout or if the process exits first.
    pub fn wait_for_line<T>(
        &mut self,
        timeout: Duration,
        what: &str,
        pick: impl FnMut(&str) -> Option<T>,
    ) -> T {
        self.wait_for_line_in(Stream::Stdout, timeout, what, pick)
    }

    /// [`Proc::wait_for_line`] on either stream.
    pub fn wait_for_line_in<T>(
        &mut self,
        stream: Stream,
        timeout: Duration,
        what: &str,
        mut pick: impl FnMut(&str) -> Option<T>,
    ) -> T {
        let name = self.name.clone();
        wait_until(timeout, &format!("{what} from {name}"), || {
            if let Some(found) = self.lines(stream).iter().find_map(|l| pick(&l.text)) {
                return Some(found);
            }
            if let Some(status) = self.try_status() {
                panic!("{name} exited ({status}) before {what}");
            }
            None
        })
    }

    /// The child's peak resident set size so far (`VmHWM`), in bytes.
    pub fn peak_rss(&self) -> u64 {
        let path = format!("/proc/{}/status", self.pid());
        let status = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {path} ({} must still run): {e}", self.name));
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no VmHWM line in {path}"));
        kib * 1024
    }

    /// The exit status if the child has exited.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("poll child status");
        }
        self.status
    }

    /// Waits at most `timeout` for the child to exit; panics if it does not.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let name = self.name.clone();
        let status = wait_until(timeout, &format!("{name} to exit"), || self.try_status());
        self.join_readers();
        status
    }

    /// Sends `signal` to the child alone (not its group).
    pub fn signal(&self, signal: libc::c_int) {
        if self.status.is_none() {
            // SAFETY: plain syscall on a pid we own and have not reaped.
            unsafe { libc::kill(self.pid() as libc::pid_t, signal) };
        }
    }

    /// SIGKILLs the child's whole process group and reaps the child.
    pub fn kill(&mut self) {
        if self.status.is_none() {
            // SAFETY: plain syscall; the group id is our child's pid, set by `process_group(0)`.
            unsafe { libc::killpg(self.pid() as libc::pid_t, libc::SIGKILL) };
            self.status = self.child.wait().ok();
        }
        self.join_readers();
    }

    /// Prints the tail of the captured output to stderr (captured by the test runner).
    pub fn dump(&self) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let lines = self.lines(stream);
            let skip = lines.len().saturating_sub(DUMP_TAIL);
            let shown = lines.len() - skip;
            eprintln!(
                "----- {} {stream:?}: last {shown} of {} lines -----",
                self.name,
                lines.len()
            );
            for line in &lines[skip..] {
                eprintln!("{}", line.text);
            }
        }
        eprintln!("----- end of {} (status {:?}) -----", self.name, self.status);
    }

    fn join_readers(&mut self) {
        // The pipes close when the last holder exits; readers of processes that leaked the pipe
        // to a daemon are simply left behind.
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline && self.readers.iter().any(|r| !r.is_finished()) {
            std::thread::sleep(Duration::from_millis(10));
        }
        for reader in std::mem::take(&mut self.readers) {
            if reader.is_finished() {
                let _ = reader.join();
            }
        }
    }

    fn save_log(&self) {
        let Some(dir) = std::env::var_os("FERRENT_TEST_LOGS") else { return };
        let dir = std::path::PathBuf::from(dir);
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join(format!("{}-{}.log", self.name, self.pid()));
        let mut lines = self.lines(Stream::Stdout);
        lines.extend(self.lines(Stream::Stderr));
        lines.sort_by_key(|l| l.at);
        let start = lines.first().map(|l| l.at);
        let text: String = lines
            .iter()
            .map(|l| {
                let at = start.map_or(0.0, |s| l.at.duration_since(s).as_secs_f64());
                let tag = if l.stream == Stream::Stdout { "out" } else { "err" };
                format!("{at:9.3} {tag} {}\n", l.text)
            })
            .collect();
        let _ = std::fs::write(file, text);
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
        self.save_log();
        if std::thread::panicking() {
            self.dump();
        }
    }
}

fn capture(stream: impl Read + Send + 'static, kind: Stream, log: Log) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    let text =
                        String::from_utf8_lossy(&buf).trim_end_matches(['\n', '\r']).to_owned();
                    log.lock().expect("log lock").push(Line {
                        at: Instant::now(),
                        stream: kind,
                        text,
                    });
                }
            }
        }
    })
}
