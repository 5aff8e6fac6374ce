//! The OpenAPI 3.1 description served at `/api/v1/openapi.json`. Written by hand; a test
//! holds its operations against [`super::route_table`] and sends every one of them to a
//! live router.

use serde_json::{json, Value};

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn id_param() -> Value {
    json!({
        "name": "id", "in": "path", "required": true,
        "description": "The torrent's v1 info hash (40 hex digits or 32 base32 characters).",
        "schema": {"type": "string"}
    })
}

/// A per-torrent operation: the common parameters and error answers, plus `extra`.
fn torrent_op(summary: &str, extra: Value) -> Value {
    let mut op = json!({
        "summary": summary,
        "parameters": [id_param()],
        "responses": {
            "400": error("Malformed id or body."),
            "404": error("No such torrent."),
        }
    });
    merge(&mut op, extra);
    op
}

fn merge(target: &mut Value, extra: Value) {
    match (target, extra) {
        (Value::Object(t), Value::Object(e)) => {
            for (k, v) in e {
                merge(t.entry(k).or_insert(Value::Null), v);
            }
        }
        (t, e) => *t = e,
    }
}

/// The document.
pub fn document() -> Value {
    let summary_ok = ok("The torrent after the change.", schema("TorrentSummary"));
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ferrent daemon API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Controls a running `ferrent daemon`. Requests from other machines (or all, with require_token = \"always\") need `Authorization: Bearer <token>`; the token is in <state_dir>/api-token. The Host header must name this server. Errors are JSON objects {\"error\": {\"code\", \"message\"}}."
        },
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "responses": {},
            "schemas": schemas()
        },
        "security": [{"token": []}, {}],
        "paths": {
            "/api/v1/torrents": {
                "get": {
                    "summary": "List torrents.",
                    "parameters": [{"name": "state", "in": "query", "required": false, "schema": schema("State")}],
                    "responses": {
                        "200": ok("Every torrent, by id.", json!({"type": "array", "items": schema("TorrentSummary")})),
                        "400": error("Unknown state or parameter.")
                    }
                },
                "post": {
                    "summary": "Add a torrent: a JSON body with one of torrent (base64), magnet or url, or the raw .torrent as application/x-bittorrent.",
                    "parameters": [
                        {"name": "download_dir", "in": "query", "required": false, "description": "Raw uploads only.", "schema": {"type": "string"}},
                        {"name": "paused", "in": "query", "required": false, "description": "Raw uploads only.", "schema": {"type": "boolean"}}
                    ],
                    "requestBody": {"required": true, "content": {
                        "application/json": {"schema": schema("AddRequest")},
                        "application/x-bittorrent": {"schema": {"type": "string", "format": "binary"}}
                    }},
                    "responses": {
                        "201": ok("Added; it starts in the background.", schema("TorrentSummary")),
                        "400": error("Invalid torrent, magnet link or field."),
                        "403": error("download_dir is outside the download root."),
                        "409": error("Already added."),
                        "413": error("Body larger than api.max_body."),
                        "415": error("Neither JSON nor application/x-bittorrent."),
                        "422": error("Unsupported torrent (v2-only) or JSON of the wrong shape."),
                        "502": error("The url could not be fetched."),
                        "503": error("Shutting down.")
                    }
                }
            },
            "/api/v1/torrents/{id}": {
                "get": torrent_op("A torrent's files, peers, trackers and pieces.", json!({
                    "responses": {"200": ok("The torrent.", schema("TorrentDetails"))}
                })),
                "delete": torrent_op("Remove a torrent.", json!({
                    "parameters": [id_param(), {"name": "delete_data", "in": "query", "required": false, "schema": {"type": "boolean"}}],
                    "responses": {"204": {"description": "Removed."}, "409": error("Its data cannot be opened to delete it.")}
                }))
            },
            "/api/v1/torrents/{id}/pause": {
                "post": torrent_op("Pause: close connections, tell trackers.", json!({"responses": {"200": summary_ok}}))
            },
            "/api/v1/torrents/{id}/resume": {
                "post": torrent_op("Resume; a torrent stopped on an error is started again.", json!({"responses": {"200": summary_ok}}))
            },
            "/api/v1/torrents/{id}/recheck": {
                "post": torrent_op("Hash the data on disk again (in the background).", json!({
                    "responses": {"202": ok("Checking.", schema("TorrentSummary")), "409": error("No metadata yet.")}
                }))
            },
            "/api/v1/torrents/{id}/files": {
                "put": torrent_op("Set file priorities (0 skips a file).", json!({
                    "requestBody": {"required": true, "content": {"application/json": {"schema": schema("PrioritiesRequest")}}},
                    "responses": {"200": summary_ok, "409": error("Files not known yet."), "422": error("Wrong body shape.")}
                }))
            },
            "/api/v1/torrents/{id}/limits": {
                "put": torrent_op("Set the torrent's rate caps.", json!({
                    "requestBody": {"required": true, "content": {"application/json": {"schema": schema("Limits")}}},
                    "responses": {"200": summary_ok, "422": error("Wrong body shape.")}
                }))
            },
            "/api/v1/torrents/{id}/files/{index}/stream": {
                "get": torrent_op("Stream a file while it downloads: the pieces under the read position are fetched first and waited for. One byte range per request (Range: bytes=a-b, a- or -n); the entity tag is fixed by the info hash, for If-Range.", json!({
                    "parameters": [id_param(),
                        {"name": "index", "in": "path", "required": true, "description": "The file's position in the torrent's files list (pad files not counted).", "schema": {"type": "integer", "minimum": 0}},
                        {"name": "sig", "in": "query", "required": false, "description": "The signature from the file's stream_url: stands in for the token on this file's stream alone.", "schema": {"type": "string"}},
                        {"name": "Range", "in": "header", "required": false, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "The whole file.", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                        "206": {"description": "The requested range, with Content-Range.", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                        "404": error("No such torrent or file."),
                        "409": error("The torrent's files are not known yet, or it is checking."),
                        "416": error("The range starts past the end of the file (Content-Range: bytes */length).")
                    }
                }))
            },
            "/api/v1/session": {
                "get": {"summary": "Session totals and settings.", "responses": {"200": ok("The session.", schema("Session"))}}
            },
            "/api/v1/session/limits": {
                "put": {
                    "summary": "Set the session-wide rate caps.",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": schema("Limits")}}},
                    "responses": {"200": ok("The caps now.", schema("Limits")), "400": error("Malformed body."), "422": error("Wrong body shape.")}
                }
            },
            "/api/v1/events": {
                "get": {
                    "summary": "Server-sent events: each event is named by its type; data is an Event.",
                    "responses": {"200": {"description": "An event stream.", "content": {"text/event-stream": {"schema": schema("Event")}}}}
                }
            },
            "/api/v1/openapi.json": {
                "get": {"summary": "This document.", "responses": {"200": ok("OpenAPI 3.1.", json!({"type": "object"}))}}
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics (text format 0.0.4).",
                    "responses": {"200": {"description": "Metrics.", "content": {"text/plain": {"schema": {"type": "string"}}}}}
                }
            }
        }
    })
}

