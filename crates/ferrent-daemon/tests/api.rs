//! The HTTP API in process: every route, every error status, the OpenAPI document against
//! the router, and the access checks.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use data_encoding::BASE64;
use ferrent_daemon::api::{openapi, route_table};
use ferrent_daemon::Daemon;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const UNKNOWN: &str = "0123456789abcdef0123456789abcdef01234567";

#[tokio::test]
async fn openapi_document_and_router_have_the_same_routes() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(config(dir.path())).await.unwrap();
    let app = router(&daemon);

    let doc = openapi::document();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let routed: BTreeSet<(String, String)> =
        route_table().into_iter().map(|(m, p)| (m.to_string(), p)).collect();
    assert_eq!(documented, routed, "the OpenAPI document and the router disagree");

    // The table is what the router really serves: each documented operation reaches a
    // handler (whatever it answers), while an undocumented one hits the fallback.
    for (method, path) in &documented {
        let uri = path.replace("{id}", UNKNOWN);
        let answer = Req::new(method.parse().unwrap(), &uri).streaming().send(&app).await;
        assert_ne!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        if answer.status == StatusCode::NOT_FOUND {
            let answer = Req::new(method.parse().unwrap(), &uri).send(&app).await;
            assert_eq!(answer.code(), "not_found", "{method} {path} fell through to the fallback");
        }
    }
    let served = Req::get("/api/v1/openapi.json").send(&app).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.json(), doc);
    let nothing = Req::get("/api/v1/nothing").send(&app).await;
    assert_eq!((nothing.status, nothing.code().as_str()), (StatusCode::NOT_FOUND, "no_route"));
    let wrong = Req::new(Method::PATCH, "/api/v1/torrents").send(&app).await;
    assert_eq!(
        (wrong.status, wrong.code().as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    daemon.shutdown(Duration::from_secs(4)).await;
}

#[tokio::test]
async fn every_route_and_its_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let torrent = make_torrent(&cfg.download_dir, "data.bin", 300_000, 7, 32 * 1024);
    let id = info_hash(&torrent);
    let daemon = Daemon::start(cfg.clone()).await.unwrap();
    let app = router(&daemon);
    let status = |a: &Answer| (a.status, a.code());

    // Adding: raw upload, then every way it can fail.
    let raw = |bytes: Vec<u8>| {
        Req::post("/api/v1/torrents?paused=false").body("application/x-bittorrent", bytes)
    };
    let added = raw(torrent.clone()).send(&app).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&added.body));
    assert_eq!(added.headers["location"], format!("/api/v1/torrents/{id}"));
    assert_eq!(added.json()["id"], id);
    assert_eq!(
        status(&raw(torrent.clone()).send(&app).await),
        (StatusCode::CONFLICT, "duplicate".into())
    );
    assert_eq!(
        status(&raw(b"d4:infoi1ee".to_vec()).send(&app).await),
        (StatusCode::BAD_REQUEST, "invalid_torrent".into())
    );
    let json = |v| Req::post("/api/v1/torrents").json(v);
    let both = serde_json::json!({"magnet": "magnet:?xt=urn:btih:".to_string() + UNKNOWN, "url": "http://127.0.0.1:1/x"});
    assert_eq!(
        status(&json(both).send(&app).await),
        (StatusCode::BAD_REQUEST, "bad_request".into())
    );
    let bad_magnet = serde_json::json!({"magnet": "magnet:?xt=urn:nothing"});
    assert_eq!(
        status(&json(bad_magnet).send(&app).await),
        (StatusCode::BAD_REQUEST, "invalid_magnet".into())
    );
    let wrong_shape = serde_json::json!({"magnet": 5});
    assert_eq!(
        status(&json(wrong_shape).send(&app).await),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body".into())
    );
    let syntax = Req::post("/api/v1/torrents").body("application/json", b"{".to_vec());
    assert_eq!(status(&syntax.send(&app).await), (StatusCode::BAD_REQUEST, "bad_request".into()));
    let text = Req::post("/api/v1/torrents").body("text/plain", b"magnet:?".to_vec());
    assert_eq!(
        status(&text.send(&app).await),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type".into())
    );
    let huge = raw(vec![b'x'; cfg.api.max_body as usize + 1]);
    assert_eq!(
        status(&huge.send(&app).await),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large".into())
    );
    let outside =
        serde_json::json!({"torrent": BASE64.encode(&torrent), "download_dir": "../elsewhere"});
    assert_eq!(
        status(&json(outside).send(&app).await),
        (StatusCode::FORBIDDEN, "path_not_allowed".into())
    );
    let absolute = serde_json::json!({"torrent": BASE64.encode(&torrent), "download_dir": "/etc"});
    assert_eq!(
        status(&json(absolute).send(&app).await),
        (StatusCode::FORBIDDEN, "path_not_allowed".into())
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let unreachable = serde_json::json!({"url": format!("http://{closed}/x.torrent")});
    assert_eq!(
        status(&json(unreachable).send(&app).await),
        (StatusCode::BAD_GATEWAY, "fetch_failed".into())
    );
    let ftp = serde_json::json!({"url": "ftp://127.0.0.1/x.torrent"});
    assert_eq!(
        status(&json(ftp).send(&app).await),
        (StatusCode::BAD_REQUEST, "bad_request".into())
    );

    // The data is already in the download root: the check finds it complete.
    wait_state(&daemon, &id, ferrent_daemon::model::State::Seeding, WAIT).await;
    let list = Req::get("/api/v1/torrents").send(&app).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json().as_array().unwrap().len(), 1);
    let seeding = Req::get("/api/v1/torrents?state=seeding").send(&app).await.json();
    assert_eq!(seeding.as_array().unwrap().len(), 1);
    let paused = Req::get("/api/v1/torrents?state=paused").send(&app).await.json();
    assert!(paused.as_array().unwrap().is_empty());
    assert_eq!(
        Req::get("/api/v1/torrents?state=sleeping").send(&app).await.status,
        StatusCode::BAD_REQUEST
    );

    // Details.
    let details = Req::get(&format!("/api/v1/torrents/{id}")).send(&app).await;
    assert_eq!(details.status, StatusCode::OK);
    let d = details.json();
    assert_eq!(d["files"][0]["path"], "data.bin");
    assert_eq!(d["files"][0]["done"], 300_000);
    assert_eq!(d["pieces_have"], 10);
    assert!(d["magnet"].as_str().unwrap().contains(&id));
    assert_eq!(BASE64.decode(d["pieces"].as_str().unwrap().as_bytes()).unwrap(), vec![0xff, 0xc0]);
    let missing = Req::get(&format!("/api/v1/torrents/{UNKNOWN}")).send(&app).await;
    assert_eq!(status(&missing), (StatusCode::NOT_FOUND, "not_found".into()));
    let malformed = Req::get("/api/v1/torrents/xyz").send(&app).await;
    assert_eq!(status(&malformed), (StatusCode::BAD_REQUEST, "bad_request".into()));

    // Pause, resume, recheck.
    let paused = Req::post(&format!("/api/v1/torrents/{id}/pause")).send(&app).await;
    assert_eq!((paused.status, paused.json()["state"].clone()), (StatusCode::OK, "paused".into()));
    let resumed = Req::post(&format!("/api/v1/torrents/{id}/resume")).send(&app).await;
    assert_eq!(
        (resumed.status, resumed.json()["state"].clone()),
        (StatusCode::OK, "seeding".into())
    );
    let recheck = Req::post(&format!("/api/v1/torrents/{id}/recheck")).send(&app).await;
    assert_eq!(
        (recheck.status, recheck.json()["state"].clone()),
        (StatusCode::ACCEPTED, "checking".into())
    );
    wait_state(&daemon, &id, ferrent_daemon::model::State::Seeding, WAIT).await;
    let unknown_pause = Req::post(&format!("/api/v1/torrents/{UNKNOWN}/pause")).send(&app).await;
    assert_eq!(unknown_pause.status, StatusCode::NOT_FOUND);

    // Priorities and limits.
    let put = |path: &str, v| Req::new(Method::PUT, path).json(v);
    let files = format!("/api/v1/torrents/{id}/files");
    let skip = put(&files, serde_json::json!({"priorities": [0]})).send(&app).await;
    assert_eq!(skip.status, StatusCode::OK);
    let d = Req::get(&format!("/api/v1/torrents/{id}")).send(&app).await.json();
    assert_eq!(d["files"][0]["priority"], 0);
    let wrong_count = put(&files, serde_json::json!({"priorities": [1, 1]})).send(&app).await;
    assert_eq!(status(&wrong_count), (StatusCode::BAD_REQUEST, "bad_request".into()));
    let wrong_type = put(&files, serde_json::json!({"priorities": "all"})).send(&app).await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    let limits = put(&format!("/api/v1/torrents/{id}/limits"), serde_json::json!({"upload": 1000}))
        .send(&app)
        .await;
    assert_eq!(
        (limits.json()["upload_limit"].clone(), limits.json()["download_limit"].clone()),
        (1000.into(), 0.into())
    );
    let bad_limits = put(&format!("/api/v1/torrents/{id}/limits"), serde_json::json!({"up": 1}))
        .send(&app)
        .await;
    assert_eq!(bad_limits.status, StatusCode::UNPROCESSABLE_ENTITY);
    let global =
        put("/api/v1/session/limits", serde_json::json!({"download": 5000})).send(&app).await;
    assert_eq!(global.json(), serde_json::json!({"upload": 0, "download": 5000}));
    let session = Req::get("/api/v1/session").send(&app).await.json();
    assert_eq!(session["limits"]["download"], 5000);
    assert_eq!(session["torrents"], 1);
    assert_eq!(session["states"]["seeding"], 1);

    // A magnet with no peers: fetching, pausable, not checkable, no files yet.
    let magnet_hash = "1111111111111111111111111111111111111111";
    let magnet =
        json(serde_json::json!({"magnet": format!("magnet:?xt=urn:btih:{magnet_hash}&dn=later")}))
            .send(&app)
            .await;
    assert_eq!(magnet.status, StatusCode::CREATED);
    assert_eq!(
        (magnet.json()["state"].clone(), magnet.json()["name"].clone()),
        ("fetching_metadata".into(), "later".into())
    );
    let early = put(
        &format!("/api/v1/torrents/{magnet_hash}/files"),
        serde_json::json!({"priorities": [1]}),
    )
    .send(&app)
    .await;
    assert_eq!(status(&early), (StatusCode::CONFLICT, "conflict".into()));
    let recheck = Req::post(&format!("/api/v1/torrents/{magnet_hash}/recheck")).send(&app).await;
    assert_eq!(status(&recheck), (StatusCode::CONFLICT, "conflict".into()));
    let paused =
        Req::post(&format!("/api/v1/torrents/{magnet_hash}/pause")).send(&app).await.json();
    assert_eq!(paused["state"], "paused");
    let resumed = Req::post(&format!("/api/v1/torrents/{magnet_hash}/resume")).send(&app).await;
    assert_eq!(resumed.status, StatusCode::OK);
    wait_state(&daemon, magnet_hash, ferrent_daemon::model::State::FetchingMetadata, WAIT).await;

    // Metrics.
    let metrics = Req::get("/metrics").send(&app).await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(metrics.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = String::from_utf8(metrics.body).unwrap();
    assert!(text.contains("ferrent_torrents{state=\"seeding\"} 1\n"), "{text}");
    assert!(text.contains("ferrent_torrents{state=\"fetching_metadata\"} 1\n"), "{text}");
    assert!(text.contains("ferrent_download_limit_bytes 5000\n"), "{text}");
    // Everything downloaded is verified and written: no disk job is left counted.
    assert!(text.contains("ferrent_hash_queue_depth 0\n"), "{text}");
    for family in [
        "ferrent_peers",
        "ferrent_hash_queue_depth",
        "ferrent_disk_queue_depth",
        "ferrent_checking_torrents",
        "ferrent_state_saves_in_flight",
        "ferrent_sleeping_torrents",
        "ferrent_uploaded_bytes_total",
    ] {
        assert!(text.contains(&format!("# TYPE {family} ")), "{family} missing");
    }

    // The UI's place.
    let index = Req::get("/").send(&app).await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&index.body).contains("/api/v1/openapi.json"));

    // Removing, keeping then deleting data.
    let rm = Req::new(Method::DELETE, &format!("/api/v1/torrents/{magnet_hash}")).send(&app).await;
    assert_eq!(rm.status, StatusCode::NO_CONTENT);
    let rm = Req::new(Method::DELETE, &format!("/api/v1/torrents/{id}?delete_data=true"))
        .send(&app)
        .await;
    assert_eq!(rm.status, StatusCode::NO_CONTENT);
    assert!(!cfg.download_dir.join("data.bin").exists(), "the data was not deleted");
    assert!(!state_file(&cfg, &id, "json").exists() && !state_file(&cfg, &id, "torrent").exists());
    let again = Req::new(Method::DELETE, &format!("/api/v1/torrents/{id}")).send(&app).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let bad_query = Req::new(Method::DELETE, &format!("/api/v1/torrents/{id}?delete_data=maybe"))
        .send(&app)
        .await;
    assert_eq!(bad_query.status, StatusCode::BAD_REQUEST);

    // Shutting down refuses new torrents.
    daemon.shutdown(Duration::from_secs(4)).await;
    assert_eq!(
        status(&raw(torrent).send(&app).await),
        (StatusCode::SERVICE_UNAVAILABLE, "shutting_down".into())
    );
}

