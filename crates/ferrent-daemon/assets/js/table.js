// The torrent list: filtering, sorting and a table whose rows are kept and updated in
// place (so that a list of thousands stays smooth and hover states survive updates).

import { h, iconButton, bar, setBar, setText, setIcon } from './dom.js';
import * as fmt from './format.js';

/** Which states each filter shows. */
export const FILTERS = {
  all: () => true,
  downloading: (s) => s === 'downloading' || s === 'fetching_metadata' || s === 'checking' || s === 'queued',
  seeding: (s) => s === 'seeding',
  paused: (s) => s === 'paused',
  error: (s) => s === 'error',
};

/** Stopped by the user or an error: what Resume applies to. */
export function isStopped(t) {
  return t.state === 'paused' || t.state === 'error';
}

const STATE_ORDER = ['downloading', 'fetching_metadata', 'checking', 'queued', 'seeding', 'paused', 'error'];

/** Seconds until done: 0 when nothing is left, Infinity when stalled. */
export function eta(t) {
  if (t.left === 0 && t.size > 0) return 0;
  if (t.state !== 'downloading' || !(t.down_rate > 0)) return Infinity;
  return t.left / t.down_rate;
}

/** Uploaded over what it has (or downloaded, before the size is known); null if neither. */
export function shareRatio(t) {
  const have = t.size * t.progress;
  const base = have > 0 ? have : t.downloaded;
  return base > 0 ? t.uploaded / base : null;
}

const SORT_KEYS = {
  name: (t) => t.name.toLocaleLowerCase(),
  size: (t) => t.size,
  progress: (t) => t.progress,
  state: (t) => STATE_ORDER.indexOf(t.state),
  down_rate: (t) => t.down_rate,
  up_rate: (t) => t.up_rate,
  eta: (t) => eta(t),
  ratio: (t) => shareRatio(t) ?? -1,
};

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compare(a, b) {
  if (typeof a === 'string') return collator.compare(a, b);
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** The torrents to show, in order. */
export function visible(torrents, { filter, search, sort }) {
  const words = search.trim().toLocaleLowerCase().split(/\s+/).filter(Boolean);
  const keep = FILTERS[filter] || FILTERS.all;
  const key = SORT_KEYS[sort.key] || SORT_KEYS.name;
  const sign = sort.dir === 'desc' ? -1 : 1;
  return torrents
    .filter((t) => keep(t.state))
    .filter((t) => {
      const name = t.name.toLocaleLowerCase();
      return words.every((w) => name.includes(w) || t.id.startsWith(w));
    })
    .sort((a, b) => sign * compare(key(a), key(b)) || collator.compare(a.name, b.name));
}

/** The second line under a torrent's name. */
function meta(t) {
  const peers = `${t.peer_count} ${t.peer_count === 1 ? 'peer' : 'peers'}`;
  switch (t.state) {
    case 'error': return t.error || 'Stopped on an error';
    case 'fetching_metadata': return t.error ? `Fetching metadata: ${t.error}` : `Fetching metadata · ${peers}`;
    case 'checking': return `Verifying data · ${t.pieces_have} of ${t.pieces_total} pieces`;
    case 'queued': return 'Waiting to start';
    case 'seeding': return `${peers} · ${fmt.bytes(t.uploaded)} uploaded`;
    default: return `${fmt.bytes(t.size - t.left)} of ${fmt.bytes(t.size)} · ${peers}`;
  }
}

/**
 * Builds the table controller. `actions` has select(id), toggle(torrent), remove(torrent).
 */
export function createTable(tbody, actions) {
  const rows = new Map();

  function makeRow(t) {
    const name = h('span', { class: 't-name' });
    const sub = h('span', { class: 't-meta' });
    const progressBar = bar(0);
    const percent = h('span');
    const badge = h('span', { class: 'badge' });
    const toggle = iconButton('pause', 'Pause', () => actions.toggle(row.torrent));
    toggle.classList.add('row-toggle');
    const cells = {
      name: h('td', { class: 'c-name' }, name, sub),
      size: h('td', { class: 'c-size num' }),
      progress: h('td', { class: 'c-progress' }, h('div', { class: 'progress-cell' }, progressBar, percent)),
      state: h('td', { class: 'c-state' }, badge),
      down: h('td', { class: 'c-down num rate-cell' }),
      up: h('td', { class: 'c-up num rate-cell' }),
      eta: h('td', { class: 'c-eta num' }),
      ratio: h('td', { class: 'c-ratio num' }),
      actions: h('td', { class: 'c-actions' }, h('div', { class: 'row-actions' },
        toggle, iconButton('trash', 'Remove', () => actions.remove(row.torrent), 'danger'))),
    };
    const tr = h('tr', { dataset: { id: t.id }, tabindex: '0', 'aria-selected': 'false' }, Object.values(cells));
    tr.addEventListener('click', () => actions.select(row.torrent.id));
    tr.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        actions.select(row.torrent.id);
      }
    });
    const row = { tr, cells, name, sub, progressBar, percent, badge, toggle, torrent: t };
    return row;
  }

  function update(row, t, selected) {
    row.torrent = t;
    const c = row.cells;
    setText(row.name, t.name);
    row.name.title = t.name;
    setText(row.sub, meta(t));
    row.sub.classList.toggle('error', t.state === 'error' || (t.state === 'fetching_metadata' && Boolean(t.error)));
    setText(c.size, t.size ? fmt.bytes(t.size) : '–');
    setBar(row.progressBar, t.progress, t.state);
    setText(row.percent, fmt.percent(t.progress));
    setText(row.badge, fmt.stateLabel(t.state));
    row.badge.dataset.state = t.state;
    setText(c.down, fmt.rate(t.down_rate, true));
    c.down.classList.toggle('active-down', t.down_rate > 0);
    setText(c.up, fmt.rate(t.up_rate, true));
    c.up.classList.toggle('active-up', t.up_rate > 0);
    const seconds = eta(t);
    setText(c.eta, seconds === 0 ? '–' : fmt.duration(seconds));
    setText(c.ratio, fmt.ratio(shareRatio(t)));
    const paused = isStopped(t);
    const label = paused ? 'Resume' : 'Pause';
    if (row.toggle.title !== label) {
      row.toggle.title = label;
      row.toggle.setAttribute('aria-label', label);
      setIcon(row.toggle.querySelector('svg'), paused ? 'play' : 'pause');
    }
    row.tr.setAttribute('aria-selected', String(selected));
  }

  return {
    /** Shows `list` (already filtered and sorted); `selected` is the open torrent's id. */
    render(list, selected) {
      const seen = new Set();
      list.forEach((t, i) => {
        let row = rows.get(t.id);
        if (!row) {
          row = makeRow(t);
          rows.set(t.id, row);
        }
        update(row, t, t.id === selected);
        seen.add(t.id);
        if (tbody.children[i] !== row.tr) tbody.insertBefore(row.tr, tbody.children[i] || null);
      });
      for (const [id, row] of rows) {
        if (!seen.has(id)) {
          row.tr.remove();
          rows.delete(id);
        }
      }
    },
  };
}

/** Marks the sorted column header (aria-sort drives the arrow). */
export function showSort(thead, sort) {
  for (const th of thead.querySelectorAll('th[data-sort]')) {
    if (th.dataset.sort === sort.key) th.setAttribute('aria-sort', sort.dir === 'desc' ? 'descending' : 'ascending');
    else th.removeAttribute('aria-sort');
  }
}
