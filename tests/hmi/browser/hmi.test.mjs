// Browser tests of the screens: stopcall-hmi-demo (the real server with a scripted ride) on a free
// port, the passenger display and the driver console in Debian's chromium through playwright-core,
// and plain WebSocket clients from node for the load test. The emergency and service panels are
// checked for what a rider notices: covered screen, every language, contrast, nothing flashing. Run with `node --test` (see run-tests).
//
// Environment:
//   STOPCALL_HMI_DEMO   the stopcall-hmi-demo binary (default: build-hmi/hmi/stopcall-hmi-demo)
//   STOPCALL_ARTIFACTS  where screenshots and figures go (default: build-hmi/artifacts)
//   STOPCALL_CHROMIUM   the browser (default: /usr/bin/chromium)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const DEMO = process.env.STOPCALL_HMI_DEMO || path.join(root, 'build-hmi/hmi/stopcall-hmi-demo');
const ARTIFACTS = process.env.STOPCALL_ARTIFACTS || path.join(root, 'build-hmi/artifacts');
const CHROMIUM = process.env.STOPCALL_CHROMIUM || '/usr/bin/chromium';
const TOKEN = 'browser-test-token';
const FULL = { width: 1920, height: 1080 };
const STRIP = { width: 1920, height: 540 };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The demo server as a child process: commands on stdin, lines from stdout.
class Demo {
  constructor(args = []) {
    this.args = args;
    this.lines = [];
    this.waiters = [];
    this.stderr = '';
  }

  async start() {
    this.process = spawn(DEMO, ['--token', TOKEN, ...this.args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve({ code, signal })));
    this.process.stderr.on('data', (chunk) => {
      this.stderr += chunk;
    });
    readline.createInterface({ input: this.process.stdout }).on('line', (line) => {
      this.lines.push(line);
      for (const waiter of [...this.waiters]) waiter(line);
    });
    const first = await this.waitLine(/^listening /, 10000);
    this.port = Number(first.split(' ')[2]);
    this.base = `http://127.0.0.1:${this.port}`;
    return this;
  }

  send(command) {
    this.process.stdin.write(`${command}\n`);
  }

  // Resolves with the first line (already printed or coming) matching `pattern`.
  waitLine(pattern, timeoutMs = 5000, { after = 0 } = {}) {
    const seen = this.lines.slice(after).find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr:\n${this.stderr.slice(-2000)}`));
      }, timeoutMs);
      const waiter = (line) => {
        if (!pattern.test(line)) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(line);
      };
      this.waiters.push(waiter);
    });
  }

  // Sends a command and waits for its "ok"/"error"/result line.
  async command(command, pattern = /^(ok|error) /) {
    const mark = this.lines.length;
    this.send(command);
    const line = await this.waitLine(pattern, 5000, { after: mark });
    assert.ok(!line.startsWith('error'), `demo refused "${command}": ${line}`);
    return line;
  }

  async stats() {
    const line = await this.command('stats', /^stats /);
    return Object.fromEntries(
      line
        .split(' ')
        .slice(1)
        .map((kv) => kv.split('='))
        .map(([k, v]) => [k, Number(v)]),
    );
  }

  async stop() {
    if (!this.process || this.process.exitCode !== null) return;
    this.process.kill('SIGTERM');
    const result = await Promise.race([this.exited, sleep(10000).then(() => null)]);
    if (!result) this.process.kill('SIGKILL');
    return result;
  }
}

let demo;
let browser;
const pageErrors = [];

// `setup(page)` runs before the page loads (e.g. to watch its WebSocket frames).
async function openPage(url, viewport = FULL, setup = null) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  if (setup) await setup(page);
  page.on('pageerror', (error) => pageErrors.push(`${url}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/WebSocket/.test(message.text())) pageErrors.push(`${url}: ${message.text()}`);
  });
  await page.goto(url);
  return page;
}

async function openDisplay(viewport = FULL) {
  const page = await openPage(`${demo.base}/`, viewport);
  await page.waitForSelector('#next-names .next-name');
  return page;
}

async function openConsole(viewport = FULL, setup = null) {
  const page = await openPage(`${demo.base}/driver.html#token=${TOKEN}`, viewport, setup);
  await page.waitForSelector('body[data-authenticated="true"]');
  await page.waitForSelector('#trip-list button');
  return page;
}

const nextStopText = (page, lang) =>
  page.$eval(`#next-names .next-name[data-lang="${lang}"]`, (node) => node.lastChild.textContent);

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  assert.ok(fs.existsSync(DEMO), `no demo binary at ${DEMO} (build stopcall-hmi-demo)`);
  demo = await new Demo(['--port', '0', '--send-buffer', '32768']).start();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (demo) {
    const exit = await demo.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, `demo exit ${JSON.stringify(exit)}: ${demo.stderr.slice(-3000)}`);
  }
});

