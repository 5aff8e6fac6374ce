//! Scheduling tests with fake time and a scripted set of trackers.

use std::time::{Duration, Instant};

use super::*;

const SECOND: Duration = Duration::from_secs(1);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A list whose tiers read exactly as written: shuffled, then put back in order.
fn list(spec: &[&[&str]]) -> TrackerList {
    let tiers = spec.iter().map(|t| t.iter().map(|s| s.to_string()).collect()).collect();
    let mut list =
        TrackerList::new(tiers, &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0));
    // Promoting a tier's URLs last to first leaves them first to last.
    for url in spec.iter().flat_map(|tier| tier.iter().rev()) {
        list.promote(url);
    }
    assert_eq!(list.iter().collect::<Vec<_>>(), spec.concat(), "fixture order");
    list
}

fn ok(interval: u64) -> Result<AnnounceResponse, TrackerError> {
    Ok(AnnounceResponse { interval: secs(interval), ..AnnounceResponse::default() })
}

fn err() -> Result<AnnounceResponse, TrackerError> {
    Err(TrackerError::Transport("connection refused".into()))
}

fn job(a: &mut Announcer, now: Instant) -> AnnounceJob {
    a.poll_announce(now).expect("a job is due")
}

/// Polls a job, checks its tracker and event, and reports `result`.
fn step(
    a: &mut Announcer,
    now: Instant,
    url: &str,
    event: AnnounceEvent,
    result: Result<AnnounceResponse, TrackerError>,
) {
    let j = job(a, now);
    assert_eq!((j.url.as_str(), j.event), (url, event));
    a.handle_result(&j, &result, now);
}

#[test]
fn started_first_then_regular_announces_at_the_interval() {
    let t0 = Instant::now();
    let mut a = Announcer::new(list(&[&["http://a"]]), AnnouncerConfig::default(), t0);
    assert_eq!(a.poll_timeout(), Some(t0));
    let j = job(&mut a, t0);
    assert_eq!(j.event, AnnounceEvent::Started);
    assert_eq!(a.poll_announce(t0), None, "one job in flight");
    assert_eq!(a.poll_timeout(), None);
    a.handle_result(&j, &ok(600), t0);
    assert_eq!(a.started_trackers(), ["http://a"]);

    assert_eq!(a.poll_timeout(), Some(t0 + 600 * SECOND));
    assert_eq!(a.poll_announce(t0 + 599 * SECOND), None);
    step(&mut a, t0 + 600 * SECOND, "http://a", AnnounceEvent::None, ok(600));
    assert_eq!(a.poll_timeout(), Some(t0 + 1200 * SECOND));
}

#[test]
fn failures_walk_the_tiers_then_back_off_exponentially() {
    let t0 = Instant::now();
    let mut a = Announcer::new(list(&[&["a1", "a2"], &["b1"]]), AnnouncerConfig::default(), t0);
    let mut now = t0;
    let mut waits = vec![];
    for _ in 0..10 {
        for url in ["a1", "a2", "b1"] {
            step(&mut a, now, url, AnnounceEvent::Started, err());
        }
        let due = a.poll_timeout().unwrap();
        waits.push((due - now).as_secs());
        now = due;
    }
    assert_eq!(waits, [15, 30, 60, 120, 240, 480, 960, 1800, 1800, 1800]);
    assert!(a.started_trackers().is_empty());

    // A success resets the backoff.
    step(&mut a, now, "a1", AnnounceEvent::Started, err());
    step(&mut a, now, "a2", AnnounceEvent::Started, ok(100));
    assert_eq!(a.poll_timeout(), Some(now + 100 * SECOND));
    now += 100 * SECOND;
    step(&mut a, now, "a2", AnnounceEvent::None, err());
    step(&mut a, now, "a1", AnnounceEvent::Started, err());
    step(&mut a, now, "b1", AnnounceEvent::Started, err());
    assert_eq!(a.poll_timeout(), Some(now + 15 * SECOND));
}

