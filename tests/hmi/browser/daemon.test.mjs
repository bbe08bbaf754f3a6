// The pages against the real daemon: `stopcalld replay --realtime --http` on the demo route with a
// generated trace, voice on a clocked null sink, vehicle signals through its control socket.
// Debian's chromium through playwright-core. What a rider and a driver would notice: the next
// stop changes as the bus leaves each stop, the spoken words appear as subtitles while they are
// said, the console's ramp-assist button warns and puts the ramp prompt on the displays, and an
// emergency or service message sent through the control socket or the console reaches the
// displays, the console and the event log.
//
// Environment (CTest sets them): STOPCALL_DAEMON, STOPCALL_ROUTES, STOPCALL_SCENARIO,
// STOPCALL_CTL (the binaries), STOPCALL_ARTIFACTS (screenshots), STOPCALL_CHROMIUM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const bin = (name, fallback) => process.env[name] || path.join(root, 'build-test', fallback);
const DAEMON = bin('STOPCALL_DAEMON', 'daemon/stopcalld');
const ROUTES = bin('STOPCALL_ROUTES', 'routes/stopcall-routes');
const SCENARIO = bin('STOPCALL_SCENARIO', 'sim/stopcall-scenario');
const CTL = bin('STOPCALL_CTL', 'daemon/stopcallctl');
const ARTIFACTS = process.env.STOPCALL_ARTIFACTS || path.join(root, 'build-test/artifacts');
const CHROMIUM = process.env.STOPCALL_CHROMIUM || '/usr/bin/chromium';
const TOKEN = 'daemon-browser-token';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

