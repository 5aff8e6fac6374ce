//! The checks every request passes before a handler runs:
//!
//! 1. **Host** must be `localhost`, an IP address, or a configured name: a page whose
//!    name was rebound to this machine's address (DNS rebinding) gets `421`.
//! 2. **Origin**, when a browser sends one, must be this very host: other web pages get
//!    `403`, even for the requests browsers send without asking (no CORS is offered at
//!    all, so they cannot read answers either).
//! 3. **Token**: `Authorization: Bearer <token>` is required for requests from other
//!    machines, or for all with `require_token = "always"`; else `401`. One exception:
//!    a file's stream link may carry a signature instead (`?sig=`, an HMAC of the torrent
//!    and file under the token), because media players and `<video>` elements cannot send
//!    headers. The signature opens that one file's stream and nothing else; a new token
//!    voids every link made under the old one.

use super::error::ApiError;
use super::{AppState, API_PREFIX};
use crate::config::{ApiConfig, TokenPolicy};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ring::hmac;
use std::net::{IpAddr, SocketAddr};

/// The API's access rules.
#[derive(Debug, Clone)]
pub struct Security {
    token: String,
    /// Signs stream links; keyed by the token.
    stream_key: hmac::Key,
    policy: TokenPolicy,
    allowed_hosts: Vec<String>,
}

impl Security {
    /// Rules from the API settings and the token.
    pub fn new(config: &ApiConfig, token: String) -> Self {
        let allowed_hosts = config
            .allowed_hosts
            .iter()
            .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
            .collect();
        let stream_key = hmac::Key::new(hmac::HMAC_SHA256, token.as_bytes());
        Self { token, stream_key, policy: config.require_token, allowed_hosts }
    }

    /// A link (path and query) that streams file `index` of torrent `id` without the
    /// token; `id` exactly as the path will carry it.
    pub fn stream_link(&self, id: &str, index: usize) -> String {
        let index = index.to_string();
        let tag = hmac::sign(&self.stream_key, &stream_message(id, &index));
        let sig = hex::encode(tag.as_ref());
        format!("{API_PREFIX}/torrents/{id}/files/{index}/stream?sig={sig}")
    }

    /// Whether `uri` is a stream link whose signature is right for its torrent and file.
    pub fn stream_link_signed(&self, uri: &Uri) -> bool {
        let path = uri.path().strip_prefix(API_PREFIX).and_then(|p| p.strip_prefix("/torrents/"));
        let Some(rest) = path else { return false };
        let mut parts = rest.split('/');
        let (Some(id), Some("files"), Some(index), Some("stream"), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let Some(tag) = uri
            .query()
            .and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("sig=")))
            .and_then(|sig| hex::decode(sig).ok())
        else {
            return false;
        };
        hmac::verify(&self.stream_key, &stream_message(id, index), &tag).is_ok()
    }

    /// Whether a `Host` header value (with or without port) names this server.
    pub fn host_allowed(&self, host: &str) -> bool {
        let name = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
        name.parse::<IpAddr>().is_ok() || name == "localhost" || self.allowed_hosts.contains(&name)
    }

    /// Whether a request from `peer` must present the token.
    pub fn token_required(&self, peer: Option<SocketAddr>) -> bool {
        let loopback = peer.is_some_and(|p| match p.ip() {
            IpAddr::V4(v4) => v4.is_loopback(),
            IpAddr::V6(v6) => {
                v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
        });
        self.policy == TokenPolicy::Always || !loopback
    }

    /// Whether the headers carry the right token (compared in constant time).
    pub fn token_presented(&self, headers: &HeaderMap) -> bool {
        let Some(given) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return false;
        };
        let (a, b) = (given.trim().as_bytes(), self.token.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// Checks a request for `uri`; `Err` is the answer to send instead.
    pub fn check(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
        peer: Option<SocketAddr>,
    ) -> Result<(), ApiError> {
        let authority = uri.authority().map(|a| a.as_str());
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).or(authority);
        let Some(host) = host.filter(|h| self.host_allowed(h)) else {
            let shown = host.unwrap_or("(none)");
            return Err(ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                "host_not_allowed",
                format!(
                    "Host {shown:?} is not one of this server's names; add it to api.allowed_hosts"
                ),
            ));
        };
        if let Some(origin) = headers.get(header::ORIGIN) {
            let same = origin
                .to_str()
                .ok()
                .and_then(origin_authority)
                .is_some_and(|a| a.eq_ignore_ascii_case(host));
            if !same {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "cross_origin",
                    "requests from other web origins are refused",
                ));
            }
        }
        if self.token_required(peer)
            && !self.token_presented(headers)
            && !self.stream_link_signed(uri)
        {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this request needs the API token: Authorization: Bearer <token>",
            ));
        }
        Ok(())
    }
}

/// The middleware applying [`Security::check`].
pub(crate) async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    match state.security.check(request.headers(), request.uri(), peer) {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// What a stream link's signature covers: the torrent id and file index as the path
/// carries them.
fn stream_message(id: &str, index: &str) -> Vec<u8> {
    format!("ferrent stream link\0{id}\0{index}").into_bytes()
}

/// `host[:port]` without the port; IPv6 literals keep no brackets.
fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) && !name.contains(':') => {
            name
        }
        _ => host,
    }
}

