//! Short, fixed-width texts for the screen: rates, percentages, ETAs, ratios, ages and
//! text progress bars.

use crate::info::human_size;
use ferrent_daemon::model::{State, TorrentSummary};

/// `1.5 MiB/s`; `0 B/s` for nothing.
pub fn rate(bytes_per_sec: u64) -> String {
    format!("{}/s", human_size(bytes_per_sec))
}

/// A rate cap: `none` for 0 (unlimited).
pub fn cap(bytes_per_sec: u64) -> String {
    if bytes_per_sec == 0 {
        "none".to_string()
    } else {
        rate(bytes_per_sec)
    }
}

/// A fraction as a percentage with one decimal, rounded down so that `100.0%` means done.
pub fn percent(fraction: f64) -> String {
    format!("{:.1}%", tenths(fraction) as f64 / 10.0)
}

/// A fraction in tenths of a percent, rounded down and clamped to 0..=1000 (NaN is 0).
fn tenths(fraction: f64) -> u32 {
    let clamped = if fraction.is_nan() { 0.0 } else { fraction.clamp(0.0, 1.0) };
    (clamped * 1000.0).floor() as u32
}

/// A bar of `width` cells showing `fraction`, using eighth blocks for the partial cell.
pub fn bar(fraction: f64, width: usize) -> String {
    const PARTIAL: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let eighths = (tenths(fraction) as usize * width * 8) / 1000;
    let full = eighths / 8;
    let mut text: String = "█".repeat(full);
    if full < width {
        let partial = PARTIAL[eighths % 8];
        text.push(if partial == ' ' { '░' } else { partial });
        text.extend(std::iter::repeat_n('░', width - full - 1));
    }
    text
}

/// A bar of `width` cells followed by the percentage, padded so columns line up.
pub fn bar_and_percent(fraction: f64, width: usize) -> String {
    format!("{} {:>6}", bar(fraction, width), percent(fraction))
}

/// How long `seconds` is, in the two largest units: `45s`, `12m05s`, `3h20m`, `5d04h`.
pub fn duration(seconds: u64) -> String {
    let (d, h, m, s) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m{s:02}s"),
        (0, _, _) => format!("{h}h{m:02}m"),
        _ if d >= 100 => "∞".to_string(),
        _ => format!("{d}d{h:02}h"),
    }
}

/// The time a torrent still needs at its current rate: `-` when it is not downloading,
/// `∞` when nothing arrives.
pub fn eta(torrent: &TorrentSummary) -> String {
    if torrent.state != State::Downloading || torrent.left == 0 {
        return "-".to_string();
    }
    if torrent.down_rate == 0 {
        return "∞".to_string();
    }
    duration(torrent.left.div_ceil(torrent.down_rate))
}

/// Upload ratio: uploaded over downloaded, or over the verified data when nothing was
/// downloaded (a torrent that started complete); `-` when there is neither.
pub fn ratio(torrent: &TorrentSummary) -> String {
    let have = (torrent.size as f64 * torrent.progress.clamp(0.0, 1.0)) as u64;
    let base = if torrent.downloaded > 0 { torrent.downloaded } else { have };
    match (base, torrent.uploaded) {
        (0, 0) => "-".to_string(),
        (0, _) => "∞".to_string(),
        (base, up) => format!("{:.2}", up as f64 / base as f64),
    }
}

/// A state's short label for tables.
pub fn state(state: State) -> &'static str {
    match state {
        State::FetchingMetadata => "metadata",
        other => other.as_str(),
    }
}

/// How long ago `then` was, given `now` (both seconds since the Unix epoch).
pub fn ago(now: u64, then: u64) -> String {
    format!("{} ago", duration(now.saturating_sub(then)))
}

/// A rate as the limits prompt reads it back: `0`, `512K`, `2M`, or plain bytes.
pub fn rate_input(bytes_per_sec: u64) -> String {
    for (shift, unit) in [(30, "G"), (20, "M"), (10, "K")] {
        if bytes_per_sec != 0 && bytes_per_sec.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes_per_sec >> shift);
        }
    }
    bytes_per_sec.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_down_and_clamp() {
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(percent(0.4567), "45.6%");
        assert_eq!(percent(0.99999), "99.9%");
        assert_eq!(percent(1.0), "100.0%");
        assert_eq!(percent(7.0), "100.0%");
        assert_eq!(percent(f64::NAN), "0.0%");
    }

    #[test]
    fn bars_fill_in_eighths() {
        assert_eq!(bar(0.0, 4), "░░░░");
        assert_eq!(bar(1.0, 4), "████");
        assert_eq!(bar(0.5, 4), "██░░");
        assert_eq!(bar(0.625, 4), "██▌░");
        assert_eq!(bar(0.53, 4), "██░░", "less than an eighth of a cell shows as empty");
        assert_eq!(bar(0.3, 0), "");
        for i in 0..=100 {
            assert_eq!(bar(i as f64 / 100.0, 7).chars().count(), 7, "{i}%");
        }
        assert_eq!(bar_and_percent(0.25, 4), "█░░░  25.0%");
    }

    #[test]
    fn durations_use_two_units() {
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(61), "1m01s");
        assert_eq!(duration(3600 * 3 + 60 * 20 + 5), "3h20m");
        assert_eq!(duration(86_400 * 5 + 3600 * 4), "5d04h");
        assert_eq!(duration(u64::MAX), "∞");
    }

    #[test]
    fn rate_inputs_read_back_with_parse_size() {
        for n in [0, 1, 1000, 1024, 512 << 10, 3 << 20, 5 << 30, 1_500_000] {
            let text = rate_input(n);
            assert_eq!(crate::create::parse_size(&text), Ok(n), "{text}");
        }
        assert_eq!(rate_input(2 << 20), "2M");
        assert_eq!(rate_input(1536), "1536");
    }
}
