// ferrent's web UI: the list, the detail drawer and the dialogs, kept up to date by the
// daemon's event stream (with polling when the stream is down).

import { byId, setText, setIcon } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { FILTERS, createTable, isStopped, showSort, visible } from './table.js';
import { createDetail } from './detail.js';
import {
  toast, createAddDialog, addFiles, createLimitsDialog, confirmRemove, installTokenPrompt, createPlayer,
} from './dialogs.js';

/** List refresh while the event stream is up (it also says when something changes). */
const LIVE_REFRESH_MS = 2000;
/** List refresh while it is down. */
const POLL_MS = 2000;
/** Detail refresh while the drawer is open. */
const DETAIL_MS = 1500;
const THEMES = ['auto', 'light', 'dark'];

const store = {
  torrents: [],
  session: null,
  filter: 'all',
  search: '',
  sort: loadSort(),
  live: false,
  loaded: false,
};

function loadSort() {
  try {
    const saved = JSON.parse(localStorage.getItem('ferrent.sort') || 'null');
    if (saved && typeof saved.key === 'string') return { key: saved.key, dir: saved.dir === 'desc' ? 'desc' : 'asc' };
  } catch {
    // Fall through to the default.
  }
  return { key: 'name', dir: 'asc' };
}

const table = createTable(byId('torrent-rows'), {
  select: (id) => openDetail(id),
  toggle: (t) => toggle(t),
  remove: (t) => remove(t),
});
const player = createPlayer();
const detail = createDetail({
  toggle, remove, close: () => closeDetail(),
  recheck: async (t) => {
    try {
      await api.recheck(t.id);
      toast(`Verifying ${t.name}`);
      refreshSoon();
    } catch (e) {
      toast(e.message, true);
    }
  },
  play: (url, path) => player.play(url, path),
  setPriorities: async (id, priorities) => { await api.setPriorities(id, priorities); refreshDetail(); },
  setLimits: async (id, limits) => { await api.setLimits(id, limits); refreshSoon(); },
  toast,
});
const addDialog = createAddDialog(added);
const limitsDialog = createLimitsDialog(() => store.session?.limits, (limits) => {
  if (store.session) store.session.limits = limits;
  renderSession();
});

function added(summary) {
  toast(`Added ${summary.name}`);
  refreshSoon();
}

async function toggle(t) {
  const paused = isStopped(t);
  try {
    await (paused ? api.resume(t.id) : api.pause(t.id));
    refreshSoon();
    if (detail.id === t.id) refreshDetail();
  } catch (e) {
    toast(e.message, true);
  }
}

async function remove(t) {
  const answer = await confirmRemove(t);
  if (!answer) return;
  try {
    await api.remove(t.id, answer.deleteData);
    toast(answer.deleteData ? `Removed ${t.name} and its data` : `Removed ${t.name}`);
    if (detail.id === t.id) closeDetail();
    store.torrents = store.torrents.filter((x) => x.id !== t.id);
    render();
    refreshSoon();
  } catch (e) {
    toast(e.message, true);
  }
}

// ---------- rendering ----------

function render() {
  const list = visible(store.torrents, store);
  table.render(list, detail.id);
  for (const [name, keep] of Object.entries(FILTERS)) {
    setText(document.querySelector(`[data-count="${name}"]`), store.torrents.filter((t) => keep(t.state)).length);
  }
  const empty = byId('empty');
  empty.hidden = !store.loaded || list.length > 0;
  byId('torrents').hidden = store.loaded && list.length === 0;
  const none = store.torrents.length === 0;
  setText(byId('empty-title'), none ? 'No torrents yet' : 'Nothing matches');
  setText(byId('empty-text'), none
    ? 'Drop a .torrent file anywhere on this page, or add a magnet link.'
    : 'No torrent matches the search and filter. Clear them to see everything.');
  setText(byId('empty-add').lastElementChild, none ? 'Add torrent' : 'Clear filters');
  byId('resume-all').disabled = !store.torrents.some(isStopped);
  byId('pause-all').disabled = store.torrents.every(isStopped);
  const down = store.torrents.reduce((n, t) => n + t.down_rate, 0);
  const up = store.torrents.reduce((n, t) => n + t.up_rate, 0);
  setRates(down, up);
  document.title = down > 0 || up > 0 ? `↓ ${fmt.rate(down)} ↑ ${fmt.rate(up)} · ferrent` : 'ferrent';
}

