//! The daemon's settings: a TOML file, then environment variables, then command-line flags.
//!
//! [`DaemonConfig::default_toml`] is the commented default file that `ferrent config
//! --print-default` prints; parsing it gives [`DaemonConfig::default`] back (tested).

use serde::{Deserialize, Deserializer, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

/// The TCP port the API listens on by default.
pub const DEFAULT_API_PORT: u16 = 6880;

/// What the daemon needs to run. Every field has a default, so an empty file is valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DaemonConfig {
    /// Where torrents' files go unless a request names a directory inside it; paths given
    /// through the API cannot leave it.
    pub download_dir: PathBuf,
    /// Where each torrent's metainfo, settings and resume data are kept, and the API token.
    pub state_dir: PathBuf,
    /// Peer connections.
    pub network: NetworkConfig,
    /// Session-wide rate limits.
    pub limits: LimitsConfig,
    /// The HTTP API.
    pub api: ApiConfig,
    /// The watch folder.
    pub watch: WatchConfig,
    /// Persistence and timing.
    pub state: StateConfig,
}

/// `[network]`: peer connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    /// TCP port for incoming peers (0: a free one each start).
    pub listen_port: u16,
    /// Address for incoming peers; unset means every address, IPv4 and IPv6.
    pub listen_addr: Option<IpAddr>,
    /// Connections per torrent at the most.
    pub max_peers_per_torrent: usize,
    /// Connections in all at the most.
    pub max_peers: usize,
    /// Use the DHT for peer discovery (public torrents only).
    pub dht: bool,
    /// Use Local Service Discovery (multicast on the LAN, public torrents only).
    pub lsd: bool,
    /// Exchange peer lists with peers (PEX, BEP 11; public torrents only).
    pub pex: bool,
}

/// `[limits]`: session-wide caps in bytes per second, 0 = unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Upload cap.
    #[serde(deserialize_with = "rate")]
    pub upload: u64,
    /// Download cap.
    #[serde(deserialize_with = "rate")]
    pub download: u64,
}

/// Who must present the API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenPolicy {
    /// Requests that do not come from a loopback address.
    Remote,
    /// Every request.
    Always,
}

/// `[api]`: the HTTP JSON API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Address and port to listen on.
    pub bind: SocketAddr,
    /// File holding the API token, created (mode 0600) on first start when missing;
    /// unset means `<state_dir>/api-token`.
    pub token_file: Option<PathBuf>,
    /// Which requests need the token.
    pub require_token: TokenPolicy,
    /// Host names accepted in the `Host` header besides `localhost` and IP addresses
    /// (a defence against DNS rebinding).
    pub allowed_hosts: Vec<String>,
    /// Largest request body accepted (a .torrent upload), in bytes.
    #[serde(deserialize_with = "rate")]
    pub max_body: u64,
}

/// `[watch]`: a folder where dropped .torrent and .magnet files are added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchConfig {
    /// The folder; unset means no watch folder.
    pub dir: Option<PathBuf>,
    /// How often it is scanned, in milliseconds. A file is taken once its size and
    /// modification time stayed the same for one scan.
    pub interval_ms: u64,
}

/// `[state]`: persistence and timing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateConfig {
    /// A torrent's resume data is saved at most this often while pieces complete, in
    /// milliseconds (and always on changes and at shutdown).
    pub save_interval_ms: u64,
    /// Give up on a magnet link's metadata after this many seconds and try again later.
    pub metadata_timeout_secs: u64,
    /// Torrents started at once during start-up.
    pub startup_parallelism: usize,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            listen_port: 6881,
            listen_addr: None,
            max_peers_per_torrent: 100,
            max_peers: 500,
            dht: true,
            lsd: true,
            pex: true,
        }
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], DEFAULT_API_PORT)),
            token_file: None,
            require_token: TokenPolicy::Remote,
            allowed_hosts: Vec::new(),
            max_body: 16 << 20,
        }
    }
}

impl Default for WatchConfig {
    fn default() -> Self {
        Self { dir: None, interval_ms: 2000 }
    }
}

impl Default for StateConfig {
    fn default() -> Self {
        Self { save_interval_ms: 5000, metadata_timeout_secs: 300, startup_parallelism: 32 }
    }
}

impl Default for DaemonConfig {
    fn default() -> Self {
        Self::with_dirs(&BaseDirs::from_env())
    }
}

/// The per-user base directories the defaults are built from (XDG base directories).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseDirs {
    /// `$HOME`.
    pub home: PathBuf,
    /// `$XDG_STATE_HOME`, default `~/.local/state`.
    pub state: PathBuf,
    /// `$XDG_CONFIG_HOME`, default `~/.config`.
    pub config: PathBuf,
}

