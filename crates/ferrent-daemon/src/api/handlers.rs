//! Route handlers: decode the request, call the [`crate::daemon::Daemon`], encode the answer.

use super::error::{ApiError, JsonBody, PathArg, QueryArgs, RawBody};
use super::AppState;
use crate::daemon::{AddOptions, AddSource};
use crate::model::{
    AddRequest, Limits, PrioritiesRequest, SessionView, State, TorrentDetails, TorrentSummary,
};
use axum::extract::State as Shared;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use data_encoding::BASE64;
use serde::Deserialize;
use std::net::SocketAddr;

/// The media type of .torrent files.
pub(crate) const TORRENT_MEDIA_TYPE: &str = "application/x-bittorrent";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    state: Option<State>,
}

pub(crate) async fn list(
    Shared(s): Shared<AppState>,
    QueryArgs(q): QueryArgs<ListQuery>,
) -> Json<Vec<TorrentSummary>> {
    Json(s.daemon.list(q.state))
}

/// Query parameters of a raw .torrent upload.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct UploadQuery {
    download_dir: Option<String>,
    paused: bool,
}

pub(crate) async fn add(
    Shared(s): Shared<AppState>,
    QueryArgs(query): QueryArgs<UploadQuery>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let media = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = media.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let (source, options) = match media.as_str() {
        TORRENT_MEDIA_TYPE => {
            let options = AddOptions {
                download_dir: query.download_dir,
                paused: query.paused,
                ..AddOptions::default()
            };
            (AddSource::Torrent(body.to_vec()), options)
        }
        "application/json" => {
            if query.download_dir.is_some() || query.paused {
                let message = "with a JSON body, give download_dir and paused in the body";
                return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message));
            }
            json_add(&body)?
        }
        _ => {
            let message = format!("send application/json or {TORRENT_MEDIA_TYPE}, not {media:?}");
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                message,
            ));
        }
    };
    let summary = s.daemon.add(source, options).await?;
    let location = format!("{}/torrents/{}", super::API_PREFIX, summary.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(summary)).into_response())
}

fn json_add(body: &[u8]) -> Result<(AddSource, AddOptions), ApiError> {
    let request: AddRequest = serde_json::from_slice(body).map_err(|e| {
        let status =
            if e.is_data() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::BAD_REQUEST };
        let code = if e.is_data() { "invalid_body" } else { "bad_request" };
        ApiError::new(status, code, format!("invalid JSON body: {e}"))
    })?;
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message);
    let source = match (request.torrent, request.magnet, request.url) {
        (Some(b64), None, None) => AddSource::Torrent(
            BASE64
                .decode(b64.trim().as_bytes())
                .map_err(|e| bad(format!("torrent: not base64: {e}")))?,
        ),
        (None, Some(magnet), None) => AddSource::Magnet(magnet),
        (None, None, Some(url)) => AddSource::Url(url),
        _ => return Err(bad("give exactly one of torrent, magnet and url".into())),
    };
    let peers = request
        .peers
        .iter()
        .map(|p| p.parse::<SocketAddr>().map_err(|_| bad(format!("peers: {p:?} is not ip:port"))))
        .collect::<Result<Vec<_>, _>>()?;
    let options = AddOptions {
        download_dir: request.download_dir,
        paused: request.paused,
        file_priorities: request.file_priorities,
        peers,
        upload_limit: request.upload_limit,
        download_limit: request.download_limit,
    };
    Ok((source, options))
}

pub(crate) async fn details(
    Shared(s): Shared<AppState>,
    PathArg(id): PathArg<String>,
) -> Result<Json<TorrentDetails>, ApiError> {
    let mut details = s.daemon.details(&id)?;
    let id = &details.summary.id;
    for (position, file) in details.files.iter_mut().enumerate() {
        file.stream_url = Some(s.security.stream_link(id, position));
    }
    Ok(Json(details))
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct RemoveQuery {
    delete_data: bool,
}

pub(crate) async fn remove(
    Shared(s): Shared<AppState>,
    PathArg(id): PathArg<String>,
    QueryArgs(q): QueryArgs<RemoveQuery>,
) -> Result<StatusCode, ApiError> {
    s.daemon.remove(&id, q.delete_data).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn pause(
    Shared(s): Shared<AppState>,
    PathArg(id): PathArg<String>,
) -> Result<Json<TorrentSummary>, ApiError> {
    Ok(Json(s.daemon.pause(&id).await?))
}

pub(crate) async fn resume(
    Shared(s): Shared<AppState>,
    PathArg(id): PathArg<String>,
) -> Result<Json<TorrentSummary>, ApiError> {
    Ok(Json(s.daemon.resume(&id).await?))
}

pub(crate) async fn recheck(
    Shared(s): Shared<AppState>,
    PathArg(id): PathArg<String>,
) -> Result<(StatusCode, Json<TorrentSummary>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(s.daemon.recheck(&id).await?)))
}

pub(crate) async fn set_priorities(
    Shared(s): Shared<AppState>,
    PathArg(id): PathArg<String>,
    JsonBody(body): JsonBody<PrioritiesRequest>,
) -> Result<Json<TorrentSummary>, ApiError> {
    Ok(Json(s.daemon.set_file_priorities(&id, body.priorities).await?))
}

pub(crate) async fn set_limits(
    Shared(s): Shared<AppState>,
    PathArg(id): PathArg<String>,
    JsonBody(limits): JsonBody<Limits>,
) -> Result<Json<TorrentSummary>, ApiError> {
    Ok(Json(s.daemon.set_limits(&id, limits).await?))
}

pub(crate) async fn session(Shared(s): Shared<AppState>) -> Json<SessionView> {
    Json(s.daemon.session_view())
}

pub(crate) async fn set_session_limits(
    Shared(s): Shared<AppState>,
    JsonBody(limits): JsonBody<Limits>,
) -> Result<Json<Limits>, ApiError> {
    Ok(Json(s.daemon.set_global_limits(limits).await?))
}

pub(crate) async fn openapi() -> Json<serde_json::Value> {
    Json(super::openapi::document())
}

pub(crate) async fn metrics(Shared(s): Shared<AppState>) -> Response {
    let body = crate::metrics::render(&s.daemon);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}