test('pages are served with their types and no traversal', async () => {
  for (const [target, type] of [
    ['/', 'text/html; charset=utf-8'],
    ['/driver.html', 'text/html; charset=utf-8'],
    ['/display.css', 'text/css; charset=utf-8'],
    ['/display.js', 'text/javascript; charset=utf-8'],
  ]) {
    const response = await fetch(`${demo.base}${target}`);
    assert.equal(response.status, 200, target);
    assert.equal(response.headers.get('content-type'), type, target);
  }
  // fetch() normalises "..", so send raw requests.
  for (const target of ['/../CMakeLists.txt', '/%2e%2e/CMakeLists.txt', '/..%2f..%2fREADME.md', '//etc/passwd']) {
    const status = await new Promise((resolve, reject) => {
      const socket = net.connect(demo.port, '127.0.0.1', () => {
        socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      });
      let data = '';
      socket.on('data', (chunk) => (data += chunk));
      socket.on('end', () => resolve(Number(data.split(' ')[1])));
      socket.on('error', reject);
    });
    assert.ok(status === 400 || status === 404, `${target} -> ${status}`);
  }
});

test('the next stop on the display follows next_stop', async () => {
  const page = await openDisplay();
  assert.equal(await nextStopText(page, 'zh-Hans'), '华侨城');
  assert.equal(await nextStopText(page, 'en'), 'OCT');
  assert.equal(await page.textContent('#route-number'), '101');
  assert.match(await page.textContent('#next-spoken'), /华侨城/);
  await demo.command('next');
  await page.waitForFunction(
    () => document.querySelector('#next-names .next-name[data-lang="zh-Hans"]')?.lastChild.textContent === '侨城东',
    null,
    { timeout: 3000 },
  );
  assert.equal(await nextStopText(page, 'yue'), '僑城東');
  assert.equal(await nextStopText(page, 'en'), 'Qiaocheng East');
  assert.equal(await page.getAttribute('#coming li:first-child', 'data-stop'), 'ZZL-E');
  assert.match(await page.textContent('#next-spoken'), /Qiaocheng East/);
  await page.context().close();
});

test('a subtitle shows while its cue plays and goes after its end', async () => {
  const page = await openDisplay();
  await demo.command('withdraw');
  await page.waitForSelector('#subtitle:not(.showing)', { state: 'attached', timeout: 3000 });
  const sent = Date.now();
  await demo.command('subtitle en 1500 Subtitle cue under test');
  await page.waitForSelector('#subtitle.showing .subtitle-text[lang="en"]', { timeout: 1000 });
  assert.equal(await page.textContent('#subtitle .subtitle-text'), 'Subtitle cue under test');
  await page.waitForSelector('#subtitle:not(.showing)', { state: 'attached', timeout: 3000 });
  const gone = Date.now() - sent;
  assert.ok(gone >= 1300 && gone < 2800, `subtitle gone after ${gone} ms, its cue lasted 1500 ms`);
  assert.equal(await page.$('#subtitle .subtitle-text'), null);

  // Withdrawn before its end: taken down at once.
  await demo.command('subtitle zh-Hans 20000 撤回的字幕');
  await page.waitForSelector('#subtitle.showing .subtitle-text[lang="zh-Hans"]', { timeout: 1000 });
  const withdrawn = Date.now();
  await demo.command('withdraw');
  await page.waitForSelector('#subtitle:not(.showing)', { state: 'attached', timeout: 1000 });
  assert.ok(Date.now() - withdrawn < 1000);
  await page.context().close();
});

test('the passenger display cannot send driver actions', async () => {
  const page = await openDisplay();
  const actionsBefore = demo.lines.filter((l) => l.startsWith('action ')).length;
  // Over the page's own socket.
  const reply = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const ws = window.stopcallHmi.connection.ws;
        ws.addEventListener('message', function onReply(event) {
          const msg = JSON.parse(event.data);
          if (msg.type === 'reply' && msg.id === 'inj-1') {
            ws.removeEventListener('message', onReply);
            resolve(msg);
          }
        });
        ws.send(JSON.stringify({ type: 'ramp_assist', id: 'inj-1' }));
      }),
  );
  assert.equal(reply.ok, false);
  assert.equal(reply.error, 'not_authorized');
  // And over a socket of its own asking for the driver role, without the token.
  const replies = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://${location.host}/ws?role=driver`);
        const got = [];
        ws.onopen = () => {
          ws.send(JSON.stringify({ type: 'ramp_assist', id: 'inj-2' }));
          ws.send(JSON.stringify({ type: 'auth', id: 'inj-3', token: 'guessed' }));
          ws.send(JSON.stringify({ type: 'set_volume', id: 'inj-4', output: 'interior', level: 100 }));
        };
        ws.onmessage = (event) => {
          const msg = JSON.parse(event.data);
          if (msg.type === 'reply') got.push(msg);
          if (got.length === 3) {
            ws.close();
            resolve(got);
          }
        };
      }),
  );
  assert.deepEqual(
    replies.map((r) => [r.id, r.ok, r.error]),
    [
      ['inj-2', false, 'not_authorized'],
      ['inj-3', false, 'not_authorized'],
      ['inj-4', false, 'not_authorized'],
    ],
  );
  await sleep(200);
  assert.equal(demo.lines.filter((l) => l.startsWith('action ')).length, actionsBefore, 'the handler ran');
  assert.equal(await page.$('.prompt-ramp_deploying'), null);
  await page.context().close();
});

