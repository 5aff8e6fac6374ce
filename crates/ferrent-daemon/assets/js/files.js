// The detail view's Files tab: progress per file, wanted or skipped, priority, and a
// stream link (with an in-page player for audio and video).

import { h, icon, bar, setBar, setText, clear } from './dom.js';
import * as fmt from './format.js';

const PLAYABLE = new Set([
  'mp4', 'm4v', 'mkv', 'webm', 'mov', 'ogv', 'avi', 'ts', 'm2ts', 'mpg', 'mpeg',
  'mp3', 'm4a', 'm4b', 'aac', 'flac', 'ogg', 'oga', 'opus', 'wav',
]);

/** Whether a file is audio or video, by its extension. */
export function isPlayable(path) {
  const name = path.split('/').pop() || '';
  const dot = name.lastIndexOf('.');
  return dot > 0 && PLAYABLE.has(name.slice(dot + 1).toLowerCase());
}

const PRIORITIES = [['1', 'Normal'], ['2', 'High'], ['3', 'Highest']];

/**
 * The Files tab. `actions`: setPriorities(id, priorities) → Promise, play(id, index, path),
 * toast(text, isError).
 */
export function createFilesPanel(actions) {
  let key = null;
  let rows = [];
  let pending = null;
  let current = null;
  const summary = h('span');
  const table = h('table', { class: 'sub-table files-table' });
  const tbody = h('tbody');
  const all = h('button', { type: 'button', class: 'btn btn-ghost btn-small', text: 'Download all', onclick: () => setAll(1) });
  const none = h('button', { type: 'button', class: 'btn btn-ghost btn-small', text: 'Skip all', onclick: () => setAll(0) });
  table.append(h('thead', {}, h('tr', {},
    h('th', { text: 'Name' }), h('th', { text: 'Priority' }),
    h('th', { class: 'num' }, h('span', { class: 'visually-hidden', text: 'Stream' })))), tbody);
  const root = h('div', {}, h('div', { class: 'panel-tools' }, summary, h('span', { class: 'spacer' }), all, none), table);

  function priorities() {
    return pending ? pending.slice() : current.files.map((f) => f.priority);
  }

  async function send(next) {
    const id = current.id;
    pending = next;
    refresh(current);
    try {
      await actions.setPriorities(id, next);
    } catch (e) {
      actions.toast(`Could not change the files: ${e.message}`, true);
      pending = null;
      if (current) refresh(current);
    }
  }

  function setAll(value) {
    send(priorities().map(() => value));
  }

  function makeRow(file, position) {
    const wanted = h('input', { type: 'checkbox', 'aria-label': 'Download this file' });
    wanted.addEventListener('change', () => {
      const next = priorities();
      next[position] = wanted.checked ? 1 : 0;
      send(next);
    });
    const select = h('select', { class: 'prio', 'aria-label': 'Priority' },
      PRIORITIES.map(([value, label]) => h('option', { value, text: label })));
    select.addEventListener('change', () => {
      const next = priorities();
      next[position] = Number(select.value);
      send(next);
    });
    const prefix = `${current.name}/`;
    const shown = file.path.startsWith(prefix) ? file.path.slice(prefix.length) : file.path;
    const slash = shown.lastIndexOf('/');
    const dir = slash >= 0 ? shown.slice(0, slash + 1) : '';
    const base = shown.slice(slash + 1);
    const progress = bar(0);
    const percent = h('span', { class: 'pct' });
    const url = file.stream_url;
    const open = h('a', { class: 'icon-btn small', href: url, target: '_blank', rel: 'noopener', title: 'Open the stream (plays while it downloads)', 'aria-label': `Open ${base}` }, icon('external'));
    const buttons = [open];
    if (isPlayable(file.path)) {
      buttons.unshift(h('button', {
        type: 'button', class: 'icon-btn small play-btn', title: 'Play while downloading', 'aria-label': `Play ${base}`,
        dataset: { stream: url }, onclick: () => actions.play(url, file.path),
      }, icon('play')));
    }
    const tr = h('tr', { class: 'file-row' },
      h('td', {}, h('label', { class: 'file-name' }, wanted,
        h('div', { class: 'file-main' },
          h('div', { class: 'file-path', title: file.path }, h('span', { class: 'dir', text: dir }), h('span', { class: 'base', text: base })),
          h('div', { class: 'file-sub' }, progress, percent, h('span', { class: 'dim', text: `of ${fmt.bytes(file.size)}` }))))),
      h('td', {}, select),
      h('td', {}, h('div', { class: 'file-actions' }, buttons)));
    return { tr, wanted, select, progress, percent };
  }

  function refresh(details) {
    current = details;
    const files = details.files;
    const shape = `${details.id}:${files.map((f) => f.path).join('\n')}`;
    if (shape !== key) {
      key = shape;
      pending = null;
      clear(tbody);
      rows = files.map((f, i) => makeRow(f, i));
      tbody.append(...rows.map((r) => r.tr));
    }
    const prios = priorities();
    if (pending && files.every((f, i) => f.priority === pending[i])) pending = null;
    let wantedCount = 0;
    let wantedBytes = 0;
    files.forEach((file, i) => {
      const row = rows[i];
      const priority = prios[i];
      const fraction = file.size > 0 ? file.done / file.size : 1;
      setBar(row.progress, fraction, fraction >= 1 ? 'seeding' : priority === 0 ? 'paused' : 'downloading');
      setText(row.percent, fmt.percent(fraction));
      row.wanted.checked = priority > 0;
      row.tr.classList.toggle('skipped', priority === 0);
      row.select.disabled = priority === 0;
      const shown = String(Math.min(Math.max(priority, 1), 3));
      if (document.activeElement !== row.select && row.select.value !== shown) row.select.value = shown;
      if (priority > 0) {
        wantedCount += 1;
        wantedBytes += file.size;
      }
    });
    setText(summary, `${files.length} ${files.length === 1 ? 'file' : 'files'} · ${wantedCount} selected (${fmt.bytes(wantedBytes)})`);
  }

  return {
    root,
    /** Shows `details` (a TorrentDetails with its id). */
    update(details) {
      if (!details.files.length) {
        key = null;
        clear(tbody);
        setText(summary, details.state === 'fetching_metadata'
          ? 'The file list arrives with the metadata.' : 'Files are listed while the torrent runs.');
        return;
      }
      refresh(details);
    },
  };
}
