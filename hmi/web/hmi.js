// Shared by the passenger display and the driver console: the WebSocket to the bus (PROTOCOL.md),
// reconnecting with backoff; the server's clock; text per language. Plain browser JavaScript, no
// build step, nothing fetched from outside the bus.
'use strict';

(function () {
  const PROTOCOL = 1;

  // The server's clock as seen from here: server time = Date.now() + offset. Every server message
  // carries server_time_ms; the sample with the least network delay (the largest) wins, over a
  // sliding window so a corrected server clock is followed.
  class ServerClock {
    constructor() {
      this.samples = [];
      this.offset = 0;
    }
    sample(serverTimeMs) {
      if (typeof serverTimeMs !== 'number') return;
      this.samples.push(serverTimeMs - Date.now());
      if (this.samples.length > 32) this.samples.shift();
      this.offset = Math.max(...this.samples);
    }
    now() {
      return Date.now() + this.offset;
    }
    // Server time -> milliseconds from now on the local clock (negative: past).
    until(serverTimeMs) {
      return serverTimeMs - this.now();
    }
  }

  // The server closes a console that has not signed in within a few seconds with this code.
  const SIGN_IN_FIRST = 4401;

  // One screen's connection. Events: onmessage(msg),
  // onstate('connecting'|'open'|'reconnecting'|'signin'): 'signin' when the server closed a console
  // that had no token to sign in with; it connects again once it has one (connect()).
  // Requests (driver actions, auth, ping) return a Promise of the reply message.
  class Connection {
    constructor({ role = 'passenger', token = null, onmessage = () => {}, onstate = () => {} } = {}) {
      this.role = role;
      this.token = token;
      this.onmessage = onmessage;
      this.onstate = onstate;
      this.clock = new ServerClock();
      this.ws = null;
      this.attempt = 0;
      this.nextId = 0;
      this.pending = new Map();
      this.hello = null;
      this.pingTimer = null;
      this.reconnectTimer = null;
    }

    url() {
      const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
      const query = this.role === 'driver' ? '?role=driver' : '';
      return `${scheme}//${location.host}/ws${query}`;
    }

    connect() {
      clearTimeout(this.reconnectTimer);
      this.onstate(this.attempt === 0 ? 'connecting' : 'reconnecting');
      let ws;
      try {
        ws = new WebSocket(this.url());
      } catch (e) {
        this.scheduleReconnect();
        return;
      }
      this.ws = ws;
      ws.onopen = () => {
        this.attempt = 0;
        // The console's token goes as the first message, not in the URL (URLs end up in logs).
        if (this.token) {
          this.request('auth', { token: this.token })
            .then((reply) => this.onmessage({ ...reply, type: 'auth_result' }))
            .catch(() => {});
        }
        this.startPings();
      };
      ws.onmessage = (event) => {
        let msg;
        try {
          msg = JSON.parse(event.data);
        } catch (e) {
          return;
        }
        this.clock.sample(msg.server_time_ms);
        if (msg.type === 'hello') {
          this.hello = msg;
          if (msg.protocol !== PROTOCOL) console.warn('stopcall: server speaks protocol', msg.protocol);
          this.onstate('open');
        }
        if (msg.type === 'reply' && msg.id && this.pending.has(msg.id)) {
          const { resolve, timer } = this.pending.get(msg.id);
          clearTimeout(timer);
          this.pending.delete(msg.id);
          resolve(msg);
        }
        this.onmessage(msg);
      };
      ws.onclose = (event) => {
        if (this.ws !== ws) return;
        this.ws = null;
        this.hello = null;
        this.stopPings();
        for (const [, { resolve, timer }] of this.pending) {
          clearTimeout(timer);
          resolve({ type: 'reply', ok: false, error: 'disconnected', message: 'connection lost' });
        }
        this.pending.clear();
        if (event.code === SIGN_IN_FIRST && !this.token) {
          this.onstate('signin');
          return;
        }
        this.scheduleReconnect();
      };
      ws.onerror = () => {}; // onclose follows
    }

    // 0.5 s, 1 s, 2 s ... up to 10 s, with jitter so that a bus full of screens does not reconnect
    // in step after the daemon restarts.
    scheduleReconnect() {
      this.onstate('reconnecting');
      const base = Math.min(10000, 500 * 2 ** this.attempt);
      this.attempt = Math.min(this.attempt + 1, 10);
      const delay = base * (0.8 + Math.random() * 0.4);
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    }

    // Browsers answer WebSocket pings without telling the page, so a cable pulled out would go
    // unnoticed: ask the server every 15 s and reconnect when it does not answer within 5 s.
    startPings() {
      this.stopPings();
      this.pingTimer = setInterval(() => {
        const ws = this.ws;
        this.request('ping', {}, 5000).then((reply) => {
          if (!reply.ok && reply.error === 'timeout' && this.ws === ws && ws) ws.close();
        });
      }, 15000);
    }
    stopPings() {
      clearInterval(this.pingTimer);
      this.pingTimer = null;
    }

    // Sends one message and resolves with its reply ({ok:false, error:'timeout'} after timeoutMs).
    request(type, fields = {}, timeoutMs = 8000) {
      return new Promise((resolve) => {
        if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
          resolve({ type: 'reply', ok: false, error: 'disconnected', message: 'not connected' });
          return;
        }
        const id = `c${++this.nextId}`;
        const timer = setTimeout(() => {
          this.pending.delete(id);
          resolve({ type: 'reply', id, ok: false, error: 'timeout', message: 'no answer' });
        }, timeoutMs);
        this.pending.set(id, { resolve, timer });
        this.ws.send(JSON.stringify({ type, id, ...fields }));
      });
    }
  }

  // Text for `lang` from a {lang: text} map, falling back to the first language that has one.
  function pick(names, lang, order) {
    if (!names) return '';
    if (names[lang]) return names[lang];
    for (const other of order || []) if (names[other]) return names[other];
    const values = Object.values(names);
    return values.length ? values[0] : '';
  }

  // The lang attribute for a language tag: Cantonese is written in traditional characters here.
  function htmlLang(lang) {
    return lang === 'yue' ? 'yue-Hant' : lang;
  }

  // Builds an element; children are nodes or strings (always text, never HTML).
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // "08:05" for a server time, in the bus's zone (utc_offset_min from the state).
  function clockText(serverTimeMs, utcOffsetMin) {
    const t = new Date(serverTimeMs + (utcOffsetMin || 0) * 60000);
    const hh = String(t.getUTCHours()).padStart(2, '0');
    const mm = String(t.getUTCMinutes()).padStart(2, '0');
    return `${hh}:${mm}`;
  }

  // WCAG relative luminance contrast of two "RRGGBB" colours.
  function contrast(hexA, hexB) {
    const lum = (hex) => {
      const c = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
      const l = c.map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
      return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
    };
    const [a, b] = [lum(hexA), lum(hexB)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
  }

  // Replaces the item of `list` with the same `key`, or appends it.
  function upsert(list, item, key) {
    const i = list.findIndex((x) => x[key] === item[key]);
    if (i >= 0) list[i] = item;
    else list.push(item);
  }

  // Folds a `message` change into the state: a change keeps its place (oldest first), an inactive
  // one is taken down.
  function foldMessage(state, msg) {
    if (!state.messages) state.messages = [];
    if (msg.active) upsert(state.messages, msg, 'id');
    else state.messages = state.messages.filter((m) => m.id !== msg.id);
  }

  // What the tests and a curious engineer may look at: the connection, and measured figures.
  window.stopcallHmi = {
    upsert,
    foldMessage,
    Connection,
    pick,
    htmlLang,
    el,
    clockText,
    contrast,
    connection: null,
    metrics: { subtitleLatencyMs: [] },
  };
})();
