// Drives ferrent's web UI in Debian's chromium with playwright-core. Started by
// crates/ferrent-cli/tests/web_e2e.rs, which runs the daemon and a libtorrent seeder on
// 127.0.0.1 and passes the scenario in the FERRENT_E2E environment variable (JSON):
//   {scenario: "download" | "token", url, shots, torrent?, name?, files?, playable?, token?,
//    clip?, clipName?}
// Prints one "STEP ..." line per step and "PASS" at the end; exits 1 on the first failure
// (after a screenshot of the page as it was, and the page's console).

import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const config = JSON.parse(process.env.FERRENT_E2E || '{}');
const CHROMIUM = process.env.FERRENT_CHROMIUM || '/usr/bin/chromium';
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const DOWNLOAD_MS = 120_000;
const UI_MS = 15_000;

mkdirSync(config.shots, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), 'ferrent-chromium-'));
const consoleLines = [];
const problems = [];
let context;
let page;

function step(text) {
  console.log(`STEP ${text}`);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function shot(name, target = page) {
  await target.screenshot({ path: join(config.shots, `${name}.png`), animations: 'disabled' });
  console.log(`SHOT ${name}.png`);
}

/** Watches a page's console: errors fail the run unless `allowed` expects them. */
function watch(target, allowed) {
  target.on('console', (message) => {
    const line = `[${message.type()}] ${message.text()}`;
    consoleLines.push(line);
    if (message.type() === 'error' && !allowed.some((re) => re.test(message.text()))) problems.push(line);
  });
  target.on('pageerror', (error) => {
    consoleLines.push(`[pageerror] ${error.message}`);
    problems.push(`uncaught: ${error.message}`);
  });
  target.on('requestfailed', (request) => {
    const failure = request.failure()?.errorText || '';
    // Streams and the event stream are cut on purpose when the page moves on.
    if (!/ERR_ABORTED/.test(failure)) problems.push(`request failed: ${request.url()} ${failure}`);
  });
}

async function newPage(options = {}) {
  const p = await context.newPage();
  if (options.viewport) await p.setViewportSize(options.viewport);
  watch(p, options.allowed || []);
  return p;
}

/** Drops `path` on the page as if dragged from a file manager. */
async function dropFile(target, path, name) {
  const base64 = readFileSync(path).toString('base64');
  await target.evaluate(({ base64, name }) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, { type: 'application/x-bittorrent' }));
    for (const type of ['dragenter', 'dragover', 'drop']) {
      document.body.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
    }
  }, { base64, name });
}

function row(target, name) {
  return target.locator('#torrent-rows tr', { has: target.locator('.t-name', { hasText: name }) });
}

async function percentOf(r) {
  const text = await r.locator('.progress-cell span').textContent();
  return Number.parseFloat(text);
}

