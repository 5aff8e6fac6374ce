// The detail drawer: one torrent's facts and its Files, Peers, Trackers, Pieces and
// Options tabs.

import { h, byId, bar, setBar, setText, setIcon, clear, icon } from './dom.js';
import * as fmt from './format.js';
import { eta, isStopped, shareRatio } from './table.js';
import { decodeBitfield, drawPieceMap, countPieces } from './piecemap.js';
import { createFilesPanel } from './files.js';

const TABS = ['files', 'peers', 'trackers', 'pieces', 'options'];

const FLAG_HELP = 'D: downloading from it · d: we want to, it chokes us · U: uploading to it · u: it wants to, we choke it · S: snubbed · I: it connected to us';

/** Copies text, with a fallback for pages that are not a secure context. */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = h('textarea', { class: 'visually-hidden' });
  area.value = text;
  document.body.append(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}

/**
 * `actions`: toggle(t), remove(t), recheck(t), close(), play(id, index, path),
 * setPriorities(id, p), setLimits(id, limits), toast(text, isError).
 */
export function createDetail(actions) {
  const el = {
    drawer: byId('drawer'), name: byId('d-name'), state: byId('d-state'), sub: byId('d-sub'),
    toggle: byId('d-toggle'), recheck: byId('d-recheck'), remove: byId('d-remove'), close: byId('d-close'),
    bar: byId('d-bar').parentElement, percent: byId('d-percent'), error: byId('d-error'), facts: byId('d-facts'),
    tabs: byId('d-tabs'), panel: byId('d-panel'),
    counts: { files: byId('d-files-count'), peers: byId('d-peers-count'), trackers: byId('d-trackers-count') },
  };
  let id = null;
  let tab = 'files';
  let details = null;
  const files = createFilesPanel(actions);
  const canvas = h('canvas', { class: 'piece-map', 'aria-label': 'Piece map' });
  const pieceLegend = h('div', { class: 'legend' });
  const peersBody = h('div');
  const trackersBody = h('div');
  const options = createOptions(actions);
  const panels = {
    files: files.root,
    peers: peersBody,
    trackers: trackersBody,
    pieces: h('div', {}, pieceLegend, canvas),
    options: options.root,
  };

  el.toggle.addEventListener('click', () => details && actions.toggle(details));
  el.recheck.addEventListener('click', () => details && actions.recheck(details));
  el.remove.addEventListener('click', () => details && actions.remove(details));
  el.close.addEventListener('click', () => actions.close());
  for (const button of el.tabs.querySelectorAll('[data-tab]')) {
    button.addEventListener('click', () => showTab(button.dataset.tab));
  }
  window.addEventListener('resize', () => { if (details && tab === 'pieces') renderPieces(); });

  function showTab(name) {
    tab = TABS.includes(name) ? name : 'files';
    for (const button of el.tabs.querySelectorAll('[data-tab]')) {
      button.setAttribute('aria-selected', String(button.dataset.tab === tab));
    }
    clear(el.panel);
    el.panel.append(panels[tab]);
    el.panel.dataset.tab = tab;
    if (details) renderTab();
  }

  function renderTab() {
    if (tab === 'files') files.update(details);
    else if (tab === 'peers') renderPeers();
    else if (tab === 'trackers') renderTrackers();
    else if (tab === 'pieces') renderPieces();
    else options.update(details);
  }

  function renderHeader(t) {
    setText(el.name, t.name);
    setText(el.state, fmt.stateLabel(t.state));
    el.state.dataset.state = t.state;
    setText(el.sub, t.size ? `${fmt.bytes(t.size)} · ${t.pieces_total} pieces` : '');
    setBar(el.bar, t.progress, t.state);
    setText(el.percent, fmt.percent(t.progress));
    const paused = isStopped(t);
    const label = paused ? 'Resume' : 'Pause';
    el.toggle.title = label;
    el.toggle.setAttribute('aria-label', label);
    setIcon(el.toggle.querySelector('svg'), paused ? 'play' : 'pause');
    el.error.hidden = !t.error;
    setText(el.error, t.error || '');
    setText(el.counts.files, t.files && t.files.length ? t.files.length : '');
    setText(el.counts.peers, t.peers ? t.peers.length : '');
    setText(el.counts.trackers, t.trackers && t.trackers.length ? t.trackers.length : '');
  }

  function renderFacts(t) {
    const seconds = eta(t);
    const facts = [
      ['Downloaded', fmt.bytes(t.size - t.left), `of ${fmt.bytes(t.size)}`],
      ['Download', fmt.rate(t.down_rate)],
      ['Upload', fmt.rate(t.up_rate)],
      ['ETA', seconds === 0 ? 'Done' : fmt.duration(seconds)],
      ['Uploaded', fmt.bytes(t.uploaded)],
      ['Ratio', fmt.ratio(shareRatio(t))],
      ['Peers', String(t.peer_count)],
      ['Added', fmt.dateTime(t.added_at)],
    ];
    if (el.facts.childElementCount !== facts.length + 3) {
      clear(el.facts);
      for (const [label] of facts) el.facts.append(h('div', {}, h('dt', { text: label }), h('dd')));
      const copy = h('button', { type: 'button', class: 'icon-btn small', title: 'Copy magnet link', 'aria-label': 'Copy magnet link',
        onclick: () => copyText(details.magnet).then(() => actions.toast('Magnet link copied'), () => actions.toast('Could not copy', true)) }, icon('copy'));
      el.facts.append(
        h('div', { class: 'wide' }, h('dt', { text: 'Location' }), h('dd', { dataset: { fact: 'dir' } })),
        h('div', { class: 'wide' }, h('dt', { text: 'Hash' }), h('dd', { dataset: { fact: 'hash' } })),
        h('div', { class: 'wide' }, h('dt', { text: 'Magnet' }), h('dd', { dataset: { fact: 'magnet' } }), copy));
    }
    const values = el.facts.querySelectorAll('div:not(.wide) dd');
    facts.forEach(([, value, title], i) => {
      setText(values[i], value);
      values[i].title = title ? `${value} ${title}` : value;
    });
    setText(el.facts.querySelector('[data-fact="dir"]'), t.download_dir);
    setText(el.facts.querySelector('[data-fact="hash"]'), t.id);
    const magnet = el.facts.querySelector('[data-fact="magnet"]');
    setText(magnet, t.magnet);
    magnet.title = t.magnet;
  }

  function renderPeers() {
    clear(peersBody);
    const peers = (details.peers || []).slice().sort((a, b) => b.down_rate - a.down_rate || b.up_rate - a.up_rate);
    if (!peers.length) {
      peersBody.append(h('p', { class: 'panel-empty', text: details.state === 'paused' ? 'Paused: no connections.' : 'No peers connected yet.' }));
      return;
    }
    const rows = peers.map((p) => h('tr', {},
      h('td', {}, h('div', { class: 'mono', text: p.addr }), h('div', { class: 'dim small', text: p.client || 'Unknown client' })),
      h('td', { class: 'flags hide-narrow', title: FLAG_HELP, text: p.flags || '–' }),
      h('td', {}, h('div', { class: 'file-progress' }, bar(p.progress, p.progress >= 1 ? 'seeding' : 'downloading'), h('span', { text: fmt.percent(p.progress) }))),
      h('td', { class: 'num', text: fmt.rate(p.down_rate, true), title: `${fmt.bytes(p.downloaded)} received` }),
      h('td', { class: 'num', text: fmt.rate(p.up_rate, true), title: `${fmt.bytes(p.uploaded)} sent` })));
    peersBody.append(h('table', { class: 'sub-table peers-table' },
      h('thead', {}, h('tr', {}, [['Peer', ''], ['Flags', 'hide-narrow'], ['Has', ''], ['Down', 'num'], ['Up', 'num']].map(([label, cls]) =>
        h('th', { class: cls, text: label, title: label === 'Flags' ? FLAG_HELP : undefined })))),
      h('tbody', {}, rows)));
  }

  function renderTrackers() {
    clear(trackersBody);
    const trackers = details.trackers || [];
    if (!trackers.length) {
      trackersBody.append(h('p', { class: 'panel-empty', text: 'No trackers: peers come from the DHT, peer exchange and local discovery.' }));
      return;
    }
    const rows = trackers.map((t) => {
      const next = t.last_announce && t.interval ? t.last_announce + t.interval : null;
      const status = t.working
        ? h('span', { class: 'status ok' }, icon('check'), 'Working')
        : h('span', { class: `status ${t.last_announce || t.message ? 'bad' : 'dim'}`, text: t.message || (t.last_announce ? 'Failing' : 'Not contacted yet') });
      return h('tr', {},
        h('td', { class: 'mono', title: t.url, text: t.url }),
        h('td', {}, status, t.working && t.message ? h('div', { class: 'dim', text: t.message }) : null),
        h('td', { class: 'num', text: t.last_announce ? fmt.relative(t.last_announce) : '–', title: fmt.dateTime(t.last_announce) }),
        h('td', { class: 'num', text: next ? fmt.relative(next) : '–', title: t.interval ? `every ${fmt.duration(t.interval)}` : undefined }),
        h('td', { class: 'num', text: t.seeders ?? '–' }),
        h('td', { class: 'num', text: t.leechers ?? '–' }));
    });
    trackersBody.append(h('table', { class: 'sub-table trackers-table' },
      h('thead', {}, h('tr', {}, ['Tracker', 'Status', 'Last', 'Next', 'Seeds', 'Leechers'].map((label, i) =>
        h('th', { class: i >= 2 ? 'num' : '', text: label })))),
      h('tbody', {}, rows)));
  }

  function renderPieces() {
    const count = details.pieces_total;
    if (!details.pieces || !count) {
      clear(pieceLegend);
      pieceLegend.append(details.state === 'fetching_metadata' ? 'The piece map appears once the metadata has arrived.' : 'The piece map is shown while the torrent runs.');
      canvas.hidden = true;
      return;
    }
    canvas.hidden = false;
    const bits = decodeBitfield(details.pieces);
    const { per } = drawPieceMap(canvas, bits, count);
    const have = countPieces(bits, count);
    clear(pieceLegend);
    pieceLegend.append(
      h('span', {}, h('i', { class: 'have' }), `Have ${have} of ${count}`),
      h('span', {}, h('i', { class: 'missing' }), `Missing ${count - have}`));
    if (per > 1) pieceLegend.append(h('span', { text: `Each cell is ${per} pieces` }));
  }

  return {
    /** The open torrent's id, or null. */
    get id() { return id; },
    /** Opens the drawer for `torrentId` (the summary shows until details arrive). */
    open(torrentId, summary, tabName) {
      const changed = id !== torrentId;
      id = torrentId;
      el.drawer.hidden = false;
      if (changed) {
        details = null;
        if (summary) {
          renderHeader(summary);
          renderFacts({ ...summary, magnet: '' });
        }
      }
      showTab(tabName || (changed ? 'files' : tab));
    },
    /** Closes the drawer. */
    close() {
      id = null;
      details = null;
      el.drawer.hidden = true;
    },
    get tab() { return tab; },
    /** Shows fresh details (ignored when they are for another torrent). */
    update(next) {
      if (next.id !== id) return;
      details = next;
      renderHeader(next);
      renderFacts(next);
      renderTab();
    },
  };
}