#[tokio::test]
async fn add_by_url_fetches_the_torrent() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let torrent = make_torrent(&dir.path().join("elsewhere"), "u.bin", 50_000, 3, 16 * 1024);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let served = torrent.clone();
    let server = std::thread::spawn(move || {
        for path_ok in [true, false] {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let reply = if path_ok {
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    served.len()
                )
                .into_bytes();
                r.extend_from_slice(&served);
                r
            } else {
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()
            };
            stream.write_all(&reply).unwrap();
        }
    });
    let daemon = Daemon::start(cfg).await.unwrap();
    let app = router(&daemon);
    let ok = Req::post("/api/v1/torrents")
        .json(serde_json::json!({"url": format!("http://{addr}/u.torrent"), "paused": true}));
    let answer = ok.send(&app).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.json()["id"], info_hash(&torrent));
    assert_eq!(answer.json()["state"], "paused");
    let missing = Req::post("/api/v1/torrents")
        .json(serde_json::json!({"url": format!("http://{addr}/gone.torrent")}));
    let answer = missing.send(&app).await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::BAD_GATEWAY, "fetch_failed".to_string())
    );
    server.join().unwrap();
    daemon.shutdown(Duration::from_secs(4)).await;
}

#[tokio::test]
async fn access_checks() {
    let dir = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(config(dir.path())).await.unwrap();
    let app = router(&daemon);
    let list = || Req::get("/api/v1/torrents");

    assert_eq!(list().send(&app).await.status, StatusCode::OK, "loopback needs no token");
    let rebound = list().header("host", "attacker.example:6880").send(&app).await;
    assert_eq!(
        (rebound.status, rebound.code()),
        (StatusCode::MISDIRECTED_REQUEST, "host_not_allowed".into())
    );
    assert_eq!(list().without("host").send(&app).await.status, StatusCode::MISDIRECTED_REQUEST);
    let cross = Req::post(&format!("/api/v1/torrents/{UNKNOWN}/pause"))
        .header("origin", "http://attacker.example");
    let cross = cross.send(&app).await;
    assert_eq!((cross.status, cross.code()), (StatusCode::FORBIDDEN, "cross_origin".into()));
    let same = list().header("origin", "http://127.0.0.1:6880").send(&app).await;
    assert_eq!(same.status, StatusCode::OK);

    let remote = list().peer(REMOTE_PEER).send(&app).await;
    assert_eq!((remote.status, remote.code()), (StatusCode::UNAUTHORIZED, "unauthorized".into()));
    assert_eq!(remote.headers["www-authenticate"], "Bearer realm=\"ferrent\"");
    let metrics = Req::get("/metrics").peer(REMOTE_PEER).send(&app).await;
    assert_eq!(metrics.status, StatusCode::UNAUTHORIZED, "metrics are guarded too");
    let wrong = list().peer(REMOTE_PEER).header("authorization", "Bearer nope").send(&app).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let right = list()
        .peer(REMOTE_PEER)
        .header("authorization", &format!("Bearer {TOKEN}"))
        .send(&app)
        .await;
    assert_eq!(right.status, StatusCode::OK);
    daemon.shutdown(Duration::from_secs(4)).await;

    let dir = tempfile::tempdir().unwrap();
    let mut strict = config(dir.path());
    strict.api.require_token = ferrent_daemon::config::TokenPolicy::Always;
    let daemon = Daemon::start(strict).await.unwrap();
    let app = router(&daemon);
    assert_eq!(
        list().send(&app).await.status,
        StatusCode::UNAUTHORIZED,
        "always means loopback too"
    );
    let right = list().header("authorization", &format!("Bearer {TOKEN}")).send(&app).await;
    assert_eq!(right.status, StatusCode::OK);
    daemon.shutdown(Duration::from_secs(4)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_links_open_their_file_without_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let mut strict = config(dir.path());
    strict.api.require_token = ferrent_daemon::config::TokenPolicy::Always;
    let torrent = make_torrent(&strict.download_dir, "clip.bin", 100_000, 9, 16 * 1024);
    let id = info_hash(&torrent);
    let daemon = Daemon::start(strict).await.unwrap();
    let app = router(&daemon);
    let bearer = format!("Bearer {TOKEN}");
    let added = Req::post("/api/v1/torrents")
        .header("authorization", &bearer)
        .body("application/x-bittorrent", torrent)
        .send(&app)
        .await;
    assert_eq!(added.status, StatusCode::CREATED);
    wait_state(&daemon, &id, ferrent_daemon::model::State::Seeding, WAIT).await;

    let details = Req::get(&format!("/api/v1/torrents/{id}"))
        .header("authorization", &bearer)
        .send(&app)
        .await
        .json();
    let link = details["files"][0]["stream_url"].as_str().expect("a stream_url").to_owned();
    let plain = Req::get(&format!("/api/v1/torrents/{id}/files/0/stream")).send(&app).await;
    assert_eq!(plain.status, StatusCode::UNAUTHORIZED, "the stream still needs the token");
    let streamed = Req::get(&link).peer(REMOTE_PEER).send(&app).await;
    assert_eq!(streamed.status, StatusCode::OK, "the signed link needs no token");
    assert_eq!(streamed.body, content(100_000, 9));
    let forged = format!("{}?sig={}", link.split('?').next().unwrap(), "00".repeat(32));
    assert_eq!(Req::get(&forged).send(&app).await.status, StatusCode::UNAUTHORIZED);
    let elsewhere = link.replace("/files/0/stream", "/pause");
    let elsewhere = Req::post(&elsewhere).send(&app).await;
    assert_eq!(elsewhere.status, StatusCode::UNAUTHORIZED, "the signature opened another route");
    let hostile = Req::get(&link).header("host", "attacker.example").send(&app).await;
    assert_eq!(hostile.status, StatusCode::MISDIRECTED_REQUEST, "Host is still checked");
    daemon.shutdown(Duration::from_secs(4)).await;
}
