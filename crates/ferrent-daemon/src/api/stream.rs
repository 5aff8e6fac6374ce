//! `GET /api/v1/torrents/{id}/files/{index}/stream`: one file of a torrent over HTTP,
//! while it downloads, so that a media player can start before the download ends.
//!
//! The body is read through the session's [`ferrent_session::TorrentReader`], which waits
//! for the pieces under the read position and fetches them (and a window after them)
//! before everything else. Single byte ranges are honoured (`206` with `Content-Range`;
//! `416` when none of the file is in range); anything else gets the whole file. The
//! entity tag is the info hash and file index: the torrent's hashes fix the bytes, so it
//! is a strong validator and `If-Range` works with it.
//!
//! File contents come from strangers, so they are never served as something a browser
//! would run on this origin: the media type comes from a fixed list of inert types, the
//! response forbids sniffing and carries a sandboxing CSP.

use super::error::{ApiError, PathArg};
use super::AppState;
use axum::body::{Body, Bytes};
use axum::extract::State as Shared;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ferrent_session::TorrentReader;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Which bytes of a file a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ByteRange {
    /// The whole file (no `Range`, one this server ignores, or a failed `If-Range`).
    Full,
    /// Bytes `start..=end`, both inside the file.
    Part {
        /// First byte.
        start: u64,
        /// Last byte (inclusive).
        end: u64,
    },
    /// A well-formed range that lies wholly past the end of the file.
    Unsatisfiable,
}

/// Reads a `Range` header value against a file of `len` bytes (RFC 9110 §14). Only one
/// `bytes` range is served; several ranges, other units and malformed values are
/// ignored, which the RFC allows (the whole file is sent).
pub(crate) fn parse_range(value: &str, len: u64) -> ByteRange {
    let value = value.trim();
    let Some(spec) = value
        .get(..6)
        .filter(|unit| unit.eq_ignore_ascii_case("bytes="))
        .and_then(|_| value.get(6..))
    else {
        return ByteRange::Full;
    };
    if spec.contains(',') {
        return ByteRange::Full;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return ByteRange::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let number = |text: &str| -> Option<u64> {
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok())
            .flatten()
    };
    if first.is_empty() {
        // `-n`: the last n bytes.
        return match number(last) {
            None => ByteRange::Full,
            Some(0) => ByteRange::Unsatisfiable,
            Some(_) if len == 0 => ByteRange::Unsatisfiable,
            Some(suffix) => ByteRange::Part { start: len.saturating_sub(suffix), end: len - 1 },
        };
    }
    // `a-` or `a-b`.
    let Some(start) = number(first) else {
        return ByteRange::Full;
    };
    let last = match (last.is_empty(), number(last)) {
        (true, _) => None,
        (false, Some(last)) if last >= start => Some(last),
        (false, _) => return ByteRange::Full,
    };
    if start >= len {
        return ByteRange::Unsatisfiable;
    }
    ByteRange::Part { start, end: last.map_or(len - 1, |last| last.min(len - 1)) }
}

/// The media type served for a file, by its extension: media, subtitles, images and
/// documents that browsers show without running anything; everything else is
/// `application/octet-stream`.
pub(crate) fn media_type(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "mp4" | "m4v" => "video/mp4",
        "mkv" => "video/x-matroska",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "avi" => "video/x-msvideo",
        "ts" | "m2ts" => "video/mp2t",
        "ogv" => "video/ogg",
        "mpg" | "mpeg" => "video/mpeg",
        "mp3" => "audio/mpeg",
        "m4a" | "m4b" => "audio/mp4",
        "aac" => "audio/aac",
        "flac" => "audio/flac",
        "ogg" | "oga" => "audio/ogg",
        "opus" => "audio/opus",
        "wav" => "audio/wav",
        "vtt" => "text/vtt; charset=utf-8",
        "srt" => "application/x-subrip",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "txt" | "nfo" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Characters left as they are in `filename*=UTF-8''...` (RFC 8187 attr-char).
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// The stream's entity tag: the torrent's bytes are fixed by its info hash.
fn entity_tag(id: &str, index: usize) -> String {
    format!("\"{id}-{index}\"")
}

pub(crate) async fn stream(
    Shared(s): Shared<AppState>,
    PathArg((id, index)): PathArg<(String, usize)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (reader, paths) = s.daemon.reader(&id)?;
    let id = id.to_ascii_lowercase();
    let (Some(path), Some(len)) = (paths.get(index), reader.file_len(index)) else {
        let message = format!("torrent {id} has no file {index} (it has {} files)", paths.len());
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", message));
    };
    let etag = entity_tag(&id, index);
    let range_value = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let if_range_ok = headers.get(header::IF_RANGE).is_none_or(|v| v.as_bytes() == etag.as_bytes());
    let range = match range_value {
        Some(value) if if_range_ok => parse_range(value, len),
        _ => ByteRange::Full,
    };
    let (status, start, end_excl) = match range {
        ByteRange::Full => (StatusCode::OK, 0, len),
        ByteRange::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end + 1),
        ByteRange::Unsatisfiable => {
            let mut response = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!(
                    "Range {:?}: file {index} has {len} bytes",
                    range_value.unwrap_or_default()
                ),
            )
            .into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_RANGE, value(&format!("bytes */{len}")));
            headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            return Ok(response);
        }
    };
    let name = path.rsplit('/').next().unwrap_or(path);
    let mut response = Response::new(body(reader, index, start, end_excl));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type(path)));
    h.insert(header::CONTENT_LENGTH, value(&(end_excl - start).to_string()));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::ETAG, value(&etag));
    h.insert(
        header::CONTENT_DISPOSITION,
        value(&format!("inline; filename*=UTF-8''{}", utf8_percent_encode(name, ATTR_CHAR))),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    if status == StatusCode::PARTIAL_CONTENT {
        h.insert(header::CONTENT_RANGE, value(&format!("bytes {start}-{}/{len}", end_excl - 1)));
    }
    Ok(response)
}