#[test]
fn a_working_tracker_moves_to_the_front_and_rounds_restart_at_the_first_tier() {
    let t0 = Instant::now();
    let mut a =
        Announcer::new(list(&[&["a1"], &["b1", "b2", "b3"]]), AnnouncerConfig::default(), t0);
    step(&mut a, t0, "a1", AnnounceEvent::Started, err());
    step(&mut a, t0, "b1", AnnounceEvent::Started, err());
    step(&mut a, t0, "b2", AnnounceEvent::Started, err());
    step(&mut a, t0, "b3", AnnounceEvent::Started, ok(60));
    assert_eq!(a.tracker_list().iter().collect::<Vec<_>>(), ["a1", "b3", "b1", "b2"]);

    let t1 = t0 + 60 * SECOND;
    // The first tier is tried again first; when it fails, the promoted tracker is next.
    step(&mut a, t1, "a1", AnnounceEvent::Started, err());
    step(&mut a, t1, "b3", AnnounceEvent::None, ok(60));
    let t2 = t1 + 60 * SECOND;
    step(&mut a, t2, "a1", AnnounceEvent::Started, ok(60));
    assert_eq!(a.started_trackers(), ["b3", "a1"]);
}

#[test]
fn completed_is_sent_once_and_at_once() {
    let t0 = Instant::now();
    let mut a = Announcer::new(list(&[&["a", "b"]]), AnnouncerConfig::default(), t0);
    step(&mut a, t0, "a", AnnounceEvent::Started, ok(1800));
    let t1 = t0 + 5 * SECOND;
    a.completed(t1);
    assert_eq!(a.poll_timeout(), Some(t1));
    // The tracker fails; the next one has not seen `started` yet.
    step(&mut a, t1, "a", AnnounceEvent::Completed, err());
    step(&mut a, t1, "b", AnnounceEvent::Started, ok(1800));
    assert_eq!(a.poll_timeout(), Some(t1), "completed still owed");
    step(&mut a, t1, "b", AnnounceEvent::Completed, ok(1800));
    assert_eq!(a.poll_timeout(), Some(t1 + 1800 * SECOND));
    a.completed(t1);
    assert_eq!(a.poll_timeout(), Some(t1 + 1800 * SECOND), "second call ignored");
    step(&mut a, t1 + 1800 * SECOND, "b", AnnounceEvent::None, ok(1800));
}

#[test]
fn completed_during_a_job_waits_for_it() {
    let t0 = Instant::now();
    let mut a = Announcer::new(list(&[&["a"]]), AnnouncerConfig::default(), t0);
    let j = job(&mut a, t0);
    a.completed(t0);
    assert_eq!(a.poll_announce(t0), None);
    a.handle_result(&j, &ok(900), t0);
    step(&mut a, t0, "a", AnnounceEvent::Completed, ok(900));
}

#[test]
fn intervals_are_clamped() {
    let t0 = Instant::now();
    let config = AnnouncerConfig::default();
    let cases = [
        // (interval, min interval) -> wait
        ((5, None), 30),
        ((5, Some(10)), 30),
        ((100, Some(400)), 400),
        ((100, Some(10_000)), 3600),
        ((100_000, None), 3600),
        ((1000, Some(60)), 1000),
    ];
    for ((interval, min), expected) in cases {
        let mut a = Announcer::new(list(&[&["a"]]), config, t0);
        let j = job(&mut a, t0);
        let response = AnnounceResponse {
            interval: secs(interval),
            min_interval: min.map(secs),
            ..AnnounceResponse::default()
        };
        a.handle_result(&j, &Ok(response), t0);
        assert_eq!(a.poll_timeout(), Some(t0 + secs(expected)), "{interval} {min:?}");
    }
}