/** The Options tab: per-torrent rate caps. */
function createOptions(actions) {
  const down = h('input', { type: 'number', min: '0', step: 'any', placeholder: 'Unlimited', inputmode: 'decimal' });
  const up = h('input', { type: 'number', min: '0', step: 'any', placeholder: 'Unlimited', inputmode: 'decimal' });
  let forId = null;
  let torrentId = null;
  const form = h('form', { class: 'options-grid' },
    h('p', { class: 'hint', text: 'Caps for this torrent alone, in KiB/s. Empty or 0: no cap beyond the global limits.' }),
    h('label', { class: 'field' }, h('span', {}, icon('down'), 'Download limit (KiB/s)'), down),
    h('label', { class: 'field' }, h('span', {}, icon('up'), 'Upload limit (KiB/s)'), up),
    h('div', {}, h('button', { type: 'submit', class: 'btn btn-primary', text: 'Save limits' })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const download = fmt.parseRate(down.value, 1024);
    const upload = fmt.parseRate(up.value, 1024);
    if (Number.isNaN(download) || Number.isNaN(upload)) {
      actions.toast('Limits must be positive numbers', true);
      return;
    }
    try {
      await actions.setLimits(torrentId, { download, upload });
      actions.toast('Limits saved');
    } catch (e) {
      actions.toast(`Could not save the limits: ${e.message}`, true);
    }
  });
  const fill = (input, value) => { input.value = value ? String(Math.round((value / 1024) * 100) / 100) : ''; };
  return {
    root: form,
    update(details) {
      torrentId = details.id;
      if (forId === details.id) return;
      forId = details.id;
      fill(down, details.download_limit);
      fill(up, details.upload_limit);
    },
  };
}