/// `scheme://host[:port]` → `host[:port]`, as the browser would send it in `Host`.
fn origin_authority(origin: &str) -> Option<&str> {
    let (scheme, rest) = origin.split_once("://")?;
    (matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains('/')).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn security(policy: TokenPolicy) -> Security {
        let config = ApiConfig {
            require_token: policy,
            allowed_hosts: vec!["Seedbox.LAN.".into()],
            ..ApiConfig::default()
        };
        Security::new(&config, "t0ken".into())
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    const LOCAL: Option<SocketAddr> =
        Some(SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 5000));

    #[test]
    fn hosts() {
        let s = security(TokenPolicy::Remote);
        for ok in [
            "localhost",
            "localhost:6880",
            "127.0.0.1:1",
            "[::1]:6880",
            "::1",
            "10.0.0.2",
            "seedbox.lan",
            "SEEDBOX.lan:80",
        ] {
            assert!(s.host_allowed(ok), "{ok} refused");
        }
        for bad in
            ["evil.example", "evil.example:6880", "localhost.evil.example", "127.0.0.1.nip.io", ""]
        {
            assert!(!s.host_allowed(bad), "{bad} allowed");
        }
    }

    #[test]
    fn token_rules() {
        let remote = Some("192.0.2.7:4000".parse().unwrap());
        let mapped = Some("[::ffff:127.0.0.1]:4000".parse().unwrap());
        let s = security(TokenPolicy::Remote);
        assert!(!s.token_required(LOCAL));
        assert!(!s.token_required(mapped));
        assert!(s.token_required(remote));
        assert!(s.token_required(None), "an unknown peer is not trusted");
        assert!(security(TokenPolicy::Always).token_required(LOCAL));
        assert!(s.token_presented(&headers(&[("authorization", "Bearer t0ken")])));
        assert!(!s.token_presented(&headers(&[("authorization", "Bearer t0ke")])));
        assert!(!s.token_presented(&headers(&[("authorization", "t0ken")])));
    }

    #[test]
    fn checks_in_order() {
        let s = security(TokenPolicy::Remote);
        let remote = Some("192.0.2.7:4000".parse().unwrap());
        let uri = Uri::from_static("/api/v1/torrents");
        let status = |h: &HeaderMap, peer| s.check(h, &uri, peer).err().map(|e| e.status.as_u16());
        assert_eq!(status(&headers(&[("host", "127.0.0.1:6880")]), LOCAL), None);
        assert_eq!(status(&headers(&[("host", "attacker.example")]), LOCAL), Some(421));
        assert_eq!(status(&headers(&[]), LOCAL), Some(421));
        let cross = headers(&[("host", "127.0.0.1:6880"), ("origin", "http://attacker.example")]);
        assert_eq!(status(&cross, LOCAL), Some(403));
        let ip_page = headers(&[("host", "127.0.0.1:6880"), ("origin", "http://192.0.2.9:6880")]);
        assert_eq!(status(&ip_page, LOCAL), Some(403));
        let same = headers(&[("host", "127.0.0.1:6880"), ("origin", "http://127.0.0.1:6880")]);
        assert_eq!(status(&same, LOCAL), None);
        assert_eq!(status(&headers(&[("host", "seedbox.lan")]), remote), Some(401));
        let with_token = headers(&[("host", "seedbox.lan"), ("authorization", "Bearer t0ken")]);
        assert_eq!(status(&with_token, remote), None);
    }

    #[test]
    fn stream_links_open_their_own_file_only() {
        let s = security(TokenPolicy::Always);
        let id = "aa".repeat(20);
        let link: Uri = s.stream_link(&id, 3).parse().unwrap();
        assert!(s.stream_link_signed(&link));
        let bad = |text: String| !s.stream_link_signed(&text.parse().unwrap());
        let sig = link.query().unwrap().strip_prefix("sig=").unwrap().to_owned();
        assert!(bad(link.path().to_owned()), "no signature");
        assert!(bad(format!("{}?sig={}", link.path(), &sig[2..])), "a cut signature");
        assert!(bad(format!("/api/v1/torrents/{id}/files/4/stream?sig={sig}")), "another file");
        let other = "bb".repeat(20);
        assert!(
            bad(format!("/api/v1/torrents/{other}/files/3/stream?sig={sig}")),
            "another torrent"
        );
        assert!(bad(format!("/api/v1/torrents/{id}?sig={sig}")), "another route");
        assert!(bad(format!("/api/v1/torrents/{id}/files/3/stream/x?sig={sig}")), "a longer path");
        let rekeyed = Security::new(&ApiConfig::default(), "another token".into());
        assert!(!rekeyed.stream_link_signed(&link), "a link outlived its token");
        let headers = headers(&[("host", "seedbox.lan")]);
        let remote = Some("192.0.2.7:4000".parse().unwrap());
        assert!(s.check(&headers, &link, remote).is_ok());
        let plain = Uri::from_static("/api/v1/torrents");
        assert_eq!(s.check(&headers, &plain, remote).unwrap_err().status.as_u16(), 401);
    }
}