let work;
let daemon;
let daemonExit;
let stderr = '';
let base;
let browser;
const pageErrors = [];

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'stopcall-browser-'));
  execFileSync(ROUTES, ['import', path.join(root, 'routes/demo/shenzhen-101'), '--extra',
    path.join(root, 'routes/demo/shenzhen-101-extra'), '-o', path.join(work, 'demo.db')], { stdio: 'ignore' });
  execFileSync(SCENARIO, ['generate', '--routes', path.join(work, 'demo.db'), '--trip', '101-WD-E-0630',
    '--noise', 'clean', '--seed', '2', '--out-trace', path.join(work, 'trace.jsonl')], { stdio: 'ignore' });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // Ten times faster than recorded: a stop every ten seconds or so, each next-stop said in full.
  daemon = spawn(DAEMON, ['replay', '--routes', path.join(work, 'demo.db'), '--gps', path.join(work, 'trace.jsonl'),
    '--trip', '101-WD-E-0630', '--no-block', '--realtime', '--speed', '10', '--http', `127.0.0.1:${port}`,
    '--audio', 'fakesink sync=true', '--driver-token', TOKEN, '--control', path.join(work, 'control.sock'),
    '--events', path.join(work, 'events.jsonl'), '--linger', '30', '--web', path.join(root, 'hmi/web')],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  daemonExit = new Promise((resolve) => daemon.on('exit', (code, signal) => resolve({ code, signal })));
  daemon.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  for (let i = 0; i < 200 && !fs.existsSync(path.join(work, 'control.sock')); ++i) await sleep(50);
  assert.ok(fs.existsSync(path.join(work, 'control.sock')), `the daemon did not start: ${stderr}`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (daemon && daemon.exitCode === null) {
    daemon.kill('SIGTERM');
    await Promise.race([daemonExit, sleep(10000)]);
  }
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function openPage(url, viewport = { width: 1920, height: 1080 }) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${url}: ${error.message}`));
  await page.goto(url);
  return page;
}

const nextStop = (page) =>
  page.evaluate(() => document.querySelector('#next-names .next-name[data-lang="en"]')?.lastChild.textContent);

test('the next stop follows the bus and the spoken words are subtitled as they are said', async () => {
  const page = await openPage(`${base}/`);
  await page.waitForSelector('#next-names .next-name', { timeout: 20000 });
  // The trip's first stops, in order, as the replay leaves each one.
  const seen = [];
  const deadline = Date.now() + 60000;
  let subtitle = '';
  while (Date.now() < deadline && !(seen.includes('Qiaocheng East') && subtitle)) {
    const now = await nextStop(page);
    if (now && seen[seen.length - 1] !== now) seen.push(now);
    const shown = await page.$('#subtitle.showing .subtitle-text');
    if (shown && !subtitle) subtitle = await shown.textContent();
    await sleep(100);
  }
  assert.deepEqual(seen.slice(0, 2), ['OCT', 'Qiaocheng East'], `next stops seen: ${seen}`);
  assert.match(subtitle, /下一站|下一站|Next stop|即将到达|即將到達|Arriving/, `subtitle seen: ${subtitle}`);
  await page.screenshot({ path: path.join(ARTIFACTS, 'daemon-display-1920x1080.png') });
  await page.context().close();
});

test('ramp assist on the console warns and puts the ramp prompt on the passenger display', async () => {
  const display = await openPage(`${base}/`);
  await display.waitForSelector('#next-names .next-name', { timeout: 20000 });
  const console_ = await openPage(`${base}/driver.html#token=${TOKEN}`);
  await console_.waitForSelector('body[data-authenticated="true"]', { timeout: 10000 });
  // The vehicle says it stands. Its own speed signal outranks GPS for 3 s of the bus's time, which
  // is 0.3 s here (ten times faster): like a vehicle's, it is repeated until the console is
  // answered, or a slow click would find the bus moving on GPS and the ramp refused. On one
  // connection of the control socket, as a vehicle gateway would: starting stopcallctl each time
  // took longer than 0.3 s on a loaded machine.
  execFileSync(CTL, ['--socket', path.join(work, 'control.sock'), 'signal', 'speed', '0']);
  const vehicle = net.createConnection(path.join(work, 'control.sock'));
  vehicle.on('data', () => {}); // its answers are read, or the daemon would cut it off
  vehicle.on('error', () => {});
  const standing = () => vehicle.write('{"cmd":"signal","signal":"speed","kmh":0}\n');
  standing();
  const repeating = setInterval(standing, 50);
  try {
    await console_.click('#ramp');
    // The ramp's own reply (the sign-in's is also ok).
    await console_.waitForSelector('#reply:has-text("Ramp assist")', { timeout: 3000 });
  } finally {
    clearInterval(repeating);
    vehicle.end();
  }
  assert.equal(await console_.getAttribute('#reply', 'data-ok'), 'true', await console_.textContent('#reply'));
  await display.waitForSelector('.prompt-ramp_deploying', { timeout: 3000 });
  // Said inside (and outside): its subtitle on the display while it plays.
  await display.waitForFunction(
    () => /坡板正在放下|斜板正在放下|Ramp deploying/.test(document.querySelector('#subtitle')?.textContent || ''),
    null,
    { timeout: 10000 },
  );
  await display.screenshot({ path: path.join(ARTIFACTS, 'daemon-display-ramp-1920x1080.png') });
  await console_.screenshot({ path: path.join(ARTIFACTS, 'daemon-console-1920x1080.png') });
  const log = fs.readFileSync(path.join(work, 'events.jsonl'), 'utf8');
  assert.match(log, /"kind":"ramp_assist","priority":"accessibility","outputs":\["interior","exterior"\]/);
  // A passenger display cannot do the same.
  const refused = await display.evaluate(
    () =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://${location.host}/ws?role=passenger`);
        ws.onopen = () => ws.send(JSON.stringify({ type: 'ramp_assist', id: 'p1' }));
        ws.onmessage = (event) => {
          const message = JSON.parse(event.data);
          if (message.type === 'reply') resolve(message);
        };
      }),
  );
  assert.equal(refused.ok, false);
  assert.equal(refused.error, 'not_authorized');
  await display.context().close();
  await console_.context().close();
});