test('ramp assist on the console puts the ramp prompt on the display', async () => {
  const display = await openDisplay();
  const console_ = await openConsole();
  await console_.click('#ramp');
  // The ramp's own reply: the sign-in's, shown before it, is also ok.
  await console_.waitForSelector('#reply:has-text("Ramp assist")', { timeout: 3000 });
  assert.equal(await console_.getAttribute('#reply', 'data-ok'), 'true', await console_.textContent('#reply'));
  await demo.waitLine(/^action ramp_assist id=\S+ -> ok$/);
  await display.waitForSelector('.prompt-ramp_deploying', { timeout: 3000 });
  assert.match(await display.textContent('.prompt-ramp_deploying'), /Ramp deploying/);
  assert.match(await display.textContent('.prompt-ramp_deploying'), /轮椅坡板/);
  await console_.waitForSelector('#prompts [data-prompt="ramp"]');

  // The other actions answer too.
  await console_.click('.volume[data-output="exterior"] .step[data-step="-10"]');
  await console_.waitForFunction(() => document.querySelector('.volume[data-output="exterior"] .level').textContent === '60');
  await console_.click('#repeat');
  await console_.waitForFunction(() => /Repeat/.test(document.querySelector('#reply').textContent));
  await demo.command('detect 101-WD-W-0720');
  await console_.click('#confirm-detected', { timeout: 3000 });
  await console_.waitForFunction(() => /101-WD-W-0720/.test(document.querySelector('#current-trip').textContent));
  await display.waitForFunction(
    () => document.querySelector('#next-names .next-name[data-lang="en"]')?.lastChild.textContent === 'Science Museum',
  );
  await demo.command('request');
  await console_.waitForSelector('#requests .request button');
  await console_.click('#requests .request button');
  await console_.waitForSelector('#requests .empty');
  await demo.command('prompt ramp_deploying off');
  await display.waitForSelector('.prompt-ramp_deploying', { state: 'detached' });
  await display.context().close();
  await console_.context().close();
});

