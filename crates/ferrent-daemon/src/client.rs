//! [`ApiClient`]: talks to a running daemon's API (what `ferrent ls`, `add`, ... use).

use crate::model::{AddRequest, ErrorBody, Limits, SessionView, TorrentDetails, TorrentSummary};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL is not valid.
    #[error("invalid daemon URL {url}: {reason}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The daemon could not be reached.
    #[error("cannot reach the daemon at {url} (is `ferrent daemon` running?): {reason}")]
    Connect {
        /// The URL.
        url: String,
        /// The cause.
        reason: String,
    },
    /// The daemon answered with an error.
    #[error("{message} (HTTP {status}, {code})")]
    Api {
        /// HTTP status.
        status: u16,
        /// The error code.
        code: String,
        /// The daemon's message.
        message: String,
    },
    /// The answer was not what the API promises.
    #[error("unexpected answer from {url}: {reason}")]
    Decode {
        /// The URL.
        url: String,
        /// What was wrong.
        reason: String,
    },
}

/// A client for one daemon.
#[derive(Debug, Clone)]
pub struct ApiClient {
    base: url::Url,
    token: Option<String>,
    http: reqwest::Client,
}

/// A request body: content type and bytes.
type Body = (&'static str, Vec<u8>);

impl ApiClient {
    /// A client for the daemon at `base_url` (e.g. `http://127.0.0.1:6880`).
    pub fn new(base_url: &str, token: Option<String>) -> Result<Self, ClientError> {
        let base = url::Url::parse(base_url)
            .map_err(|e| ClientError::Url { url: base_url.to_string(), reason: e.to_string() })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(ClientError::Url {
                url: base_url.to_string(),
                reason: "use http or https".into(),
            });
        }
        let http = ferrent_session::tracker::build_http_client(|builder| {
            builder.timeout(Duration::from_secs(120))
        });
        Ok(Self { base, token, http })
    }

    /// `path` (starting with `/`) with `query` pairs, on the daemon.
    fn url(&self, path: &str, query: &[(&str, String)]) -> url::Url {
        let mut url = self.base.clone();
        url.set_path(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// Sends a request; returns the status and body of any answer.
    pub async fn send(
        &self,
        method: Method,
        url: url::Url,
        body: Option<Body>,
    ) -> Result<(StatusCode, Vec<u8>), ClientError> {
        let shown = url.to_string();
        let mut request = self.http.request(method, url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some((content_type, bytes)) = body {
            request = request.header(reqwest::header::CONTENT_TYPE, content_type).body(bytes);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ClientError::Connect { url: shown.clone(), reason: e.to_string() })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ClientError::Connect { url: shown, reason: e.to_string() })?;
        Ok((status, bytes.to_vec()))
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Body>,
    ) -> Result<T, ClientError> {
        let url = self.url(path, query);
        let shown = url.to_string();
        let (status, bytes) = self.send(method, url, body).await?;
        if !status.is_success() {
            return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(e) => ClientError::Api {
                    status: status.as_u16(),
                    code: e.error.code,
                    message: e.error.message,
                },
                Err(_) => ClientError::Api {
                    status: status.as_u16(),
                    code: "http".into(),
                    message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                },
            });
        }
        let bytes = if bytes.is_empty() { b"null".to_vec() } else { bytes };
        serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Decode { url: shown, reason: e.to_string() })
    }

    fn json<T: serde::Serialize>(value: &T) -> Option<Body> {
        Some(("application/json", serde_json::to_vec(value).unwrap_or_default()))
    }

    fn torrent_path(id: &str, rest: &str) -> String {
        format!(
            "/api/v1/torrents/{}{rest}",
            percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC)
        )
    }

    /// The Prometheus metrics page.
    pub async fn metrics(&self) -> Result<String, ClientError> {
        let url = self.url("/metrics", &[]);
        let shown = url.to_string();
        let (status, bytes) = self.send(Method::GET, url, None).await?;
        if !status.is_success() {
            let message = String::from_utf8_lossy(&bytes).chars().take(200).collect();
            return Err(ClientError::Api { status: status.as_u16(), code: "http".into(), message });
        }
        String::from_utf8(bytes)
            .map_err(|e| ClientError::Decode { url: shown, reason: e.to_string() })
    }

    /// Every torrent.
    pub async fn list(&self) -> Result<Vec<TorrentSummary>, ClientError> {
        self.call(Method::GET, "/api/v1/torrents", &[], None).await
    }

    /// One torrent in full.
    pub async fn details(&self, id: &str) -> Result<TorrentDetails, ClientError> {
        self.call(Method::GET, &Self::torrent_path(id, ""), &[], None).await
    }

    /// Adds from a JSON request (magnet, URL or base64 .torrent).
    pub async fn add(&self, request: &AddRequest) -> Result<TorrentSummary, ClientError> {
        self.call(Method::POST, "/api/v1/torrents", &[], Self::json(request)).await
    }

    /// Uploads a .torrent file.
    pub async fn add_torrent_file(
        &self,
        bytes: Vec<u8>,
        download_dir: Option<&str>,
        paused: bool,
    ) -> Result<TorrentSummary, ClientError> {
        let mut query = Vec::new();
        if let Some(dir) = download_dir {
            query.push(("download_dir", dir.to_string()));
        }
        if paused {
            query.push(("paused", "true".to_string()));
        }
        self.call(
            Method::POST,
            "/api/v1/torrents",
            &query,
            Some(("application/x-bittorrent", bytes)),
        )
        .await
    }

    /// Pauses a torrent.
    pub async fn pause(&self, id: &str) -> Result<TorrentSummary, ClientError> {
        self.call(Method::POST, &Self::torrent_path(id, "/pause"), &[], None).await
    }

    /// Resumes a torrent.
    pub async fn resume(&self, id: &str) -> Result<TorrentSummary, ClientError> {
        self.call(Method::POST, &Self::torrent_path(id, "/resume"), &[], None).await
    }

    /// Starts a recheck.
    pub async fn recheck(&self, id: &str) -> Result<TorrentSummary, ClientError> {
        self.call(Method::POST, &Self::torrent_path(id, "/recheck"), &[], None).await
    }

    /// Removes a torrent, optionally with its data.
    pub async fn remove(&self, id: &str, delete_data: bool) -> Result<(), ClientError> {
        let query = [("delete_data", delete_data.to_string())];
        self.call::<serde_json::Value>(Method::DELETE, &Self::torrent_path(id, ""), &query, None)
            .await
            .map(|_| ())
    }

    /// Sets file priorities.
    pub async fn set_priorities(
        &self,
        id: &str,
        priorities: Vec<u8>,
    ) -> Result<TorrentSummary, ClientError> {
        let body = Self::json(&crate::model::PrioritiesRequest { priorities });
        self.call(Method::PUT, &Self::torrent_path(id, "/files"), &[], body).await
    }

    /// Sets a torrent's caps.
    pub async fn set_limits(
        &self,
        id: &str,
        limits: Limits,
    ) -> Result<TorrentSummary, ClientError> {
        self.call(Method::PUT, &Self::torrent_path(id, "/limits"), &[], Self::json(&limits)).await
    }

    /// Session totals.
    pub async fn session(&self) -> Result<SessionView, ClientError> {
        self.call(Method::GET, "/api/v1/session", &[], None).await
    }

    /// Sets the session caps.
    pub async fn set_session_limits(&self, limits: Limits) -> Result<Limits, ClientError> {
        self.call(Method::PUT, "/api/v1/session/limits", &[], Self::json(&limits)).await
    }
}
