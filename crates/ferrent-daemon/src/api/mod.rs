//! The HTTP API: JSON under `/api/v1`, Prometheus text at `/metrics`, and the place of
//! the web UI at `/` ([`crate::ui`]).
//!
//! Every route is listed once in `api_routes`; the router is built from that table and
//! [`route_table`] exposes it so that tests can hold the OpenAPI document
//! ([`openapi::document`]) against it.

mod error;
mod events;
pub mod guard;
mod handlers;
pub mod openapi;
mod stream;

pub use error::ApiError;
pub use guard::Security;

use crate::daemon::Daemon;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put, MethodRouter};
use axum::Router;
use std::sync::Arc;
use tokio::sync::watch;

/// The prefix of every JSON route.
pub const API_PREFIX: &str = "/api/v1";

/// Largest body accepted by routes other than adding a torrent.
const SMALL_BODY: usize = 64 * 1024;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The daemon.
    pub daemon: Daemon,
    /// Access rules.
    pub security: Arc<Security>,
    /// Becomes `true` when the server shuts down (ends event streams).
    pub closing: watch::Receiver<bool>,
}

/// One API route: method, path under [`API_PREFIX`], handler.
struct ApiRoute {
    method: Method,
    path: &'static str,
    handler: MethodRouter<AppState>,
}

fn api_routes(max_body: usize) -> Vec<ApiRoute> {
    let route = |method, path, handler| ApiRoute { method, path, handler };
    vec![
        route(Method::GET, "/torrents", get(handlers::list)),
        route(
            Method::POST,
            "/torrents",
            post(handlers::add).layer(DefaultBodyLimit::max(max_body)),
        ),
        route(Method::GET, "/torrents/{id}", get(handlers::details)),
        route(Method::DELETE, "/torrents/{id}", delete(handlers::remove)),
        route(Method::POST, "/torrents/{id}/pause", post(handlers::pause)),
        route(Method::POST, "/torrents/{id}/resume", post(handlers::resume)),
        route(Method::POST, "/torrents/{id}/recheck", post(handlers::recheck)),
        route(Method::PUT, "/torrents/{id}/files", put(handlers::set_priorities)),
        route(Method::PUT, "/torrents/{id}/limits", put(handlers::set_limits)),
        route(Method::GET, "/torrents/{id}/files/{index}/stream", get(stream::stream)),
        route(Method::GET, "/session", get(handlers::session)),
        route(Method::PUT, "/session/limits", put(handlers::set_session_limits)),
        route(Method::GET, "/events", get(events::stream)),
        route(Method::GET, "/openapi.json", get(handlers::openapi)),
    ]
}

/// Every route the server answers, as (method, full path) with `{param}` placeholders,
/// the web UI's aside.
pub fn route_table() -> Vec<(Method, String)> {
    let mut table: Vec<(Method, String)> = api_routes(SMALL_BODY)
        .into_iter()
        .map(|r| (r.method, format!("{API_PREFIX}{}", r.path)))
        .collect();
    table.push((Method::GET, "/metrics".to_string()));
    table
}

/// The whole application: API, metrics and UI, behind the [`guard`].
pub fn router(state: AppState) -> Router {
    let max_body = usize::try_from(state.daemon.config().api.max_body).unwrap_or(usize::MAX);
    let mut api = Router::new();
    for route in api_routes(max_body) {
        api = api.route(route.path, route.handler);
    }
    let api = api
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "no_route", "no such API route")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        });
    Router::new()
        .nest(API_PREFIX, api)
        .route("/metrics", get(handlers::metrics))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no_route", "nothing here") })
        .layer(DefaultBodyLimit::max(SMALL_BODY))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::guard))
        // After the guard: the UI's files are public (they check Host themselves).
        .merge(crate::ui::router())
        .with_state(state)
}