#[test]
fn reannounce_now_honours_min_interval() {
    let t0 = Instant::now();
    let mut a = Announcer::new(list(&[&["a"]]), AnnouncerConfig::default(), t0);
    let j = job(&mut a, t0);
    a.reannounce_now(t0);
    assert_eq!(a.poll_announce(t0), None, "ignored while in flight");
    let response = AnnounceResponse {
        interval: 1800 * SECOND,
        min_interval: Some(120 * SECOND),
        ..Default::default()
    };
    a.handle_result(&j, &Ok(response), t0);
    a.reannounce_now(t0 + 10 * SECOND);
    assert_eq!(a.poll_timeout(), Some(t0 + 120 * SECOND));
    a.reannounce_now(t0 + 500 * SECOND);
    assert_eq!(a.poll_timeout(), Some(t0 + 120 * SECOND), "never later than already due");
    step(&mut a, t0 + 120 * SECOND, "a", AnnounceEvent::None, ok(1800));

    // Without a min interval the tracker can be asked at once.
    let t1 = t0 + 130 * SECOND;
    a.reannounce_now(t1);
    assert_eq!(a.poll_timeout(), Some(t1));
}

#[test]
fn reannounce_cuts_a_backoff_short() {
    let t0 = Instant::now();
    let mut a = Announcer::new(list(&[&["a"]]), AnnouncerConfig::default(), t0);
    step(&mut a, t0, "a", AnnounceEvent::Started, err());
    assert_eq!(a.poll_timeout(), Some(t0 + 15 * SECOND));
    a.reannounce_now(t0 + SECOND);
    assert_eq!(a.poll_timeout(), Some(t0 + SECOND));
}

#[test]
fn tracker_ids_are_echoed_per_tracker() {
    let t0 = Instant::now();
    let mut a = Announcer::new(list(&[&["a"], &["b"]]), AnnouncerConfig::default(), t0);
    let j = job(&mut a, t0);
    assert_eq!(j.tracker_id, None);
    let response = AnnounceResponse {
        interval: 60 * SECOND,
        tracker_id: Some(b"xyz".to_vec()),
        ..Default::default()
    };
    a.handle_result(&j, &Ok(response), t0);
    let t1 = t0 + 60 * SECOND;
    let j = job(&mut a, t1);
    assert_eq!(j.tracker_id.as_deref(), Some(&b"xyz"[..]));
    a.handle_result(&j, &err(), t1);
    let j = job(&mut a, t1);
    assert_eq!((j.url.as_str(), j.tracker_id.as_deref()), ("b", None));
}

#[test]
fn stop_sends_stopped_to_every_started_tracker() {
    let t0 = Instant::now();
    let mut a = Announcer::new(list(&[&["a"], &["b"], &["c"]]), AnnouncerConfig::default(), t0);
    step(&mut a, t0, "a", AnnounceEvent::Started, ok(60));
    let t1 = t0 + 60 * SECOND;
    step(&mut a, t1, "a", AnnounceEvent::None, err());
    step(&mut a, t1, "b", AnnounceEvent::Started, ok(60));
    let t2 = t1 + 60 * SECOND;
    let pending = job(&mut a, t2);
    assert_eq!((pending.url.as_str(), pending.event), ("a", AnnounceEvent::None));

    a.stop();
    a.completed(t2);
    a.reannounce_now(t2);
    assert_eq!(a.poll_timeout(), None);
    let s1 = job(&mut a, t2);
    let s2 = job(&mut a, t2);
    assert_eq!(a.poll_announce(t2), None);
    let mut urls = vec![s1.url.clone(), s2.url.clone()];
    urls.sort();
    assert_eq!(urls, ["a", "b"]);
    assert!([&s1, &s2].iter().all(|j| j.event == AnnounceEvent::Stopped));

    // The abandoned job's result is ignored.
    a.handle_result(&pending, &ok(60), t2);
    assert!(!a.is_stopped());
    a.handle_result(&s1, &err(), t2);
    assert!(!a.is_stopped());
    a.handle_result(&s1, &ok(60), t2);
    assert!(!a.is_stopped(), "a repeated result does not count twice");
    a.handle_result(&s2, &ok(60), t2);
    assert!(a.is_stopped());
    assert!(a.started_trackers().is_empty());
    assert_eq!(a.poll_announce(t2 + 3600 * SECOND), None);
}