// ---- emergency and service messages ----

const ctl = (...args) => execFileSync(CTL, ['--socket', path.join(work, 'control.sock'), ...args], { encoding: 'utf8' });
// The event log's message lines so far (other lines are not about messages).
const messageLines = () =>
  fs
    .readFileSync(path.join(work, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.includes('"type":"message"'))
    .map((line) => JSON.parse(line));
async function waitMessageLine(match, timeout = 5000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const found = messageLines().find(match);
    if (found || Date.now() > deadline) return found;
    await sleep(50);
  }
}
// The route data's words for the evacuate preset, as a rider should read them.
const EVACUATE = {
  'zh-Hans': '紧急情况，请保持冷静，从最近的车门有序下车，并听从司机指示。',
  yue: '緊急情況，請保持冷靜，由最近嘅車門有秩序噉落車，並聽從司機指示。',
  en: "Emergency. Please stay calm, leave the bus by the nearest door and follow the driver's instructions.",
};

test('an emergency from the control socket covers the displays; the driver acknowledges and cancels it', async (t) => {
  const displays = [];
  for (const viewport of [{ width: 1920, height: 1080 }, { width: 1920, height: 540 }]) {
    const page = await openPage(`${base}/`, viewport);
    await page.waitForSelector('#next-names .next-name', { timeout: 20000 });
    await page.evaluate(() => window.stopcallHmi.pinLanguage('zh-Hans'));
    displays.push([`${viewport.width}x${viewport.height}`, page]);
  }
  const console_ = await openPage(`${base}/driver.html#token=${TOKEN}`);
  await console_.waitForSelector('body[data-authenticated="true"]', { timeout: 10000 });

  const answer = ctl('message', '--preset', 'evacuate');
  const id = answer.match(/emergency message (\S+) sent/)?.[1];
  assert.ok(id, `stopcallctl answered: ${answer}`);
  // On every display within a second, in all three languages.
  for (const [label, page] of displays) {
    await page.waitForSelector(`#emergency[data-message="${id}"]:not([hidden])`, { timeout: 1000 });
    const texts = await page.$$eval('#emergency .emergency-text', (nodes) => nodes.map((n) => [n.dataset.lang, n.textContent]));
    assert.deepEqual(texts, Object.entries(EVACUATE), label);
    await page.screenshot({ path: path.join(ARTIFACTS, `daemon-emergency-${label}.png`) });
  }
  const sent = await waitMessageLine((j) => j.id === id && j.event === 'sent');
  assert.equal(sent?.source, 'control');
  assert.equal(sent?.preset, 'evacuate');

  // The console: the emergency with its Acknowledge button, pressed as a driver would.
  const item = `#messages .message[data-message="${id}"]`;
  await console_.waitForSelector(`${item}[data-kind="emergency"] button.ack`, { timeout: 3000 });
  await console_.click(`${item} button.ack`);
  await console_.waitForSelector(`${item}[data-acknowledged="true"]`, { timeout: 3000 });
  const acknowledged = await waitMessageLine((j) => j.id === id && j.event === 'acknowledged');
  assert.equal(acknowledged?.note, 'console', JSON.stringify(acknowledged));
  assert.equal(await displays[0][1].isVisible('#emergency'), true, 'acknowledged is not ended');

  // Cancel from the console: the displays are back to the trip.
  await console_.click(`${item} button.end`);
  for (const [, page] of displays) await page.waitForSelector('#emergency', { state: 'hidden', timeout: 3000 });
  const cancelled = await waitMessageLine((j) => j.id === id && j.event === 'cancelled');
  assert.equal(cancelled?.note, 'console', JSON.stringify(cancelled));
  await console_.waitForSelector(item, { state: 'detached', timeout: 3000 });
  t.diagnostic(`screenshots: daemon-emergency-1920x1080.png, daemon-emergency-1920x540.png`);
  for (const [, page] of displays) await page.context().close();
  await console_.context().close();
});

