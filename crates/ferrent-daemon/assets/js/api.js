// The daemon's HTTP API (/api/v1): JSON requests with the token when one is needed,
// and the server-sent event stream read through fetch (so that it can carry the token).

export const API = '/api/v1';
const TOKEN_KEY = 'ferrent.token';

/** An error answer from the daemon (or the network). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let token = readToken();
let tokenPrompt = null;
let pendingPrompt = null;

function readToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

/** Registers the function that asks the user for the token: `(refused) => Promise<{token, remember}>`. */
export function onTokenNeeded(prompt) {
  tokenPrompt = prompt;
}

function storeToken(value, remember) {
  token = value;
  try {
    localStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(TOKEN_KEY);
    (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, value);
  } catch {
    // Private browsing without storage: keep it in memory only.
  }
}

/**
 * Asks once for a token however many requests are waiting for it; the prompt is told
 * whether a token was refused (one was sent and the answer was still 401).
 */
function askForToken() {
  if (!tokenPrompt) return Promise.reject(new ApiError(401, 'unauthorized', 'the daemon needs its API token'));
  if (!pendingPrompt) {
    pendingPrompt = tokenPrompt(Boolean(token)).then((answer) => {
      storeToken(answer.token, answer.remember);
    }).finally(() => { pendingPrompt = null; });
  }
  return pendingPrompt;
}

function headers(extra = {}) {
  const all = { Accept: 'application/json', ...extra };
  if (token) all.Authorization = `Bearer ${token}`;
  return all;
}

async function errorFrom(response) {
  let code = 'http_error';
  let message = `${response.status} ${response.statusText}`.trim();
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch {
    // Not JSON: keep the status line.
  }
  return new ApiError(response.status, code, message);
}

/**
 * Sends a request. `body` is JSON unless it is a Blob/ArrayBuffer (a .torrent file).
 * A 401 asks for the token and tries again. Resolves to the parsed JSON (null for 204).
 */
export async function request(method, path, body, query) {
  const url = new URL(API + path, location.origin);
  for (const [key, value] of Object.entries(query || {})) url.searchParams.set(key, String(value));
  const init = { method, headers: headers(), cache: 'no-store' };
  if (body instanceof Blob || body instanceof ArrayBuffer) {
    init.headers['Content-Type'] = 'application/x-bittorrent';
    init.body = body;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  for (;;) {
    let response;
    try {
      response = await fetch(url, init);
    } catch (e) {
      throw new ApiError(0, 'network', `cannot reach the daemon (${e.message})`);
    }
    if (response.status === 401) {
      await askForToken();
      init.headers = { ...init.headers, ...headers() };
      continue;
    }
    if (!response.ok) throw await errorFrom(response);
    if (response.status === 204) return null;
    return response.json();
  }
}

export const list = () => request('GET', '/torrents');
export const details = (id) => request('GET', `/torrents/${id}`);
export const session = () => request('GET', '/session');
export const pause = (id) => request('POST', `/torrents/${id}/pause`);
export const resume = (id) => request('POST', `/torrents/${id}/resume`);
export const recheck = (id) => request('POST', `/torrents/${id}/recheck`);
export const remove = (id, deleteData) => request('DELETE', `/torrents/${id}`, undefined, { delete_data: deleteData });
export const setPriorities = (id, priorities) => request('PUT', `/torrents/${id}/files`, { priorities });
export const setLimits = (id, limits) => request('PUT', `/torrents/${id}/limits`, limits);
export const setSessionLimits = (limits) => request('PUT', '/session/limits', limits);

/** Adds a .torrent file (a File or Blob), with `options` {download_dir, paused}. */
export function addFile(file, options) {
  const query = {};
  if (options.download_dir) query.download_dir = options.download_dir;
  if (options.paused) query.paused = true;
  return request('POST', '/torrents', file, query);
}

/** Adds a magnet link or .torrent URL: `source` is {magnet} or {url}. */
export function addSource(source, options) {
  const body = { ...source, paused: Boolean(options.paused) };
  if (options.download_dir) body.download_dir = options.download_dir;
  return request('POST', '/torrents', body);
}

/**
 * Follows the event stream: `onEvent(type, data)` for each event, `onStatus(live)` when
 * it connects or drops. Reconnects with back-off until `stop()` is called.
 */
export function followEvents(onEvent, onStatus) {
  let stopped = false;
  let controller = null;
  let delay = 1000;

  async function run() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const response = await fetch(API + '/events', {
          headers: headers({ Accept: 'text/event-stream' }), cache: 'no-store', signal: controller.signal,
        });
        if (response.status === 401) {
          onStatus(false);
          await askForToken();
          continue;
        }
        if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
        onStatus(true);
        delay = 1000;
        await readEvents(response.body, onEvent);
      } catch (e) {
        if (stopped) return;
      }
      onStatus(false);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 15000);
    }
  }

  run();
  return {
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}

/** Parses a text/event-stream body (the subset the daemon sends: event, data, comments). */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let type = 'message';
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let newline;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (data.length) {
          let parsed = null;
          try { parsed = JSON.parse(data.join('\n')); } catch { parsed = null; }
          onEvent(type, parsed);
        }
        type = 'message';
        data = [];
      } else if (line.startsWith(':')) {
        continue;
      } else {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') type = text;
        else if (field === 'data') data.push(text);
      }
    }
  }
}