fn schemas() -> Value {
    let int = json!({"type": "integer", "minimum": 0});
    let opt_int = json!({"type": ["integer", "null"], "minimum": 0});
    let string = json!({"type": "string"});
    let opt_string = json!({"type": ["string", "null"]});
    json!({
        "State": {"type": "string", "enum": ["queued", "fetching_metadata", "checking", "downloading", "seeding", "paused", "error"]},
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"],
                "properties": {"code": string, "message": string}}}
        },
        "TorrentSummary": {
            "type": "object",
            "required": ["id", "name", "state", "progress", "size", "left", "pieces_have", "pieces_total", "downloaded",
                "uploaded", "down_rate", "up_rate", "peer_count", "download_dir", "added_at", "upload_limit", "download_limit", "error"],
            "properties": {
                "id": string, "name": string, "state": schema("State"), "progress": {"type": "number"},
                "size": int, "left": int, "pieces_have": int, "pieces_total": int, "downloaded": int, "uploaded": int,
                "down_rate": int, "up_rate": int, "peer_count": int, "download_dir": string, "added_at": int,
                "upload_limit": int, "download_limit": int, "error": opt_string
            }
        },
        "TorrentDetails": {
            "allOf": [schema("TorrentSummary"), {
                "type": "object", "required": ["magnet", "files", "peers", "trackers", "pieces", "notices"],
                "properties": {
                    "magnet": string,
                    "files": {"type": "array", "items": {"type": "object", "properties": {
                        "index": int, "path": string, "size": int, "done": int, "priority": int,
                        "stream_url": {"type": "string", "description": "Path and query that stream this file without the token (signed for this file only)."}}}},
                    "peers": {"type": "array", "items": {"type": "object", "properties": {
                        "addr": string, "client": opt_string, "down_rate": int, "up_rate": int, "downloaded": int,
                        "uploaded": int, "progress": {"type": "number"}, "flags": string}}},
                    "trackers": {"type": "array", "items": {"type": "object", "properties": {
                        "url": string, "working": {"type": "boolean"}, "message": opt_string, "last_announce": opt_int,
                        "interval": opt_int, "seeders": opt_int, "leechers": opt_int}}},
                    "pieces": {"type": "string", "description": "BEP 3 bitfield, base64."},
                    "notices": {"type": "array", "items": string}
                }
            }]
        },
        "AddRequest": {
            "type": "object", "additionalProperties": false,
            "properties": {
                "torrent": {"type": "string", "description": ".torrent file, base64"},
                "magnet": string, "url": {"type": "string", "format": "uri"},
                "download_dir": {"type": "string", "description": "Inside the download root."},
                "paused": {"type": "boolean"},
                "file_priorities": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 255}},
                "peers": {"type": "array", "items": {"type": "string", "description": "ip:port"}},
                "upload_limit": int, "download_limit": int
            }
        },
        "PrioritiesRequest": {
            "type": "object", "required": ["priorities"], "additionalProperties": false,
            "properties": {"priorities": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 255}}}
        },
        "Limits": {
            "type": "object", "additionalProperties": false,
            "description": "Bytes per second, 0 = unlimited; a missing field keeps the current value.",
            "properties": {"upload": opt_int, "download": opt_int}
        },
        "Session": {
            "type": "object",
            "properties": {
                "version": string, "uptime_secs": int, "listen_port": int, "torrents": int,
                "states": {"type": "object", "additionalProperties": int},
                "down_rate": int, "up_rate": int, "downloaded": int, "uploaded": int, "peers": int,
                "limits": schema("Limits"), "download_dir": string, "problems": {"type": "array", "items": string}
            }
        },
        "Event": {
            "type": "object", "required": ["type"],
            "properties": {"type": {"type": "string", "enum": [
                "added", "removed", "state", "metadata", "checked", "files_changed", "completed", "error", "tracker", "stats", "lagged"]}}
        }
    })
}