test('50 display clients with one stalled do not disturb each other', async (t) => {
  const COUNT = 300;
  const BYTES = 4096;
  const clients = await Promise.all(
    Array.from({ length: 50 }, () =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${demo.port}/ws`);
        const client = { ws, got: [], closed: false };
        ws.on('message', (data) => {
          const text = data.toString();
          if (!text.includes('"name":"flood"')) return;
          client.got.push(Number(/"text":"flood (\d+) /.exec(text)[1]));
        });
        ws.on('close', () => (client.closed = true));
        ws.on('open', () => resolve(client));
        ws.on('error', reject);
      }),
    ),
  );
  // A screen that opens its socket and then never reads.
  const stalled = net.connect(demo.port, '127.0.0.1');
  await new Promise((resolve) => stalled.on('connect', resolve));
  stalled.write(
    'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await new Promise((resolve) => {
    let head = '';
    stalled.on('data', function onData(chunk) {
      head += chunk;
      if (head.includes('\r\n\r\n')) {
        stalled.off('data', onData);
        stalled.pause();
        resolve();
      }
    });
  });
  let stalledClosed = false;
  stalled.on('close', () => (stalledClosed = true));
  stalled.on('error', () => {});

  const before = await demo.stats();
  const mark = demo.lines.length;
  demo.send(`flood ${COUNT} ${BYTES} 10`);
  await demo.waitLine(/^flood done/, 30000, { after: mark });
  const deadline = Date.now() + 20000;
  while (clients.some((c) => c.got.length < COUNT) && Date.now() < deadline) await sleep(20);

  for (const [i, client] of clients.entries()) {
    assert.equal(client.got.length, COUNT, `client ${i} got ${client.got.length} of ${COUNT}`);
    assert.deepEqual(client.got, Array.from({ length: COUNT }, (_, k) => k), `client ${i} out of order`);
    assert.equal(client.closed, false, `client ${i} was closed`);
  }
  const stats = await demo.stats();
  assert.equal(stats.dropped - before.dropped, 1, `dropped ${stats.dropped - before.dropped}`);
  assert.ok(stats.max_queue_messages <= 64, `queue reached ${stats.max_queue_messages} messages`);
  assert.ok(stats.max_queue_bytes <= 1 << 20, `queue reached ${stats.max_queue_bytes} bytes`);
  assert.match(demo.stderr, /dropped: send queue full/);
  // The stalled screen, reading again, finds its connection closed by the server.
  stalled.resume();
  const closeDeadline = Date.now() + 5000;
  while (!stalledClosed && Date.now() < closeDeadline) await sleep(20);
  assert.ok(stalledClosed, 'the stalled connection is still open');
  t.diagnostic(
    `50 readers got ${COUNT} x ${BYTES} B each in order; stalled one dropped; ` +
      `max queue ${stats.max_queue_messages} messages / ${stats.max_queue_bytes} B`,
  );
  for (const client of clients) client.ws.close();
});

test('the display reconnects by itself and says so meanwhile', async () => {
  // A server of its own on a fixed port, stopped and started again under the page.
  const port = await new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = probe.address();
      probe.close(() => resolve(p));
    });
  });
  let own = await new Demo(['--port', String(port)]).start();
  const page = await openPage(`http://127.0.0.1:${port}/`);
  await page.waitForSelector('#next-names .next-name');
  assert.equal(await page.isHidden('#connection'), true);
  await own.stop();
  await page.waitForSelector('#connection', { state: 'visible', timeout: 3000 });
  own = await new Demo(['--port', String(port)]).start();
  await own.command('goto 5');
  await page.waitForSelector('#connection', { state: 'hidden', timeout: 15000 });
  await page.waitForFunction(
    () => document.querySelector('#next-names .next-name[data-lang="en"]')?.lastChild.textContent === 'Xiangmihu',
    null,
    { timeout: 3000 },
  );
  await page.context().close();
  await own.stop();
});

test('screenshots at 1920x1080 and 1920x540', async (t) => {
  await demo.command('login 101-WD-E-0630');
  await demo.command('goto 4'); // 车公庙, with metro transfers, and transfers further on
  await demo.command('detect 101-WD-E-0640');
  await demo.command('request');
  await demo.command('status audio.exterior warning door speaker failed, retrying in 4 s');
  const shots = [];
  const shoot = async (page, name) => {
    const file = path.join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path: file });
    shots.push(file);
  };
  const showLang = async (page, lang) => {
    // Pin the language so that each picture is deterministic (the pages cycle every 4 s).
    await page.evaluate((l) => window.stopcallHmi.pinLanguage(l), lang);
    await sleep(600); // the fade-in (0.35 s) and prompt slide (0.25 s) are over
  };
  for (const [label, viewport] of [
    ['1920x1080', FULL],
    ['1920x540', STRIP],
  ]) {
    const display = await openDisplay(viewport);
    await demo.command('subtitle zh-Hans 60000 下一站：车公庙。可换乘地铁1号线、7号线、9号线、11号线');
    await display.waitForSelector('#subtitle.showing');
    await showLang(display, 'zh-Hans');
    await shoot(display, `passenger-${label}`);
    await demo.command('withdraw');
    await display.waitForSelector('#subtitle:not(.showing)', { state: 'attached' });
    await showLang(display, 'en');
    await shoot(display, `passenger-idle-en-${label}`);
    await demo.command('prompt ramp_deploying on');
    await display.waitForSelector('.prompt-ramp_deploying');
    await showLang(display, 'yue');
    await shoot(display, `passenger-prompt-yue-${label}`);
    await demo.command('prompt ramp_deploying off');
    await display.context().close();

    const console_ = await openConsole(viewport);
    await console_.click('.volume[data-output="interior"] .step[data-step="10"]');
    await console_.waitForSelector('#reply[data-ok="true"]');
    await sleep(300);
    await shoot(console_, `driver-${label}`);
    // Touch targets: every button at least 60 px in both directions.
    const small = await console_.$$eval('button', (buttons) =>
      buttons
        .filter((b) => b.offsetParent !== null)
        .map((b) => ({ text: b.textContent.trim().slice(0, 30), ...b.getBoundingClientRect().toJSON() }))
        .filter((r) => r.width < 60 || r.height < 60),
    );
    assert.deepEqual(small, [], `buttons under 60 px at ${label}`);
    await console_.context().close();
  }
  t.diagnostic(`screenshots: ${shots.join(', ')}`);
});

test('a console opened without its token is asked to sign in, and signs in', async () => {
  const page = await openPage(`${demo.base}/driver.html`);
  await page.waitForSelector('#signin:not([hidden])');
  // The server closes a console that does not sign in within seconds (so that anonymous sockets
  // hold no place): the page then says "not signed in", not "reconnecting".
  await page.waitForFunction(() => /Not signed in/.test(document.getElementById('link').textContent), null, {
    timeout: 20000,
  });
  await page.fill('#token', TOKEN);
  await page.press('#token', 'Enter');
  await page.waitForSelector('body[data-authenticated="true"]', { timeout: 10000 });
  assert.match(await page.textContent('#link'), /Connected/);
  await page.context().close();
});