function setRates(down, up) {
  setText(byId('rate-down'), fmt.rate(down));
  setText(byId('rate-up'), fmt.rate(up));
}

function renderSession() {
  const s = store.session;
  if (!s) return;
  const stat = (name, value) => setText(document.querySelector(`[data-stat="${name}"]`), value);
  stat('downloaded', fmt.bytes(s.downloaded));
  stat('uploaded', fmt.bytes(s.uploaded));
  stat('peers', String(s.peers));
  stat('uptime', fmt.duration(s.uptime_secs));
  const limit = (v) => (v ? fmt.rate(v) : 'None');
  stat('limit-down', limit(s.limits.download));
  stat('limit-up', limit(s.limits.upload));
  byId('limit-badge').hidden = !(s.limits.download || s.limits.upload);
  setText(byId('version'), `ferrent ${s.version}`);
}

function setConnection(state) {
  const el = byId('conn');
  const labels = { live: 'Live', polling: 'Polling', offline: 'Offline', connecting: 'Connecting' };
  const titles = {
    live: 'Live updates from the daemon',
    polling: 'The event stream is down: refreshing every 2 seconds',
    offline: 'Cannot reach the daemon',
    connecting: 'Connecting',
  };
  el.dataset.state = state;
  el.title = titles[state];
  setText(el.lastElementChild, labels[state]);
}

// ---------- data ----------

let refreshing = null;
let soon = null;
let lastList = 0;

async function refresh() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      const [torrents, session] = await Promise.all([api.list(), api.session()]);
      store.torrents = torrents;
      store.session = session;
      store.loaded = true;
      lastList = Date.now();
      if (!store.live) setConnection('polling');
      render();
      renderSession();
      if (detail.id && !torrents.some((t) => t.id === detail.id)) closeDetail();
    } catch (e) {
      if (e.status === 0) setConnection('offline');
      else toast(e.message, true);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** Refreshes the list shortly (several triggers in a burst make one request). */
function refreshSoon(delay = 150) {
  clearTimeout(soon);
  soon = setTimeout(refresh, delay);
}

async function refreshDetail() {
  const id = detail.id;
  if (!id) return;
  try {
    const d = await api.details(id);
    detail.update(d);
  } catch (e) {
    if (e.status === 404) closeDetail();
  }
}

function onEvent(type, data) {
  if (type === 'stats' && data) {
    setRates(data.down_rate, data.up_rate);
    if (Date.now() - lastList >= LIVE_REFRESH_MS - 250) refreshSoon(0);
    return;
  }
  if (type === 'error' && data) toast(`${nameOf(data.id)}: ${data.message}`, true);
  if (type === 'completed' && data) toast(`${nameOf(data.id)} finished downloading`);
  refreshSoon();
  if (data && data.id && data.id === detail.id) refreshDetail();
}

function nameOf(id) {
  return store.torrents.find((t) => t.id === id)?.name || id;
}

// ---------- detail and URL ----------

function openDetail(id, tab) {
  const summary = store.torrents.find((t) => t.id === id);
  detail.open(id, summary, tab);
  const hash = `#t=${id}`;
  if (location.hash !== hash) history.replaceState(null, '', hash);
  render();
  refreshDetail();
}

function closeDetail() {
  detail.close();
  if (location.hash) history.replaceState(null, '', location.pathname);
  render();
}

function fromHash() {
  const match = /^#t=([0-9a-f]{40})$/i.exec(location.hash);
  if (match) openDetail(match[1].toLowerCase());
  else if (detail.id) closeDetail();
}

// ---------- theme ----------

function applyTheme(theme) {
  if (theme === 'auto') document.documentElement.removeAttribute('data-theme');
  else document.documentElement.dataset.theme = theme;
  const button = byId('theme-btn');
  const label = { auto: 'Theme: automatic', light: 'Theme: light', dark: 'Theme: dark' }[theme];
  button.title = label;
  button.setAttribute('aria-label', label);
  setIcon(button.querySelector('svg'), { auto: 'auto', light: 'sun', dark: 'moon' }[theme]);
  if (detail.id && detail.tab === 'pieces') refreshDetail();
}

function currentTheme() {
  try {
    const saved = localStorage.getItem('ferrent.theme');
    return THEMES.includes(saved) ? saved : 'auto';
  } catch {
    return 'auto';
  }
}

// ---------- wiring ----------

function wire() {
  byId('add-btn').addEventListener('click', () => addDialog.open());
  byId('empty-add').addEventListener('click', () => {
    if (store.torrents.length) {
      store.search = '';
      byId('search').value = '';
      setFilter('all');
    } else {
      addDialog.open();
    }
  });
  byId('limits-btn').addEventListener('click', () => limitsDialog.open());
  byId('theme-btn').addEventListener('click', () => {
    const next = THEMES[(THEMES.indexOf(currentTheme()) + 1) % THEMES.length];
    try { localStorage.setItem('ferrent.theme', next); } catch { /* memory only */ }
    applyTheme(next);
  });
  byId('search').addEventListener('input', (event) => { store.search = event.target.value; render(); });
  for (const button of document.querySelectorAll('[data-filter]')) {
    button.addEventListener('click', () => setFilter(button.dataset.filter));
  }
  byId('filter-select').addEventListener('change', (event) => setFilter(event.target.value));
  const thead = byId('torrents').tHead;
  for (const th of thead.querySelectorAll('th[data-sort]')) {
    th.querySelector('button').addEventListener('click', () => {
      const key = th.dataset.sort;
      const numeric = key !== 'name' && key !== 'state' && key !== 'eta';
      store.sort = store.sort.key === key
        ? { key, dir: store.sort.dir === 'asc' ? 'desc' : 'asc' }
        : { key, dir: numeric ? 'desc' : 'asc' };
      try { localStorage.setItem('ferrent.sort', JSON.stringify(store.sort)); } catch { /* memory only */ }
      showSort(thead, store.sort);
      render();
    });
  }
  showSort(thead, store.sort);
  byId('pause-all').addEventListener('click', () => bulk((t) => !isStopped(t), api.pause, 'Paused'));
  byId('resume-all').addEventListener('click', () => bulk(isStopped, api.resume, 'Resumed'));
  window.addEventListener('hashchange', fromHash);
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && detail.id && !document.querySelector('dialog[open]')) closeDetail();
    if (event.key === '/' && document.activeElement === document.body) {
      event.preventDefault();
      byId('search').focus();
    }
  });
  wireDrop();
}

