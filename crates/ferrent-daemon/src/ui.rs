//! The web UI, served at `/`: one page of plain HTML, CSS and JavaScript modules from
//! `assets/` (no framework and no build step), embedded in the binary so that it works
//! offline and always matches the daemon it comes with.
//!
//! The files hold no secrets, so they are served without the API token: a browser on
//! another machine can load the page, which then asks for the token when the API
//! answers `401`. The `Host` check against DNS rebinding applies to them as to the API.
//! Every answer carries a strict Content-Security-Policy (only this origin's scripts,
//! styles, media and connections; no inline code, no frames) and an entity tag.

use crate::api::{ApiError, AppState};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// One embedded file of the UI.
#[derive(Debug)]
pub struct Asset {
    /// Where it is served.
    pub path: &'static str,
    /// Its `Content-Type`.
    pub media_type: &'static str,
    /// Its bytes.
    pub body: &'static [u8],
}

macro_rules! asset {
    ($file:literal, $media:expr) => {
        asset!(concat!("/", $file), $file, $media)
    };
    ($path:expr, $file:literal, $media:expr) => {
        Asset {
            path: $path,
            media_type: $media,
            body: include_bytes!(concat!("../assets/", $file)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the UI.
pub const ASSETS: &[Asset] = &[
    asset!("/", "index.html", "text/html; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("js/app.js", JS),
    asset!("js/api.js", JS),
    asset!("js/detail.js", JS),
    asset!("js/dialogs.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/files.js", JS),
    asset!("js/format.js", JS),
    asset!("js/piecemap.js", JS),
    asset!("js/table.js", JS),
];

/// The policy every UI answer carries: this origin only, nothing inline, no frames.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; media-src 'self'; connect-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Routes for `/` and the UI's files. Merge it outside the API's token check (the
/// files are public); it checks `Host` itself.
pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for (index, asset) in ASSETS.iter().enumerate() {
        let handler = move |State(state): State<AppState>, headers: HeaderMap| async move {
            serve(&state, &headers, index)
        };
        router = router.route(asset.path, get(handler));
    }
    router
}

/// Strong entity tags of [`ASSETS`], in order (a digest of each body).
fn entity_tags() -> &'static [String] {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| format!("\"{}\"", hex::encode(&Sha256::digest(a.body)[..12])))
            .collect()
    })
}

fn serve(state: &AppState, headers: &HeaderMap, index: usize) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if !host.is_some_and(|h| state.security.host_allowed(h)) {
        let message = format!(
            "Host {:?} is not one of this server's names; add it to api.allowed_hosts",
            host.unwrap_or("(none)")
        );
        return ApiError::new(StatusCode::MISDIRECTED_REQUEST, "host_not_allowed", message)
            .into_response();
    }
    let (Some(asset), Some(tag)) = (ASSETS.get(index), entity_tags().get(index)) else {
        return ApiError::new(StatusCode::NOT_FOUND, "no_route", "nothing here").into_response();
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut response =
        if fresh { StatusCode::NOT_MODIFIED.into_response() } else { asset.body.into_response() };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.media_type));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(tag) {
        h.insert(header::ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(path: &str) -> &'static str {
        let asset = ASSETS.iter().find(|a| a.path == path).expect(path);
        std::str::from_utf8(asset.body).expect("assets are UTF-8")
    }

    /// Every local file the page or a module refers to is served, and every served
    /// module is used: a renamed file cannot go unnoticed.
    #[test]
    fn references_resolve() {
        let served: Vec<&str> = ASSETS.iter().map(|a| a.path).collect();
        let index = text("/");
        for needed in ["/app.css", "/js/app.js", "/favicon.svg"] {
            assert!(index.contains(&format!("\"{needed}\"")), "index.html does not load {needed}");
        }
        let mut imported = vec!["/js/app.js".to_string()];
        for asset in ASSETS.iter().filter(|a| a.path.starts_with("/js/")) {
            for line in text(asset.path).lines() {
                let Some(rest) = line.split(" from './").nth(1) else { continue };
                let Some(name) = rest.split('\'').next() else { continue };
                let path = format!("/js/{name}");
                assert!(
                    served.contains(&path.as_str()),
                    "{} imports {path}, not served",
                    asset.path
                );
                imported.push(path);
            }
        }
        for asset in ASSETS.iter().filter(|a| a.path.starts_with("/js/")) {
            assert!(imported.iter().any(|p| p == asset.path), "{} is never imported", asset.path);
        }
    }

    /// Nothing the policy would block: no inline scripts, styles or handlers, nothing
    /// loaded from another origin.
    #[test]
    fn pages_fit_the_policy() {
        let index = text("/");
        assert!(!index.contains("<script>") && !index.contains("<style"), "inline code in index");
        assert!(!index.contains(" style=\""), "inline style attribute in index");
        let handler = index.split(" on").skip(1).find(|rest| {
            let name: String = rest.chars().take_while(|c| c.is_ascii_lowercase()).collect();
            !name.is_empty() && rest[name.len()..].starts_with('=')
        });
        assert!(handler.is_none(), "inline event handler in index: on{handler:?}");
        for asset in ASSETS {
            let body = std::str::from_utf8(asset.body).unwrap();
            for far in ["src=\"http", "href=\"http", "url(http", "url(//", "@import", "from 'http"]
            {
                assert!(!body.contains(far), "{} loads {far}...", asset.path);
            }
        }
        assert!(index.contains("/api/v1/openapi.json"), "the page links the API description");
    }

    #[test]
    fn tags_differ_per_file() {
        let tags = entity_tags();
        assert_eq!(tags.len(), ASSETS.len());
        let mut unique = tags.to_vec();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), tags.len());
    }
}