test('on the wide strip a prompt leaves the next stop in sight', async () => {
  await demo.command('login 101-WD-E-0630');
  await demo.command('goto 4'); // 车公庙 · Chegongmiao
  const display = await openDisplay(STRIP);
  await demo.command('prompt ramp_deploying on');
  await display.waitForSelector('.prompt-ramp_deploying');
  for (const lang of ['zh-Hans', 'yue', 'en']) {
    await display.evaluate((l) => window.stopcallHmi.pinLanguage(l), lang);
    await sleep(600); // the fade-in and the prompt's slide are over
    // Where the next stop's name is drawn, and what a rider sees there.
    const seen = await display.evaluate(() => {
      const name = document.querySelector('#next-names .next-name.current');
      const text = document.createRange();
      text.selectNodeContents(name.lastChild);
      const t = text.getBoundingClientRect();
      const band = document.querySelector('#prompts').getBoundingClientRect();
      const x = (t.left + Math.min(t.right, window.innerWidth)) / 2;
      const y = (t.top + t.bottom) / 2;
      return {
        name: name.lastChild.textContent,
        inView: t.top >= 0 && t.bottom <= window.innerHeight && t.left >= 0,
        onTop: name.contains(document.elementFromPoint(x, y)),
        clear: t.bottom <= band.top || t.top >= band.bottom,
        promptInView: band.height > 0 && band.bottom <= window.innerHeight,
        nameBox: [t.top, t.bottom].map(Math.round),
        promptBox: [band.top, band.bottom].map(Math.round),
      };
    });
    assert.ok(seen.inView && seen.onTop && seen.clear && seen.promptInView, `${lang}: ${JSON.stringify(seen)}`);
  }
  await display.screenshot({ path: path.join(ARTIFACTS, 'passenger-prompt-strip-next-stop.png') });
  await demo.command('prompt ramp_deploying off');
  await display.context().close();
});

test('cue to visible subtitle latency (p95)', async (t) => {
  const page = await openDisplay();
  await page.evaluate(() => (window.stopcallHmi.metrics.subtitleLatencyMs.length = 0));
  const N = 60;
  for (let i = 0; i < N; i += 1) {
    demo.send(`subtitle en 150 Latency probe ${i}`);
    await sleep(100);
  }
  await sleep(500);
  const latencies = await page.evaluate(() => [...window.stopcallHmi.metrics.subtitleLatencyMs]);
  assert.ok(latencies.length >= N * 0.9, `measured ${latencies.length} of ${N}`);
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const figures = {
    samples: sorted.length,
    p50_ms: Number(at(0.5).toFixed(1)),
    p95_ms: Number(at(0.95).toFixed(1)),
    max_ms: Number(sorted[sorted.length - 1].toFixed(1)),
  };
  fs.writeFileSync(path.join(ARTIFACTS, 'subtitle-latency.json'), `${JSON.stringify(figures, null, 2)}\n`);
  t.diagnostic(`cue -> visible subtitle latency: ${JSON.stringify(figures)}`);
  console.log(`subtitle latency: p50 ${figures.p50_ms} ms, p95 ${figures.p95_ms} ms, max ${figures.max_ms} ms (${figures.samples} cues)`);
  assert.ok(figures.p95_ms < 250, `p95 ${figures.p95_ms} ms`);
  await page.context().close();
});

// ---- emergency and service messages ----