async function bulk(which, call, verb) {
  const targets = store.torrents.filter(which);
  if (!targets.length) return;
  const results = await Promise.allSettled(targets.map((t) => call(t.id)));
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length) toast(`${failed.length} of ${targets.length} failed: ${failed[0].reason.message}`, true);
  else toast(`${verb} ${targets.length} ${targets.length === 1 ? 'torrent' : 'torrents'}`);
  refreshSoon();
}

function setFilter(name) {
  store.filter = FILTERS[name] ? name : 'all';
  for (const button of document.querySelectorAll('[data-filter]')) {
    button.setAttribute('aria-pressed', String(button.dataset.filter === store.filter));
  }
  byId('filter-select').value = store.filter;
  render();
}

/** Dropping .torrent files anywhere on the page adds them. */
function wireDrop() {
  const overlay = byId('drop-overlay');
  let depth = 0;
  const hasFiles = (event) => [...(event.dataTransfer?.types || [])].includes('Files');
  document.addEventListener('dragenter', (event) => {
    if (!hasFiles(event) || document.querySelector('dialog[open]')) return;
    depth += 1;
    overlay.hidden = false;
  });
  document.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) overlay.hidden = true;
  });
  document.addEventListener('dragover', (event) => { if (hasFiles(event)) event.preventDefault(); });
  document.addEventListener('drop', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth = 0;
    overlay.hidden = true;
    if (document.querySelector('dialog[open]')) return;
    addFiles([...event.dataTransfer.files], added);
  });
}

function start() {
  installTokenPrompt();
  applyTheme(currentTheme());
  wire();
  fromHash();
  refresh();
  api.followEvents(onEvent, (live) => {
    store.live = live;
    setConnection(live ? 'live' : 'polling');
    if (live) refreshSoon(0);
  });
  // Polling: the whole list while the stream is down (or quiet), the open torrent always.
  setInterval(() => {
    if (document.hidden) return;
    if (!store.live || Date.now() - lastList > LIVE_REFRESH_MS * 3) refresh();
  }, POLL_MS);
  setInterval(() => {
    if (!document.hidden && detail.id) refreshDetail();
  }, DETAIL_MS);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
}

start();
