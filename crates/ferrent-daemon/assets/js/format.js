// Numbers for people: sizes, rates, times, ratios.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.5 KiB". */
export function bytes(n) {
  if (!Number.isFinite(n) || n <= 0) return '0 B';
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 ? 0 : value < 10 ? 2 : value < 100 ? 1 : 0;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** Bytes per second → "1.2 MiB/s"; zero is "–" when `dashZero`. */
export function rate(n, dashZero = false) {
  if (dashZero && !(n > 0)) return '–';
  return `${bytes(n)}/s`;
}

/** 0.4567 → "45.7%", never "100%" before it is. */
export function percent(fraction) {
  if (!(fraction > 0)) return '0%';
  if (fraction >= 1) return '100%';
  const value = Math.min(fraction * 100, 99.9);
  return `${value.toFixed(1)}%`;
}

/** Seconds → "2h 5m", "45s"; null/Infinity → "∞". */
export function duration(seconds) {
  if (seconds === null || !Number.isFinite(seconds)) return '∞';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours}h ${String(m % 60).padStart(2, '0')}m`;
  const days = Math.floor(hours / 24);
  return days < 365 ? `${days}d ${hours % 24}h` : `${Math.floor(days / 365)}y`;
}

/** Seconds since the epoch → "3 min ago" / "in 12 min", relative to now. */
export function relative(epochSeconds, nowMs = Date.now()) {
  const diff = epochSeconds - nowMs / 1000;
  const abs = Math.abs(diff);
  let text;
  if (abs < 5) return 'now';
  if (abs < 60) text = `${Math.round(abs)} s`;
  else if (abs < 3600) text = `${Math.round(abs / 60)} min`;
  else if (abs < 86400 * 2) text = `${Math.round(abs / 3600)} h`;
  else text = `${Math.round(abs / 86400)} days`;
  return diff < 0 ? `${text} ago` : `in ${text}`;
}

/** Seconds since the epoch → local date and time. */
export function dateTime(epochSeconds) {
  if (!epochSeconds) return '–';
  const date = new Date(epochSeconds * 1000);
  const thisYear = date.getFullYear() === new Date().getFullYear();
  return date.toLocaleString(undefined, {
    year: thisYear ? undefined : 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  });
}

/** A share ratio with two decimals; "–" when nothing is there to share yet. */
export function ratio(value) {
  if (value === null || !Number.isFinite(value)) return '–';
  return value.toFixed(2);
}

/** State names as people say them. */
export const STATE_LABELS = {
  queued: 'Queued',
  fetching_metadata: 'Fetching info',
  checking: 'Checking',
  downloading: 'Downloading',
  seeding: 'Seeding',
  paused: 'Paused',
  error: 'Error',
};

/** "queued" → "Queued". */
export function stateLabel(state) {
  return STATE_LABELS[state] || state;
}

/** Parses "1.5" in a unit of `scale` bytes into whole bytes; empty → 0; bad → NaN. */
export function parseRate(text, scale) {
  const trimmed = String(text).trim();
  if (trimmed === '') return 0;
  const value = Number(trimmed);
  if (!Number.isFinite(value) || value < 0) return NaN;
  return Math.round(value * scale);
}