// The state a screen connecting now receives: what the bus says is on the screens.
function busState() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${demo.port}/ws`);
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.type !== 'state') return;
      ws.close();
      resolve(msg);
    });
    ws.on('error', reject);
  });
}

// Sends a preset from the demo's control input; resolves with the message's id.
async function sendPreset(kind, preset) {
  const line = await demo.command(`message ${kind} ${preset}`);
  return line.split(' ')[2];
}

// Runs in the page: what a rider sees of a panel. `root` covers the texts; `items` are the
// selectors whose boxes are reported.
function inspectPanel({ root, items }) {
  const box = document.querySelector(root);
  const rgb = (text) => text.match(/[\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => {
    const l = [r, g, b].map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  };
  const background = (node) => {
    for (let n = node; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  // Every element with text of its own: its colour against what is behind it.
  const contrasts = [];
  for (const node of [box, ...box.querySelectorAll('*')]) {
    const own = [...node.childNodes].filter((c) => c.nodeType === Node.TEXT_NODE && c.textContent.trim()).map((c) => c.textContent.trim());
    if (!own.length || node.getClientRects().length === 0) continue;
    const [a, b] = [luminance(rgb(getComputedStyle(node).color)), luminance(background(node))].sort((x, y) => y - x);
    contrasts.push({ text: own.join(' ').slice(0, 24), ratio: Number(((a + 0.05) / (b + 0.05)).toFixed(2)) });
  }
  // Anything that moves: animations and transitions, on the panel and inside it.
  const seconds = (list) => list.split(',').map((v) => (v.trim().endsWith('ms') ? parseFloat(v) / 1000 : parseFloat(v)));
  const moving = [];
  for (const node of [box, ...box.querySelectorAll('*')]) {
    const style = getComputedStyle(node);
    if (style.animationName !== 'none') moving.push({ node: node.className, animation: style.animationName, seconds: seconds(style.animationDuration) });
    const transitions = seconds(style.transitionDuration).filter((d) => d > 0);
    if (transitions.length) moving.push({ node: node.className, transition: style.transitionProperty, seconds: transitions });
  }
  const rect = (node) => {
    const r = node.getBoundingClientRect();
    return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height };
  };
  // Drawn where it is, on top, inside the viewport and not cut by the panel.
  const seen = (node) => {
    const r = node.getBoundingClientRect();
    const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
    return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight + 0.5 && r.right <= window.innerWidth + 0.5 && node.contains(hit);
  };
  const found = {};
  for (const selector of items) {
    found[selector] = [...document.querySelectorAll(selector)].map((node) => ({
      lang: node.dataset.lang || null,
      text: node.textContent,
      seen: seen(node),
      rect: rect(node),
      speaking: node.classList.contains('speaking'),
    }));
  }
  return {
    rect: rect(box),
    overflow: box.scrollHeight > box.clientHeight + 1,
    contrasts,
    moving,
    found,
    viewport: { width: window.innerWidth, height: window.innerHeight },
  };
}

// Where the next stop's name (the language shown now) is drawn, and whether a rider sees it.
function nextStopSeen() {
  const name = document.querySelector('#next-names .next-name.current');
  const range = document.createRange();
  range.selectNodeContents(name.lastChild);
  const r = range.getBoundingClientRect();
  const hit = document.elementFromPoint((r.left + Math.min(r.right, window.innerWidth)) / 2, (r.top + r.bottom) / 2);
  return {
    text: name.lastChild.textContent,
    seen: r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth && name.contains(hit),
    rect: { left: r.left, top: r.top, right: r.right, bottom: r.bottom },
  };
}

const assertReadable = (label, panel) => {
  assert.ok(panel.contrasts.length > 0, `${label}: no text found`);
  for (const c of panel.contrasts) assert.ok(c.ratio >= 7, `${label}: "${c.text}" contrast ${c.ratio}:1 is under 7:1`);
  // Nothing flashes more than three times a second (WCAG 2.3.1): any motion lasts >= 1/3 s.
  for (const m of panel.moving) assert.ok(m.seconds.every((d) => d >= 1 / 3), `${label}: ${JSON.stringify(m)}`);
  assert.equal(panel.overflow, false, `${label}: text cut off`);
};

test('an emergency covers the display in every language, keeps the next stop and follows the voice', async (t) => {
  await demo.command('login 101-WD-E-0630');
  await demo.command('goto 4'); // 车公庙 · Chegongmiao
  const shots = [];
  for (const [label, viewport] of [
    ['1920x1080', FULL],
    ['1920x540', STRIP],
  ]) {
    const display = await openDisplay(viewport);
    await display.evaluate(() => window.stopcallHmi.pinLanguage('zh-Hans'));
    const id = await sendPreset('emergency', 'evacuate');
    await display.waitForSelector(`#emergency[data-message="${id}"]:not([hidden])`, { timeout: 3000 });
    const bus = await busState();
    const message = bus.messages.find((m) => m.id === id);
    assert.equal(message.kind, 'emergency');
    // The voice starts with the first language: that sentence is highlighted.
    await display.waitForSelector('.emergency-text.speaking[data-lang="zh-Hans"]', { timeout: 3000 });

    const panel = await display.evaluate(inspectPanel, {
      root: '#emergency',
      items: ['.emergency-text', '#emergency-next', '.emergency-next-name'],
    });
    // Over everything: the whole screen, and what is hit anywhere on it is the panel.
    assert.deepEqual(
      [panel.rect.left, panel.rect.top, panel.rect.width, panel.rect.height],
      [0, 0, viewport.width, viewport.height],
      label,
    );
    const covered = await display.evaluate(() => {
      const panelNode = document.getElementById('emergency');
      const points = [];
      for (const fx of [0.02, 0.5, 0.98]) for (const fy of [0.02, 0.5, 0.98]) points.push([fx * innerWidth, fy * innerHeight]);
      return points.every(([x, y]) => panelNode.contains(document.elementFromPoint(x, y)));
    });
    assert.ok(covered, `${label}: something shows through the emergency panel`);
    // Every language of the message, in the state's order, each whole and in sight.
    const texts = panel.found['.emergency-text'];
    assert.deepEqual(
      texts.map((x) => x.lang),
      bus.languages.filter((lang) => message.text[lang]),
    );
    assert.deepEqual(texts.map((x) => x.lang), ['zh-Hans', 'yue', 'en']);
    for (const x of texts) {
      assert.equal(x.text, message.text[x.lang], `${label} ${x.lang}`);
      assert.ok(x.seen, `${label}: the ${x.lang} text is not in sight: ${JSON.stringify(x.rect)}`);
    }
    assert.deepEqual(
      texts.filter((x) => x.speaking).map((x) => x.lang),
      ['zh-Hans'],
    );
    // The next stop stays in sight, in every language, on a strip at the bottom.
    const strip = panel.found['#emergency-next'][0];
    assert.ok(strip.seen && strip.rect.bottom >= viewport.height - 1, `${label}: next-stop strip ${JSON.stringify(strip.rect)}`);
    assert.deepEqual(
      panel.found['.emergency-next-name'].map((x) => [x.lang, x.text, x.seen]),
      ['zh-Hans', 'yue', 'en'].map((lang) => [lang, bus.next_stop.names[lang], true]),
    );
    assertReadable(`emergency ${label}`, panel);
    const file = path.join(ARTIFACTS, `emergency-${label}.png`);
    await display.screenshot({ path: file });
    shots.push(file);
    t.diagnostic(`${label}: lowest contrast ${Math.min(...panel.contrasts.map((c) => c.ratio))}:1, ${panel.moving.length} moving parts`);

    if (label === '1920x1080') {
      // The highlight follows the voice: the sentence said now, and only it; gone at its end.
      await demo.command(`message say ${id} en 1500`);
      await display.waitForSelector('.emergency-text.speaking[data-lang="en"]', { timeout: 1000 });
      assert.deepEqual(
        await display.$$eval('.emergency-text.speaking', (nodes) => nodes.map((n) => n.dataset.lang)),
        ['en'],
      );
      await display.waitForSelector('.emergency-text.speaking', { state: 'detached', timeout: 3000 });
      // Withdrawn (the voice cut off): taken down at once.
      await demo.command(`message say ${id} yue 20000`);
      await display.waitForSelector('.emergency-text.speaking[data-lang="yue"]', { timeout: 1000 });
      await demo.command('withdraw');
      await display.waitForSelector('.emergency-text.speaking', { state: 'detached', timeout: 1000 });
      // Between its sentences the panel stays.
      assert.equal(await display.isVisible('#emergency'), true);
    }

    // Ended: the panel goes and the display is back, the next stop in sight.
    await demo.command(`message end ${id}`);
    await display.waitForSelector('#emergency', { state: 'hidden', timeout: 3000 });
    const next = await display.evaluate(nextStopSeen);
    assert.ok(next.seen && next.text === '车公庙', `${label}: ${JSON.stringify(next)}`);
    await display.context().close();
  }
  t.diagnostic(`screenshots: ${shots.join(', ')}`);
});

