//! An HTTPS tracker on 127.0.0.1: opentracker behind `tests/peers/tls_proxy.py`, with a test CA.
//!
//! [`TestCa`] makes a throwaway certificate authority with the `openssl` command-line tool and
//! issues a server certificate valid for `127.0.0.1` (an IP SAN) and `localhost`; all key
//! material lives in the test's scratch directory. [`TlsProxy`] terminates TLS with that
//! certificate and relays each connection to a plain HTTP tracker, logging every handshake it
//! fails and every connection it forwards, so a test sees whether a client got through.

use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command};
use std::time::Duration;

use serde_json::Value;

use super::ferrent::FerrentRun;
use super::fixture::{Fixture, PIECE_LOG2};
use super::payload::{run_ok, Torrent};
use super::process::{Proc, Stream};
use super::{peers_dir, PYTHON};

/// How long the proxy may take to start listening.
const STARTUP: Duration = Duration::from_secs(10);

/// The proxy's own limit on its life, should its stdin never close.
const PROXY_LIFETIME: Duration = Duration::from_secs(600);

/// Days the test certificates are valid (they live as long as one test).
const VALID_DAYS: &str = "2";

/// A certificate authority made for one test.
pub struct TestCa {
    /// The CA certificate (PEM): what a client must trust.
    pub cert: PathBuf,
    key: PathBuf,
}

/// A server certificate (PEM) issued by a [`TestCa`], with its private key.
pub struct ServerCert {
    /// The certificate.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

impl TestCa {
    /// Makes a self-signed CA (P-256) named `name`: `dir/<name>.pem` and `dir/<name>.key`.
    pub fn generate(dir: &Path, name: &str) -> TestCa {
        let (cert, key) = (dir.join(format!("{name}.pem")), dir.join(format!("{name}.key")));
        run_ok(
            "openssl req (test CA)",
            Command::new("openssl")
                .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
                .args(["-nodes", "-days", VALID_DAYS, "-subj"])
                .arg(format!("/CN=ferrent test CA {name}"))
                .args(["-addext", "basicConstraints=critical,CA:TRUE"])
                .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
                .arg("-keyout")
                .arg(&key)
                .arg("-out")
                .arg(&cert),
        );
        TestCa { cert, key }
    }

    /// Issues a server certificate for `127.0.0.1` and `localhost`: `dir/<name>.pem`/`.key`.
    pub fn issue_server(&self, dir: &Path, name: &str) -> ServerCert {
        let cert = dir.join(format!("{name}.pem"));
        let key = dir.join(format!("{name}.key"));
        let csr = dir.join(format!("{name}.csr"));
        let ext = dir.join(format!("{name}.ext"));
        std::fs::write(
            &ext,
            "subjectAltName = IP:127.0.0.1, DNS:localhost\n\
             basicConstraints = critical, CA:FALSE\n\
             keyUsage = critical, digitalSignature\n\
             extendedKeyUsage = serverAuth\n",
        )
        .unwrap_or_else(|e| panic!("write {}: {e}", ext.display()));
        run_ok(
            "openssl req (server key and request)",
            Command::new("openssl")
                .args(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
                .args(["-nodes", "-subj", "/CN=127.0.0.1", "-keyout"])
                .arg(&key)
                .arg("-out")
                .arg(&csr),
        );
        run_ok(
            "openssl x509 (sign the server certificate)",
            Command::new("openssl")
                .args(["x509", "-req", "-days", VALID_DAYS, "-set_serial", "2", "-in"])
                .arg(&csr)
                .arg("-CA")
                .arg(&self.cert)
                .arg("-CAkey")
                .arg(&self.key)
                .arg("-extfile")
                .arg(&ext)
                .arg("-out")
                .arg(&cert),
        );
        ServerCert { cert, key }
    }
}

/// A running `tls_proxy.py`: HTTPS on 127.0.0.1 in front of a plain TCP port; killed on drop.
pub struct TlsProxy {
    /// Its TLS port.
    pub port: u16,
    /// The helper process.
    pub proc: Proc,
    /// Held open: the helper quits at end-of-file on its stdin.
    _stdin: ChildStdin,
}

impl TlsProxy {
    /// Starts it with `server`'s certificate, relaying to 127.0.0.1:`upstream`.
    pub fn start(server: &ServerCert, upstream: u16) -> TlsProxy {
        let mut cmd = Command::new(PYTHON);
        cmd.arg(peers_dir().join("tls_proxy.py"))
            .arg("--cert")
            .arg(&server.cert)
            .arg("--key")
            .arg(&server.key)
            .arg("--upstream")
            .arg(upstream.to_string())
            .arg("--lifetime")
            .arg(PROXY_LIFETIME.as_secs().to_string());
        let (mut proc, stdin) = Proc::spawn_with_stdin(&format!("tls-proxy-{upstream}"), cmd);
        let port = proc.wait_for_line(STARTUP, "READY", |l| l.strip_prefix("READY ")?.parse().ok());
        TlsProxy { port, proc, _stdin: stdin }
    }

    /// The HTTPS announce URL.
    pub fn announce_url(&self) -> String {
        format!("https://127.0.0.1:{}/announce", self.port)
    }

    /// How many connections got through the handshake and were relayed to the tracker.
    pub fn forwarded(&self) -> usize {
        self.log_lines("forwarded ").len()
    }

    /// The reasons of the handshakes that failed, one per connection.
    pub fn handshake_failures(&self) -> Vec<String> {
        self.log_lines("handshake failed ")
    }

    /// The rest of each stderr line whose message starts with `prefix`.
    fn log_lines(&self, prefix: &str) -> Vec<String> {
        self.proc
            .lines(Stream::Stderr)
            .iter()
            .filter_map(|l| {
                let message = l.text.split_once("] ")?.1;
                message.strip_prefix(prefix).map(str::to_owned)
            })
            .collect()
    }
}

/// A copy of the fixture's torrent whose only tracker is `url` (same info dictionary, so the
/// same info hash: peers of the original swarm are peers of this one). Written next to the
/// original as `name`.
pub fn retarget(fx: &Fixture, url: &str, name: &str) -> Torrent {
    let path = fx.scratch.path().join(name);
    let copy = Torrent::make(&fx.payload, &path, PIECE_LOG2, &[url.to_owned()]);
    assert_eq!(copy.info.info_hash, fx.torrent.info.info_hash, "the copy's info hash");
    assert_eq!(copy.info.trackers, vec![url.to_owned()], "the copy's trackers");
    copy
}

/// The `(url, message)` of every `tracker` event ferrent printed so far.
pub fn tracker_messages(run: &FerrentRun) -> Vec<(String, String)> {
    run.proc
        .stdout()
        .iter()
        .filter_map(|line| {
            let value: Value = serde_json::from_str(line).ok()?;
            if value.get("event")?.as_str()? != "tracker" {
                return None;
            }
            let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
            Some((text("url")?, text("message")?))
        })
        .collect()
}