#[test]
fn stop_covers_a_started_announce_in_flight() {
    let t0 = Instant::now();
    let mut a = Announcer::new(list(&[&["a"]]), AnnouncerConfig::default(), t0);
    let _in_flight = job(&mut a, t0);
    a.stop();
    let s = job(&mut a, t0);
    assert_eq!((s.url.as_str(), s.event), ("a", AnnounceEvent::Stopped));
    a.handle_result(&s, &ok(0), t0);
    assert!(a.is_stopped());
}

#[test]
fn stop_without_any_started_tracker_is_immediate() {
    let t0 = Instant::now();
    let mut a = Announcer::new(list(&[&["a"]]), AnnouncerConfig::default(), t0);
    step(&mut a, t0, "a", AnnounceEvent::Started, err());
    a.stop();
    assert!(a.is_stopped());
    assert_eq!(a.poll_announce(t0), None);
}

#[test]
fn no_trackers_means_nothing_to_do() {
    let t0 = Instant::now();
    let mut a = Announcer::new(list(&[]), AnnouncerConfig::default(), t0);
    assert_eq!(a.poll_timeout(), None);
    assert_eq!(a.poll_announce(t0), None);
    a.stop();
    assert!(a.is_stopped());
}

#[test]
fn stop_sends_an_owed_completed_before_that_trackers_stopped() {
    let t0 = Instant::now();
    let mut a = Announcer::new(list(&[&["a"], &["b"]]), AnnouncerConfig::default(), t0);
    step(&mut a, t0, "a", AnnounceEvent::Started, err());
    step(&mut a, t0, "b", AnnounceEvent::Started, ok(60));
    let t1 = t0 + 60 * SECOND;
    step(&mut a, t1, "a", AnnounceEvent::Started, ok(60));
    // The download completes and the torrent stops before `completed` goes out.
    a.completed(t1);
    a.stop();
    let first = job(&mut a, t1);
    let second = job(&mut a, t1);
    assert_eq!(a.poll_announce(t1), None, "a's stopped waits for its completed");
    assert_eq!((first.url.as_str(), first.event), ("a", AnnounceEvent::Completed));
    assert_eq!((second.url.as_str(), second.event), ("b", AnnounceEvent::Stopped));
    a.handle_result(&second, &ok(60), t1);
    assert!(!a.is_stopped());
    a.handle_result(&first, &ok(60), t1);
    let last = job(&mut a, t1);
    assert_eq!((last.url.as_str(), last.event), ("a", AnnounceEvent::Stopped));
    a.handle_result(&last, &ok(60), t1);
    assert!(a.is_stopped());
}

#[test]
fn stop_resends_a_completed_that_was_in_flight() {
    let t0 = Instant::now();
    let mut a = Announcer::new(list(&[&["a"]]), AnnouncerConfig::default(), t0);
    step(&mut a, t0, "a", AnnounceEvent::Started, ok(60));
    a.completed(t0);
    let in_flight = job(&mut a, t0);
    assert_eq!(in_flight.event, AnnounceEvent::Completed);
    a.stop();
    let completed = job(&mut a, t0);
    assert_eq!((completed.url.as_str(), completed.event), ("a", AnnounceEvent::Completed));
    // Even a failed `completed` lets `stopped` follow.
    a.handle_result(&completed, &err(), t0);
    let stopped = job(&mut a, t0);
    assert_eq!(stopped.event, AnnounceEvent::Stopped);
    a.handle_result(&stopped, &ok(0), t0);
    assert!(a.is_stopped());
}