test('a service message sits beside the next stop, which stays in sight', async (t) => {
  await demo.command('login 101-WD-E-0630');
  await demo.command('goto 4');
  const shots = [];
  for (const [label, viewport] of [
    ['1920x1080', FULL],
    ['1920x540', STRIP],
  ]) {
    const display = await openDisplay(viewport);
    await display.evaluate(() => window.stopcallHmi.pinLanguage('zh-Hans'));
    const id = await sendPreset('service', 'detour');
    await display.waitForSelector(`#service .service-message[data-message="${id}"]`, { timeout: 3000 });
    await demo.command('withdraw'); // the voice's subtitle is not what this picture is about
    const bus = await busState();
    const message = bus.messages.find((m) => m.id === id);
    const panel = await display.evaluate(inspectPanel, { root: '#service', items: ['.service-text'] });
    const texts = panel.found['.service-text'];
    assert.deepEqual(texts.map((x) => x.lang), ['zh-Hans', 'yue', 'en']);
    for (const x of texts) {
      assert.equal(x.text, message.text[x.lang]);
      assert.ok(x.seen, `${label}: the ${x.lang} text is not in sight`);
    }
    // Beside the next stop, not over it: the stop's name is drawn to its left and still seen.
    for (const lang of ['zh-Hans', 'yue', 'en']) {
      await display.evaluate((l) => window.stopcallHmi.pinLanguage(l), lang);
      const next = await display.evaluate(nextStopSeen);
      assert.ok(next.seen, `${label} ${lang}: next stop hidden: ${JSON.stringify(next)}`);
      assert.equal(next.text, bus.next_stop.names[lang]);
      assert.ok(next.rect.right <= panel.rect.left, `${label} ${lang}: ${JSON.stringify([next.rect, panel.rect])}`);
      assert.ok(next.rect.top < panel.rect.bottom && next.rect.bottom > panel.rect.top, `${label}: not beside`);
    }
    await display.evaluate(() => window.stopcallHmi.pinLanguage('zh-Hans'));
    await sleep(400);
    assertReadable(`service ${label}`, panel);
    const background = await display.$eval('#service', (node) => getComputedStyle(node).backgroundColor);
    assert.equal(background, 'rgb(255, 191, 0)', 'amber');
    const file = path.join(ARTIFACTS, `service-${label}.png`);
    await display.screenshot({ path: file });
    shots.push(file);
    t.diagnostic(`${label}: lowest contrast ${Math.min(...panel.contrasts.map((c) => c.ratio))}:1`);

    let second = null;
    if (label === '1920x1080') {
      // Two at once take turns, slowly, saying which of how many is shown.
      second = await sendPreset('service', 'typhoon');
      await display.waitForFunction(() => document.querySelector('.service-count')?.textContent === '1 / 2');
      await display.waitForSelector(`#service .service-message[data-message="${second}"]`, { timeout: 10000 });
      assert.equal(await display.textContent('.service-count'), '2 / 2');
      await demo.command(`message end ${second}`);
    }
    await demo.command(`message end ${id}`);
    await display.waitForSelector('#service', { state: 'hidden', timeout: 3000 });
    const widths = await display.evaluate(() => [document.querySelector('.next').clientWidth, document.querySelector('main').clientWidth]);
    assert.equal(widths[0], widths[1], 'the next stop has its whole width back');
    await display.context().close();
  }
  t.diagnostic(`screenshots: ${shots.join(', ')}`);
});

