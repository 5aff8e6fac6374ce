// Dialogs and notifications: add a torrent, speed limits, confirm removal, the API token,
// the player, and toasts.

import { h, byId, icon, clear, setText } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';

/** Shows a short notice in the corner; errors stay longer. */
export function toast(text, isError = false) {
  const box = byId('toasts');
  const close = h('button', { type: 'button', 'aria-label': 'Dismiss' }, icon('close'));
  const item = h('div', { class: `toast${isError ? ' error' : ''}`, role: isError ? 'alert' : 'status' },
    icon(isError ? 'alert' : 'check'), h('p', { text }), close);
  const remove = () => item.remove();
  close.addEventListener('click', remove);
  box.append(item);
  while (box.childElementCount > 4) box.firstElementChild.remove();
  setTimeout(remove, isError ? 9000 : 3500);
}

function showError(el, message) {
  setText(el, message || '');
  el.hidden = !message;
}

/** The Add dialog. `onAdded(summary)` runs for each torrent added. */
export function createAddDialog(onAdded) {
  const dialog = byId('add-dialog');
  const form = byId('add-form');
  const fileInput = byId('file-input');
  const dropzone = byId('dropzone');
  const error = byId('add-error');
  const submit = byId('add-submit');
  let kind = 'file';
  let chosen = [];

  function setKind(next) {
    kind = next;
    for (const button of dialog.querySelectorAll('[data-kind]')) {
      button.setAttribute('aria-selected', String(button.dataset.kind === kind));
    }
    for (const pane of dialog.querySelectorAll('[data-pane]')) pane.hidden = pane.dataset.pane !== kind;
    showError(error, '');
    (kind === 'magnet' ? byId('magnet-input') : kind === 'url' ? byId('url-input') : null)?.focus();
  }

  function setFiles(files) {
    chosen = [...files];
    setText(byId('file-label'), chosen.length ? chosen.map((f) => f.name).join(', ') : 'Choose .torrent files');
    setText(byId('file-hint'), chosen.length ? `${chosen.length} ${chosen.length === 1 ? 'file' : 'files'}, ${fmt.bytes(chosen.reduce((n, f) => n + f.size, 0))}` : 'or drop them here');
  }

  for (const button of dialog.querySelectorAll('[data-kind]')) {
    button.addEventListener('click', () => setKind(button.dataset.kind));
  }
  fileInput.addEventListener('change', () => setFiles(fileInput.files));
  dropzone.addEventListener('dragover', (event) => { event.preventDefault(); dropzone.classList.add('over'); });
  dropzone.addEventListener('dragleave', () => dropzone.classList.remove('over'));
  dropzone.addEventListener('drop', (event) => {
    event.preventDefault();
    event.stopPropagation();
    dropzone.classList.remove('over');
    setFiles(event.dataTransfer.files);
  });

  form.addEventListener('submit', async (event) => {
    if (event.submitter?.value !== 'add') return;
    event.preventDefault();
    const options = { download_dir: byId('dir-input').value.trim(), paused: byId('paused-input').checked };
    showError(error, '');
    submit.disabled = true;
    try {
      if (kind === 'file') {
        if (!chosen.length) throw new Error('Choose a .torrent file first.');
        for (const file of chosen) onAdded(await api.addFile(file, options));
      } else if (kind === 'magnet') {
        const magnet = byId('magnet-input').value.trim();
        if (!magnet.startsWith('magnet:')) throw new Error('A magnet link starts with "magnet:".');
        onAdded(await api.addSource({ magnet }, options));
      } else {
        const url = byId('url-input').value.trim();
        if (!/^https?:\/\//i.test(url)) throw new Error('Give an http:// or https:// address.');
        onAdded(await api.addSource({ url }, options));
      }
      dialog.close('added');
    } catch (e) {
      showError(error, e.message);
    } finally {
      submit.disabled = false;
    }
  });

  return {
    open(startKind = 'file') {
      form.reset();
      setFiles([]);
      showError(error, '');
      dialog.showModal();
      setKind(startKind);
    },
  };
}

/** Adds dropped or picked .torrent files straight away, reporting each result. */
export async function addFiles(files, onAdded) {
  for (const file of files) {
    if (!/\.torrent$/i.test(file.name) && file.type !== 'application/x-bittorrent') {
      toast(`${file.name} is not a .torrent file`, true);
      continue;
    }
    try {
      onAdded(await api.addFile(file, {}));
    } catch (e) {
      toast(`${file.name}: ${e.message}`, true);
    }
  }
}

/** The global speed limits dialog. `current()` gives the session's limits. */
export function createLimitsDialog(current, onSaved) {
  const dialog = byId('limits-dialog');
  const form = byId('limits-form');
  const error = byId('limits-error');
  const fields = [
    ['download', byId('limit-down'), byId('limit-down-unit')],
    ['upload', byId('limit-up'), byId('limit-up-unit')],
  ];
  form.addEventListener('submit', async (event) => {
    if (event.submitter?.value !== 'save') return;
    event.preventDefault();
    const limits = {};
    for (const [key, input, unit] of fields) {
      const value = fmt.parseRate(input.value, Number(unit.value));
      if (Number.isNaN(value)) {
        showError(error, `The ${key} limit must be a positive number.`);
        return;
      }
      limits[key] = value;
    }
    try {
      onSaved(await api.setSessionLimits(limits));
      dialog.close('saved');
      toast('Speed limits saved');
    } catch (e) {
      showError(error, e.message);
    }
  });
  return {
    open() {
      showError(error, '');
      const limits = current() || {};
      for (const [key, input, unit] of fields) {
        const value = limits[key] || 0;
        const mib = value >= 1048576 && value % 1048576 === 0;
        unit.value = mib ? '1048576' : '1024';
        input.value = value ? String(Math.round((value / Number(unit.value)) * 100) / 100) : '';
      }
      dialog.showModal();
    },
  };
}

/** Asks whether to remove a torrent; resolves to null (cancelled) or {deleteData}. */
export function confirmRemove(torrent) {
  const dialog = byId('confirm-dialog');
  const box = byId('confirm-delete');
  box.checked = false;
  clear(byId('confirm-text'));
  byId('confirm-text').append('Remove ', h('strong', { text: torrent.name }), ' from the list?');
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'remove' ? { deleteData: box.checked } : null);
    }, { once: true });
  });
}

/** The token prompt, registered with the API module. */
export function installTokenPrompt() {
  const dialog = byId('token-dialog');
  const input = byId('token-input');
  const error = byId('token-error');
  dialog.addEventListener('cancel', (event) => event.preventDefault());
  api.onTokenNeeded((retry) => new Promise((resolve) => {
    showError(error, retry ? 'That token was not accepted. Check it and try again.' : '');
    input.value = '';
    dialog.showModal();
    dialog.addEventListener('close', () => {
      resolve({ token: input.value.trim(), remember: byId('token-remember').checked });
    }, { once: true });
  }));
}

/** The in-page player for a file's stream. */
export function createPlayer() {
  const dialog = byId('player-dialog');
  const video = byId('player');
  dialog.addEventListener('close', () => {
    video.pause();
    video.removeAttribute('src');
    video.load();
  });
  return {
    play(url, path) {
      setText(byId('player-title'), path.split('/').pop());
      byId('player-link').href = url;
      video.src = url;
      dialog.showModal();
      video.play().catch(() => {});
    },
  };
}