test('a service message without Cantonese is shown amber in the languages it has', async () => {
  const display = await openPage(`${base}/`);
  await display.waitForSelector('#next-names .next-name', { timeout: 20000 });
  await display.evaluate(() => window.stopcallHmi.pinLanguage('zh-Hans'));
  const words = { 'zh-Hans': '前方道路积水，车辆慢行。', en: 'Flooded road ahead: the bus goes slowly.' };
  ctl('message', '--kind', 'service', '--id', 'flood-1', '--text', `zh-Hans=${words['zh-Hans']}`, '--text', `en=${words.en}`);
  await display.waitForSelector('#service .service-message[data-message="flood-1"]', { timeout: 3000 });
  const texts = await display.$$eval('#service .service-text', (nodes) => nodes.map((n) => [n.dataset.lang, n.textContent]));
  assert.deepEqual(texts, Object.entries(words));
  assert.equal(await display.$eval('#service', (node) => getComputedStyle(node).backgroundColor), 'rgb(255, 191, 0)', 'amber');
  // The panel is not over the next stop.
  assert.equal(await display.isVisible('#emergency'), false);
  await display.screenshot({ path: path.join(ARTIFACTS, 'daemon-service-1920x1080.png') });
  const sent = await waitMessageLine((j) => j.id === 'flood-1' && j.event === 'sent');
  assert.deepEqual(sent?.missing, ['yue'], JSON.stringify(sent));
  assert.deepEqual(sent?.languages, ['zh-Hans', 'en']);
  assert.equal(sent?.kind, 'service');
  ctl('message', '--cancel', 'flood-1');
  await display.waitForSelector('#service', { state: 'hidden', timeout: 3000 });
  await display.context().close();
});

test("the console's emergency preset needs a second press; a service preset goes on one", async () => {
  const display = await openPage(`${base}/`);
  await display.waitForSelector('#next-names .next-name', { timeout: 20000 });
  const console_ = await openPage(`${base}/driver.html#token=${TOKEN}`);
  await console_.waitForSelector('body[data-authenticated="true"]', { timeout: 10000 });
  const fire = '#message-presets button[data-preset="fire"]';
  await console_.waitForSelector(fire, { timeout: 3000 });
  const sentFire = () => messageLines().filter((j) => j.event === 'sent' && j.preset === 'fire');
  assert.equal(sentFire().length, 0);

  // One press arms it and sends nothing.
  await console_.click(fire);
  assert.match(await console_.textContent(fire), /Press again to send FIRE/);
  await sleep(700);
  assert.deepEqual(sentFire(), [], 'the first press sent it');
  assert.equal(await display.isVisible('#emergency'), false);
  // The second press sends it.
  await console_.click(fire);
  await display.waitForSelector('#emergency:not([hidden])', { timeout: 3000 });
  const sent = await waitMessageLine((j) => j.event === 'sent' && j.preset === 'fire');
  assert.equal(sent?.source, 'console');
  assert.equal(sent?.kind, 'emergency');
  assert.equal(sentFire().length, 1);
  await console_.click(`#messages .message[data-message="${sent.id}"] button.end`);
  await display.waitForSelector('#emergency', { state: 'hidden', timeout: 3000 });

  // A service preset: one press.
  await console_.click('#message-presets button[data-preset="toilet"]');
  await display.waitForSelector('#service .service-message', { timeout: 3000 });
  const service = await waitMessageLine((j) => j.event === 'sent' && j.preset === 'toilet');
  assert.equal(service?.source, 'console');
  await console_.click(`#messages .message[data-message="${service.id}"] button.end`);
  await display.waitForSelector('#service', { state: 'hidden', timeout: 3000 });
  await display.context().close();
  await console_.context().close();
});

test('no script errors on the pages served by the daemon', () => {
  assert.deepEqual(pageErrors, []);
});