test('the console sends an emergency on a second press, acknowledges and ends it', async (t) => {
  await demo.command('login 101-WD-E-0630');
  await demo.command('goto 4');
  const display = await openDisplay();
  const sent = [];
  const console_ = await openConsole(FULL, (page) =>
    page.on('websocket', (ws) =>
      ws.on('framesent', (frame) => {
        const msg = JSON.parse(frame.payload);
        if (msg.type !== 'ping') sent.push(msg);
      }),
    ),
  );
  const sentOf = (type) => sent.filter((m) => m.type === type);
  const actions = () => demo.lines.filter((l) => l.startsWith('action send_message')).length;

  // Emergencies first, apart from the service messages.
  const groups = await console_.$$eval('#message-presets .preset-group', (nodes) => nodes.map((n) => n.className));
  assert.deepEqual(groups, ['preset-group preset-group-emergency', 'preset-group preset-group-service']);
  const evacuate = '#message-presets button[data-preset="evacuate"]';

  // One press sends nothing: it asks for a second.
  const before = actions();
  await console_.click(evacuate);
  assert.match(await console_.textContent(evacuate), /Press again to send EVACUATE/);
  await sleep(700);
  assert.equal(sentOf('send_message').length, 0, JSON.stringify(sent));
  assert.equal(actions(), before);
  assert.equal(await display.isVisible('#emergency'), false);
  // The second sends it, confirmed.
  await console_.click(evacuate);
  await demo.waitLine(/^action send_message id=\S+ -> ok$/, 3000, { after: demo.lines.length - 1 });
  assert.deepEqual(
    sentOf('send_message').map(({ preset, confirmed }) => ({ preset, confirmed })),
    [{ preset: 'evacuate', confirmed: true }],
  );
  assert.doesNotMatch(await console_.textContent(evacuate), /Press again/);
  await display.waitForSelector('#emergency:not([hidden])', { timeout: 3000 });
  const item = '#messages .message[data-kind="emergency"]';
  await console_.waitForSelector(item);
  const id = await console_.getAttribute(item, 'data-message');
  assert.match(await console_.textContent(item), /Evacuate/);
  assert.match(await console_.textContent(item), /Sent \d\d:\d\d/);
  assert.equal(await console_.getAttribute(item, 'data-acknowledged'), 'false');
  // Heard on both outputs, as the bus reports it.
  await console_.waitForSelector(`${item}[data-heard="interior exterior"]`, { timeout: 5000 });
  assert.match(await console_.textContent(item), /Interior 已播出 heard/);
  assert.match(await console_.textContent(item), /Exterior 已播出 heard/);

  // The same emergency again: the bus refuses, and the console says why.
  await console_.click(evacuate);
  await console_.click(evacuate);
  await console_.waitForFunction(() => /already on the screens/.test(document.getElementById('message-error').textContent));
  assert.equal(await console_.getAttribute('#reply', 'data-ok'), 'false');
  const file = path.join(ARTIFACTS, 'driver-emergency-1920x1080.png');
  await console_.screenshot({ path: file });

  // Every message button is a comfortable touch target.
  const small = await console_.$$eval('.messages button', (buttons) =>
    buttons
      .filter((b) => b.offsetParent !== null)
      .map((b) => ({ text: b.textContent.trim().slice(0, 30), ...b.getBoundingClientRect().toJSON() }))
      .filter((r) => r.width < 44 || r.height < 44),
  );
  assert.deepEqual(small, []);

  // Acknowledge: the bus stops repeating it; the console shows it acknowledged.
  await console_.click(`${item} button.ack`);
  await console_.waitForSelector(`${item}[data-acknowledged="true"]`, { timeout: 3000 });
  assert.deepEqual(sentOf('ack_message').map((m) => m.message_id), [id]);
  assert.equal(await console_.$(`${item} button.ack`), null);
  assert.match(await console_.textContent(item), /Acknowledged/);
  assert.equal(await display.isVisible('#emergency'), true, 'acknowledged is not ended');

  // Cancel: gone from the console and from the screens.
  await console_.click(`${item} button.end`);
  await console_.waitForSelector(item, { state: 'detached', timeout: 3000 });
  assert.deepEqual(sentOf('cancel_message').map((m) => m.message_id), [id]);
  await display.waitForSelector('#emergency', { state: 'hidden', timeout: 3000 });

  // A service message goes on one press, unconfirmed.
  await console_.click('#message-presets button[data-preset="detour"]');
  await display.waitForSelector('#service .service-message', { timeout: 3000 });
  assert.deepEqual(sentOf('send_message').at(-1), { ...sentOf('send_message').at(-1), preset: 'detour', confirmed: false });
  await console_.click('#messages .message[data-kind="service"] button.end');
  await display.waitForSelector('#service', { state: 'hidden', timeout: 3000 });
  t.diagnostic(`screenshot: ${file}`);
  await display.context().close();
  await console_.context().close();
});

test('no script errors on the pages', () => {
  assert.deepEqual(pageErrors, []);
});
