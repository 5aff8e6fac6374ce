//! The web UI's place in the daemon's HTTP server.
//!
//! The UI will be static assets served from `/` (the API stays under `/api/v1`). Until
//! then `/` answers with a short page pointing at the API. To serve the real UI, replace
//! [`router`]'s routes with an asset service; it sits behind the same access checks.

use crate::api::AppState;
use axum::response::Html;
use axum::routing::get;
use axum::Router;

/// Routes for `/` and the UI's assets.
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(index))
}

async fn index() -> Html<&'static str> {
    Html(concat!(
        "<!doctype html><meta charset=utf-8><title>ferrent</title>",
        "<h1>ferrent daemon</h1><p>The web interface is not part of this build. ",
        "The API is described at <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>; ",
        "metrics are at <a href=\"/metrics\">/metrics</a>.</p>"
    ))
}
