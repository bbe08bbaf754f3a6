// Browser tests of the screens: stopcall-hmi-demo (the real server with a scripted ride) on a free
// port, the passenger display and the driver console in Debian's chromium through playwright-core,
// and plain WebSocket clients from node for the load test. Run with `node --test` (see run-tests).
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

async function openPage(url, viewport = FULL) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
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

async function openConsole(viewport = FULL) {
  const page = await openPage(`${demo.base}/driver.html#token=${TOKEN}`, viewport);
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

test('no script errors on the pages', () => {
  assert.deepEqual(pageErrors, []);
});