async function api(target, method, path, body) {
  return target.evaluate(async ({ method, path, body }) => {
    const response = await fetch(`/api/v1${path}`, {
      method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: response.status === 204 ? null : await response.json() };
  }, { method, path, body });
}

async function download() {
  const allowed = [/status of 409/];
  page = await newPage({ viewport: { width: 1440, height: 900 }, allowed });
  await page.emulateMedia({ colorScheme: 'light' });

  step('the page loads with its empty state and a live connection');
  await page.goto(config.url);
  await page.locator('#empty').waitFor({ state: 'visible', timeout: UI_MS });
  check((await page.locator('#empty-title').textContent()) === 'No torrents yet', 'empty state title');
  await page.locator('#conn[data-state="live"]').waitFor({ timeout: UI_MS });
  const csp = (await page.request.get(config.url)).headers()['content-security-policy'] || '';
  check(csp.includes("script-src 'self'") && !csp.includes('unsafe'), `strict CSP expected, got ${csp}`);
  await shot('01-empty');

  step('a .torrent dropped on the page is added');
  await dropFile(page, config.torrent, 'open-movies.torrent');
  const r = row(page, config.name);
  await r.waitFor({ timeout: UI_MS });
  await page.locator('.toast', { hasText: `Added ${config.name}` }).waitFor({ timeout: UI_MS });

  step('the list shows it downloading, and the detail view opens');
  await page.waitForFunction((name) => {
    const rowEl = [...document.querySelectorAll('#torrent-rows tr')].find((tr) => tr.textContent.includes(name));
    const p = rowEl && Number.parseFloat(rowEl.querySelector('.progress-cell span').textContent);
    return p > 3 && p < 60;
  }, config.name, { timeout: DOWNLOAD_MS });
  check((await r.locator('.badge').textContent()) === 'Downloading', 'badge says Downloading');
  await shot('02-downloading');
  await r.click();
  const drawer = page.locator('#drawer');
  await drawer.waitFor({ state: 'visible' });
  check((await page.locator('#d-name').textContent()) === config.name, 'drawer shows the torrent');
  await page.locator('#d-panel .file-row').first().waitFor({ timeout: UI_MS });
  check(await page.locator('#d-panel .file-row').count() === config.files.length, 'one row per file');
  for (const path of config.files) {
    await page.locator('#d-panel .file-path', { hasText: path.split('/').pop() }).first().waitFor();
  }
  await shot('03-detail-files');

  step('peers, trackers and the piece map while downloading');
  await page.locator('[data-tab="peers"]').click();
  await page.locator('#d-panel .peers-table .mono', { hasText: '127.0.0.1:' }).first().waitFor({ timeout: UI_MS });
  await shot('04-detail-peers');
  await page.locator('[data-tab="trackers"]').click();
  await page.locator('#d-panel .trackers-table .ok').first().waitFor({ timeout: UI_MS });
  check(await page.locator('#d-panel .trackers-table td.mono', { hasText: config.tracker }).count() === 1, 'tracker URL shown');
  await shot('05-detail-trackers');
  await page.locator('[data-tab="pieces"]').click();
  await page.locator('#d-panel canvas.piece-map').waitFor({ state: 'visible' });
  const legend = await page.locator('#d-panel .legend').textContent();
  check(/Have \d+ of \d+/.test(legend), `piece legend: ${legend}`);
  const painted = await page.locator('#d-panel canvas.piece-map').evaluate((c) => c.width > 0 && c.height > 0);
  check(painted, 'the piece map has a size');
  await shot('06-detail-pieces');

  step('the progress reaches 100% and the torrent seeds');
  await page.locator('#d-close').click();
  await drawer.waitFor({ state: 'hidden' });
  await page.waitForFunction((name) => {
    const rowEl = [...document.querySelectorAll('#torrent-rows tr')].find((tr) => tr.textContent.includes(name));
    return rowEl && rowEl.querySelector('.progress-cell span').textContent === '100%'
      && rowEl.querySelector('.badge').textContent === 'Seeding';
  }, config.name, { timeout: DOWNLOAD_MS });
  check(await percentOf(r) === 100, '100%');

  step('adding it again (file picker, then by URL) is refused with the daemon\'s reason');
  await page.locator('#add-btn').click();
  await page.locator('#add-dialog').waitFor({ state: 'visible' });
  await page.locator('#file-input').setInputFiles(config.torrent);
  await shot('07-add-dialog');
  await page.locator('#add-submit').click();
  await page.locator('#add-error', { hasText: 'already added' }).waitFor({ timeout: UI_MS });
  await page.locator('[data-kind="url"]').click();
  await page.locator('#url-input').fill(config.torrentUrl);
  await page.locator('#add-submit').click();
  await page.locator('#add-error', { hasText: 'already added' }).waitFor({ timeout: UI_MS });

  step('a magnet link is added through the dialog');
  await page.locator('[data-kind="magnet"]').click();
  await page.locator('#magnet-input').fill(config.magnet);
  await page.locator('#add-submit').click();
  await page.locator('#add-dialog').waitFor({ state: 'hidden' });
  const magnetRow = row(page, config.magnetName);
  await magnetRow.waitFor({ timeout: UI_MS });
  check((await magnetRow.locator('.badge').textContent()) === 'Fetching info', 'magnet fetches metadata');

  step('sorting and filtering');
  const names = () => page.locator('#torrent-rows .t-name').allTextContents();
  await page.locator('th[data-sort="name"] button').click();
  const ascending = await names();
  await page.locator('th[data-sort="name"] button').click();
  const descending = await names();
  check(ascending.length === 2 && ascending.join() === [...descending].reverse().join(), `sort by name: ${ascending} / ${descending}`);
  await page.locator('th[data-sort="progress"] button').click();
  check((await names())[0] === config.name, 'progress sorts the complete torrent first');
  await page.locator('[data-filter="seeding"]').click();
  check((await names()).join() === config.name, 'seeding filter');
  await page.locator('[data-filter="all"]').click();
  await page.locator('#search').fill('zzz-no-such');
  await page.locator('#empty-title', { hasText: 'Nothing matches' }).waitFor();
  await page.locator('#search').fill(config.name.split(' ')[1]);
  check((await names()).join() === config.name, 'search by name');
  await page.locator('#search').fill('');
  await shot('08-list-complete');

  step('global speed limits');
  await page.locator('#limits-btn').click();
  await page.locator('#limit-down').fill('750');
  await page.locator('#limit-up-unit').selectOption('1048576');
  await page.locator('#limit-up').fill('2');
  await shot('09-limits');
  await page.locator('#limits-dialog button[value="save"]').click();
  await page.locator('#limits-dialog').waitFor({ state: 'hidden' });
  const limits = (await api(page, 'GET', '/session')).body.limits;
  check(limits.download === 750 * 1024 && limits.upload === 2 * 1048576, `limits: ${JSON.stringify(limits)}`);
  await page.locator('[data-stat="limit-down"]', { hasText: '750 KiB/s' }).waitFor({ timeout: UI_MS });
  await api(page, 'PUT', '/session/limits', { download: 0, upload: 0 });

  step('the files link their streams; playable ones have a player');
  await r.click();
  await page.locator('#d-panel .file-row').first().waitFor({ timeout: UI_MS });
  await page.waitForFunction(() => [...document.querySelectorAll('#d-panel .file-progress span')].every((s) => s.textContent === '100%'));
  const plays = await page.locator('#d-panel .play-btn').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
  check(plays.length === config.playable.length && config.playable.every((p) => plays.some((l) => l.endsWith(p))), `play buttons: ${plays}`);
  const href = await page.locator('#d-panel .file-row a.icon-btn').first().getAttribute('href');
  const range = await page.request.get(new URL(href, config.url).href, { headers: { Range: 'bytes=0-99' } });
  check(range.status() === 206 && (await range.body()).length === 100, `stream link answers ranges (${range.status()})`);
  await shot('10-detail-complete');

  step('priorities: skipping a file is saved');
  await page.locator('#d-panel .file-row input[type="checkbox"]').last().uncheck();
  await page.waitForFunction(async (id) => {
    const d = await (await fetch(`/api/v1/torrents/${id}`)).json();
    return d.files[d.files.length - 1].priority === 0;
  }, config.id, { timeout: UI_MS });
  await page.locator('#d-panel .file-row input[type="checkbox"]').last().check();

  step('the theme button cycles automatic, light and dark');
  const theme = () => page.evaluate(() => document.documentElement.dataset.theme || 'auto');
  const seen = [];
  for (let i = 0; i < 3; i += 1) {
    await page.locator('#theme-btn').click();
    seen.push(await theme());
  }
  check(seen.join() === 'light,dark,auto', `themes: ${seen}`);

  step('dark theme');
  await page.emulateMedia({ colorScheme: 'dark' });
  // The palette follows the system unless a theme is chosen, either way round.
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const chosen = (t) => page.evaluate((t) => {
    if (t) document.documentElement.dataset.theme = t;
    else delete document.documentElement.dataset.theme;
  }, t);
  const [LIGHT_BG, DARK_BG] = ['rgb(244, 245, 247)', 'rgb(14, 17, 22)'];
  check(await background() === DARK_BG, `dark system: ${await background()}`);
  await chosen('light');
  check(await background() === LIGHT_BG, `light chosen on a dark system: ${await background()}`);
  await page.emulateMedia({ colorScheme: 'light' });
  await chosen('dark');
  check(await background() === DARK_BG, `dark chosen on a light system: ${await background()}`);
  await chosen(null);
  check(await background() === LIGHT_BG, `light system: ${await background()}`);
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.locator('[data-tab="pieces"]').click();
  await page.waitForTimeout(300);
  await shot('11-dark-detail');
  await page.locator('#d-close').click();
  await shot('12-dark-list');
  await page.emulateMedia({ colorScheme: 'light' });

  step('pause from the detail view, then resume');
  await r.click();
  await page.locator('#d-toggle[title="Pause"]').click();
  await page.locator('#d-state', { hasText: 'Paused' }).waitFor({ timeout: UI_MS });
  await r.locator('.badge', { hasText: 'Paused' }).waitFor({ timeout: UI_MS });
  check((await api(page, 'GET', `/torrents/${config.id}`)).body.state === 'paused', 'daemon says paused');
  await shot('13-paused');
  await page.locator('#d-toggle[title="Resume"]').click();
  await r.locator('.badge', { hasText: 'Seeding' }).waitFor({ timeout: UI_MS });
  await page.locator('#d-toggle[title="Pause"]').click();
  await r.locator('.badge', { hasText: 'Paused' }).waitFor({ timeout: UI_MS });
  await page.locator('#d-close').click();

  step('a phone-sized window');
  const phone = await newPage({ viewport: { width: 390, height: 844 }, allowed });
  await phone.emulateMedia({ colorScheme: 'dark' });
  await phone.goto(config.url);
  await row(phone, config.name).waitFor({ timeout: UI_MS });
  await shot('14-phone-list', phone);
  await row(phone, config.name).click();
  await phone.locator('#d-panel .file-row').first().waitFor({ timeout: UI_MS });
  await shot('15-phone-detail', phone);
  await phone.close();

  step('remove both, the first with its data, after confirming');
  await r.locator('button[aria-label="Remove"]').click();
  await page.locator('#confirm-dialog').waitFor({ state: 'visible' });
  await page.locator('#confirm-delete').check();
  await shot('16-confirm-remove');
  await page.locator('#confirm-ok').click();
  await r.waitFor({ state: 'detached', timeout: UI_MS });
  await magnetRow.locator('button[aria-label="Remove"]').click();
  await page.locator('#confirm-dialog button[value="cancel"]').click();
  check(await magnetRow.count() === 1, 'cancel keeps the torrent');
  await magnetRow.locator('button[aria-label="Remove"]').click();
  await page.locator('#confirm-ok').click();
  await page.locator('#empty-title', { hasText: 'No torrents yet' }).waitFor({ timeout: UI_MS });
  const left = (await api(page, 'GET', '/torrents')).body;
  check(left.length === 0, `the daemon still lists ${left.length}`);
}

async function token() {
  page = await newPage({ viewport: { width: 1280, height: 800 }, allowed: [/status of 401/] });
  await page.emulateMedia({ colorScheme: 'dark' });

  step('the page asks for the token when the API answers 401');
  await page.goto(config.url);
  await page.locator('#token-dialog').waitFor({ state: 'visible', timeout: UI_MS });
  await shot('20-token-prompt');
  await page.locator('#token-input').fill('not-the-token');
  await page.locator('#token-dialog button[value="ok"]').click();
  await page.locator('#token-error', { hasText: 'not accepted' }).waitFor({ timeout: UI_MS });

  step('with the right token the list loads and live updates work');
  await page.locator('#token-input').fill(config.token);
  await page.locator('#token-dialog button[value="ok"]').click();
  await page.locator('#token-dialog').waitFor({ state: 'hidden' });
  await page.locator('#empty').waitFor({ state: 'visible', timeout: UI_MS });
  await page.locator('#conn[data-state="live"]').waitFor({ timeout: UI_MS });
  await page.locator('#add-btn').click();
  await page.locator('[data-kind="magnet"]').click();
  await page.locator('#magnet-input').fill(config.magnet);
  await page.locator('#add-submit').click();
  await row(page, config.magnetName).waitFor({ timeout: UI_MS });

  step('the token is remembered on reload');
  await page.reload();
  await row(page, config.magnetName).waitFor({ timeout: UI_MS });
  check(!(await page.locator('#token-dialog').isVisible()), 'no second prompt');

  step('the player streams through a signed link, which cannot carry the token');
  await page.locator('#add-btn').click();
  await page.locator('#add-dialog').waitFor({ state: 'visible' });
  await page.locator('#file-input').setInputFiles(config.clip);
  await page.locator('#add-submit').click();
  const clip = row(page, config.clipName);
  await clip.locator('.badge', { hasText: 'Seeding' }).waitFor({ timeout: UI_MS });
  await clip.click();
  const play = page.locator('#d-panel .play-btn').first();
  await play.waitFor({ timeout: UI_MS });
  const streamed = page.waitForResponse((resp) => resp.url().includes('/stream?sig='), { timeout: UI_MS });
  await play.click();
  const answer = await streamed;
  check([200, 206].includes(answer.status()), `the player's stream request got ${answer.status()}`);
  check(!answer.request().headers().authorization, 'the player sent no token');
  const href = await page.locator('#d-panel .file-row a.icon-btn').first().getAttribute('href');
  const link = new URL(href, config.url);
  const ranged = await page.request.get(link.href, { headers: { Range: 'bytes=0-99' } });
  check(ranged.status() === 206 && (await ranged.body()).length === 100, `the open link answers without the token (${ranged.status()})`);
  const forged = new URL(link.href);
  forged.searchParams.set('sig', '00'.repeat(32));
  check((await page.request.get(forged.href)).status() === 401, 'a forged signature is refused');
  const other = new URL(link.href);
  other.pathname = other.pathname.replace('/files/0/', '/files/1/');
  check((await page.request.get(other.href)).status() === 401, 'a signature opens its own file only');
}

async function main() {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS,
    viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'UTC',
  });
  const scenarios = { download, token };
  check(scenarios[config.scenario], `unknown scenario ${config.scenario}`);
  await scenarios[config.scenario]();
  check(problems.length === 0, `console errors:\n${problems.join('\n')}`);
}

try {
  await main();
  console.log('PASS');
} catch (error) {
  console.log(`FAIL ${error.stack || error}`);
  if (page && !page.isClosed()) await shot('failure').catch(() => {});
  console.log(`--- page console ---\n${consoleLines.join('\n')}`);
  process.exitCode = 1;
} finally {
  await context?.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