impl BaseDirs {
    /// From `HOME`, `XDG_STATE_HOME` and `XDG_CONFIG_HOME` (relative values are ignored,
    /// as the XDG specification asks).
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var_os(name).map(PathBuf::from))
    }

    /// From any variable lookup (for tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<PathBuf>) -> Self {
        let absolute = |name: &str| lookup(name).filter(|p| p.is_absolute());
        let home = absolute("HOME").unwrap_or_else(|| PathBuf::from("/"));
        Self {
            state: absolute("XDG_STATE_HOME").unwrap_or_else(|| home.join(".local/state")),
            config: absolute("XDG_CONFIG_HOME").unwrap_or_else(|| home.join(".config")),
            home,
        }
    }

    /// Where the daemon's config file is looked for when none is named.
    pub fn config_file(&self) -> PathBuf {
        self.config.join("ferrent/daemon.toml")
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a bad field.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, naming the field and line.
        message: String,
    },
    /// An environment variable has a value that does not fit its setting.
    #[error("invalid environment variable {name}={value:?}: {reason}")]
    Env {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A setting is out of range.
    #[error("invalid setting {field}: {reason}")]
    Invalid {
        /// The setting, as `table.key`.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// The environment variables that override the file, and what each sets.
pub const ENV_VARS: [(&str, &str); 12] = [
    ("FERRENT_DOWNLOAD_DIR", "download_dir"),
    ("FERRENT_STATE_DIR", "state_dir"),
    ("FERRENT_WATCH_DIR", "watch.dir (empty: none)"),
    ("FERRENT_LISTEN_PORT", "network.listen_port"),
    ("FERRENT_DHT", "network.dht (true/false)"),
    ("FERRENT_LSD", "network.lsd (true/false)"),
    ("FERRENT_PEX", "network.pex (true/false)"),
    ("FERRENT_UPLOAD_LIMIT", "limits.upload"),
    ("FERRENT_DOWNLOAD_LIMIT", "limits.download"),
    ("FERRENT_API_BIND", "api.bind"),
    ("FERRENT_API_TOKEN_FILE", "api.token_file"),
    ("FERRENT_REQUIRE_TOKEN", "api.require_token (remote/always)"),
];

impl DaemonConfig {
    /// The defaults for a user with these base directories.
    pub fn with_dirs(dirs: &BaseDirs) -> Self {
        Self {
            download_dir: dirs.home.join("Downloads"),
            state_dir: dirs.state.join("ferrent"),
            network: NetworkConfig::default(),
            limits: LimitsConfig::default(),
            api: ApiConfig::default(),
            watch: WatchConfig::default(),
            state: StateConfig::default(),
        }
    }

    /// Parses TOML text; missing settings take the defaults for `dirs`. `~/` at the start
    /// of a path means the home directory.
    pub fn from_toml(text: &str, dirs: &BaseDirs, origin: &Path) -> Result<Self, ConfigError> {
        let parse_error = |e: toml::de::Error| ConfigError::Parse {
            path: origin.to_path_buf(),
            message: e.to_string(),
        };
        let table: toml::Table = toml::from_str(text).map_err(parse_error)?;
        let mut out: DaemonConfig = toml::from_str(text).map_err(parse_error)?;
        let defaults = Self::with_dirs(dirs);
        if !table.contains_key("download_dir") {
            out.download_dir = defaults.download_dir;
        }
        if !table.contains_key("state_dir") {
            out.state_dir = defaults.state_dir;
        }
        out.expand_home(&dirs.home);
        Ok(out)
    }

    /// Reads `path`, or the per-user default file when `path` is `None` (defaults when
    /// that does not exist either).
    pub fn load(path: Option<&Path>, dirs: &BaseDirs) -> Result<Self, ConfigError> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (dirs.config_file(), false),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_toml(&text, dirs, &path),
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Self::with_dirs(dirs))
            }
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    /// Applies the `FERRENT_*` variables of [`ENV_VARS`] found by `lookup`.
    pub fn apply_env(
        &mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        fn bad(name: &'static str, value: &str, reason: impl ToString) -> ConfigError {
            ConfigError::Env { name, value: value.to_string(), reason: reason.to_string() }
        }
        for (name, _) in ENV_VARS {
            let Some(value) = lookup(name) else { continue };
            let v = value.as_str();
            match name {
                "FERRENT_DOWNLOAD_DIR" => self.download_dir = PathBuf::from(v),
                "FERRENT_STATE_DIR" => self.state_dir = PathBuf::from(v),
                "FERRENT_WATCH_DIR" => self.watch.dir = (!v.is_empty()).then(|| PathBuf::from(v)),
                "FERRENT_LISTEN_PORT" => {
                    self.network.listen_port = v.parse().map_err(|e| bad(name, v, e))?
                }
                "FERRENT_DHT" => {
                    self.network.dht =
                        parse_bool(v).ok_or_else(|| bad(name, v, "expected true or false"))?
                }
                "FERRENT_LSD" => {
                    self.network.lsd =
                        parse_bool(v).ok_or_else(|| bad(name, v, "expected true or false"))?
                }
                "FERRENT_PEX" => {
                    self.network.pex =
                        parse_bool(v).ok_or_else(|| bad(name, v, "expected true or false"))?
                }
                "FERRENT_UPLOAD_LIMIT" => {
                    self.limits.upload = parse_rate(v).map_err(|e| bad(name, v, e))?
                }
                "FERRENT_DOWNLOAD_LIMIT" => {
                    self.limits.download = parse_rate(v).map_err(|e| bad(name, v, e))?
                }
                "FERRENT_API_BIND" => self.api.bind = v.parse().map_err(|e| bad(name, v, e))?,
                "FERRENT_API_TOKEN_FILE" => {
                    self.api.token_file = (!v.is_empty()).then(|| PathBuf::from(v))
                }
                "FERRENT_REQUIRE_TOKEN" => {
                    self.api.require_token = match v {
                        "remote" => TokenPolicy::Remote,
                        "always" => TokenPolicy::Always,
                        _ => return Err(bad(name, v, "expected remote or always")),
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Checks ranges and makes relative paths absolute against `cwd`.
    pub fn finish(&mut self, cwd: &Path) -> Result<(), ConfigError> {
        let invalid =
            |field, reason: &str| Err(ConfigError::Invalid { field, reason: reason.to_string() });
        if self.network.max_peers_per_torrent == 0 {
            return invalid("network.max_peers_per_torrent", "must be at least 1");
        }
        if self.network.max_peers == 0 {
            return invalid("network.max_peers", "must be at least 1");
        }
        if self.watch.interval_ms == 0 {
            return invalid("watch.interval_ms", "must be at least 1");
        }
        if self.state.save_interval_ms == 0 {
            return invalid("state.save_interval_ms", "must be at least 1");
        }
        if self.state.metadata_timeout_secs == 0 {
            return invalid("state.metadata_timeout_secs", "must be at least 1");
        }
        if self.state.startup_parallelism == 0 {
            return invalid("state.startup_parallelism", "must be at least 1");
        }
        if self.api.max_body < 1024 {
            return invalid("api.max_body", "must be at least 1024 bytes");
        }
        if self.download_dir.as_os_str().is_empty() {
            return invalid("download_dir", "must not be empty");
        }
        if self.state_dir.as_os_str().is_empty() {
            return invalid("state_dir", "must not be empty");
        }
        for path in [
            Some(&mut self.download_dir),
            Some(&mut self.state_dir),
            self.watch.dir.as_mut(),
            self.api.token_file.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            if path.is_relative() {
                *path = cwd.join(&*path);
            }
        }
        Ok(())
    }

    /// The API token file.
    pub fn token_file(&self) -> PathBuf {
        self.api.token_file.clone().unwrap_or_else(|| self.state_dir.join("api-token"))
    }

    /// The base URL a client on this machine reaches the API at.
    pub fn api_url(&self) -> String {
        let ip = match self.api.bind.ip() {
            IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
            IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.api.bind.port()))
    }

    /// The commented default configuration file, with the paths of `dirs`.
    pub fn default_toml(dirs: &BaseDirs) -> String {
        let defaults = Self::with_dirs(dirs);
        DEFAULT_TOML
            .replace("{download_dir}", &toml_string(&defaults.download_dir))
            .replace("{state_dir}", &toml_string(&defaults.state_dir))
            .replace("{api_port}", &DEFAULT_API_PORT.to_string())
    }

    fn expand_home(&mut self, home: &Path) {
        let expand = |p: &mut PathBuf| {
            if let Ok(rest) = p.strip_prefix("~") {
                *p = home.join(rest);
            }
        };
        expand(&mut self.download_dir);
        expand(&mut self.state_dir);
        self.watch.dir.as_mut().map(expand);
        self.api.token_file.as_mut().map(expand);
    }
}

fn toml_string(path: &Path) -> String {
    // TOML basic strings escape like JSON strings.
    serde_json::to_string(&path.to_string_lossy()).unwrap_or_else(|_| "\"\"".into())
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Parses a byte count or rate: digits with an optional `K`, `M` or `G` suffix (powers of
/// 1024), e.g. `512K`, `10M`.
pub fn parse_rate(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, shift) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (&text[..i], 10),
        Some((i, 'm' | 'M')) => (&text[..i], 20),
        Some((i, 'g' | 'G')) => (&text[..i], 30),
        _ => (text, 0),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of bytes (like 512K or 10M)"))?;
    n.checked_mul(1u64 << shift).ok_or_else(|| format!("`{text}` is too large"))
}

/// Accepts an integer or a string for [`parse_rate`].
fn rate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(u64),
        Text(String),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Int(n) => Ok(n),
        Raw::Text(t) => parse_rate(&t).map_err(serde::de::Error::custom),
    }
}

const DEFAULT_TOML: &str = include_str!("default_config.toml");

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs() -> BaseDirs {
        BaseDirs::from_lookup(|name| match name {
            "HOME" => Some("/home/ann".into()),
            "XDG_STATE_HOME" => Some("relative/ignored".into()),
            _ => None,
        })
    }

    #[test]
    fn the_printed_default_parses_to_the_defaults() {
        let text = DaemonConfig::default_toml(&dirs());
        let parsed = DaemonConfig::from_toml(&text, &dirs(), Path::new("default")).unwrap();
        assert_eq!(parsed, DaemonConfig::with_dirs(&dirs()));
        assert_eq!(parsed.state_dir, Path::new("/home/ann/.local/state/ferrent"));
        assert!(
            text.lines().filter(|l| l.starts_with('#')).count() > 10,
            "the default file explains itself"
        );
    }

    #[test]
    fn an_empty_file_is_all_defaults() {
        let parsed = DaemonConfig::from_toml("", &dirs(), Path::new("x")).unwrap();
        assert_eq!(parsed, DaemonConfig::with_dirs(&dirs()));
    }

    #[test]
    fn file_values_rates_and_home_expansion() {
        let text = r#"
            download_dir = "~/media"
            [limits]
            upload = "512K"
            download = 1000
            [api]
            bind = "0.0.0.0:9000"
            require_token = "always"
            [watch]
            dir = "/srv/watch"
        "#;
        let c = DaemonConfig::from_toml(text, &dirs(), Path::new("x")).unwrap();
        assert_eq!(c.download_dir, Path::new("/home/ann/media"));
        assert_eq!((c.limits.upload, c.limits.download), (512 << 10, 1000));
        assert_eq!(c.api.require_token, TokenPolicy::Always);
        assert_eq!(c.api_url(), "http://127.0.0.1:9000");
        assert_eq!(c.watch.dir.as_deref(), Some(Path::new("/srv/watch")));
    }

    #[test]
    fn unknown_and_mistyped_fields_are_named() {
        let err =
            DaemonConfig::from_toml("[network]\nlisten_prot = 1\n", &dirs(), Path::new("c.toml"))
                .unwrap_err();
        assert!(err.to_string().contains("listen_prot"), "{err}");
        let err = DaemonConfig::from_toml("bogus = 1\n", &dirs(), Path::new("c.toml")).unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
        let err =
            DaemonConfig::from_toml("[limits]\nupload = \"fast\"\n", &dirs(), Path::new("c.toml"))
                .unwrap_err();
        assert!(err.to_string().contains("fast") && err.to_string().contains("c.toml"), "{err}");
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut c = DaemonConfig::with_dirs(&dirs());
        c.apply_env(|name| match name {
            "FERRENT_LISTEN_PORT" => Some("7000".into()),
            "FERRENT_DHT" => Some("off".into()),
            "FERRENT_UPLOAD_LIMIT" => Some("1M".into()),
            "FERRENT_WATCH_DIR" => Some("in".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!((c.network.listen_port, c.network.dht, c.limits.upload), (7000, false, 1 << 20));
        c.finish(Path::new("/cwd")).unwrap();
        assert_eq!(c.watch.dir.as_deref(), Some(Path::new("/cwd/in")));
        let err = c.apply_env(|n| (n == "FERRENT_API_BIND").then(|| "nowhere".into())).unwrap_err();
        assert!(err.to_string().contains("FERRENT_API_BIND"), "{err}");
    }

    #[test]
    fn out_of_range_settings_are_refused() {
        let mut c = DaemonConfig::with_dirs(&dirs());
        c.state.save_interval_ms = 0;
        let err = c.finish(Path::new("/")).unwrap_err();
        assert!(err.to_string().contains("state.save_interval_ms"), "{err}");
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("0"), Ok(0));
        assert_eq!(parse_rate("10m"), Ok(10 << 20));
        assert_eq!(parse_rate("3G"), Ok(3 << 30));
        assert!(parse_rate("K").is_err());
        assert!(parse_rate("99999999999999G").is_err());
    }
}