/// A header value from text made here (ASCII by construction).
fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The bytes `start..end` of file `index`, read piece by piece as they arrive.
fn body(reader: TorrentReader, index: usize, start: u64, end: u64) -> Body {
    let chunks =
        futures_util::stream::try_unfold((reader, start), move |(reader, at)| async move {
            if at >= end {
                return Ok(None);
            }
            let want = usize::try_from(end - at).unwrap_or(usize::MAX);
            let chunk: Bytes = reader.read(index, at, want).await?;
            if chunk.is_empty() {
                let message = format!("file {index} ended at byte {at}, before byte {end}");
                return Err(ferrent_session::SessionError::Task(message));
            }
            let next = at + chunk.len() as u64;
            Ok(Some((chunk, (reader, next))))
        });
    Body::from_stream(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let part = |start, end| ByteRange::Part { start, end };
        let cases: &[(&str, u64, ByteRange)] = &[
            ("bytes=0-99", 1000, part(0, 99)),
            ("bytes=0-0", 1000, part(0, 0)),
            ("BYTES = 5-", 1000, ByteRange::Full),
            ("Bytes=500-", 1000, part(500, 999)),
            ("bytes= 10 - 20 ", 1000, part(10, 20)),
            ("bytes=900-5000", 1000, part(900, 999)),
            ("bytes=-100", 1000, part(900, 999)),
            ("bytes=-5000", 1000, part(0, 999)),
            ("bytes=999-", 1000, part(999, 999)),
            ("bytes=1000-", 1000, ByteRange::Unsatisfiable),
            ("bytes=1000-2000", 1000, ByteRange::Unsatisfiable),
            ("bytes=-0", 1000, ByteRange::Unsatisfiable),
            ("bytes=0-", 0, ByteRange::Unsatisfiable),
            ("bytes=-1", 0, ByteRange::Unsatisfiable),
            ("bytes=20-10", 1000, ByteRange::Full),
            ("bytes=0-1,5-6", 1000, ByteRange::Full),
            ("items=0-1", 1000, ByteRange::Full),
            ("bytes=a-b", 1000, ByteRange::Full),
            ("bytes=-", 1000, ByteRange::Full),
            ("bytes=+5-9", 1000, ByteRange::Full),
            ("bytes=99999999999999999999999-", 1000, ByteRange::Full),
            ("bytes=18446744073709551615-", u64::MAX, ByteRange::Unsatisfiable),
            ("bytes=5", 1000, ByteRange::Full),
            ("", 1000, ByteRange::Full),
            ("bytés=0-1", 1000, ByteRange::Full),
        ];
        for (header, len, want) in cases {
            assert_eq!(parse_range(header, *len), *want, "{header:?} of {len}");
        }
    }

    #[test]
    fn media_types() {
        assert_eq!(media_type("Show/S01E01.MKV"), "video/x-matroska");
        assert_eq!(media_type("a.b/track.flac"), "audio/flac");
        assert_eq!(media_type("movie.mp4"), "video/mp4");
        for inert in ["index.html", "x.svg", "page.htm", "a.js", "noext", "dir.mp4/file", ".mp3x"] {
            assert_eq!(media_type(inert), "application/octet-stream", "{inert}");
        }
    }

    #[test]
    fn filenames_are_encoded() {
        let encoded = utf8_percent_encode("Ünïcode name (1).mkv", ATTR_CHAR).to_string();
        assert_eq!(encoded, "%C3%9Cn%C3%AFcode%20name%20%281%29.mkv");
        assert!(value(&format!("inline; filename*=UTF-8''{encoded}")).to_str().is_ok());
    }
}
