// The driver console: shows the state, sends driver actions (PROTOCOL.md) and shows each reply.
'use strict';

(function () {
  const { Connection, pick, el, clockText, upsert, foldMessage } = window.stopcallHmi;
  const ORDER = ['zh-Hans', 'en', 'yue'];

  const STATUS_NAMES = {
    gps: 'GPS',
    'audio.interior': '车内 Interior',
    'audio.exterior': '车外 Exterior',
    bundle: '线路 Bundle',
    trip: '行程 Trip',
  };
  const MARKS = { ok: '●', warning: '▲', error: '✖', unknown: '?' }; // shape as well as colour
  const ACTION_NAMES = {
    auth: '登录 Sign in',
    login_trip: '选择行程 Trip login',
    confirm_detected_trip: '确认行程 Confirm trip',
    ramp_assist: '轮椅坡板 Ramp assist',
    repeat_last: '重播 Repeat',
    set_volume: '音量 Volume',
    dismiss_request: '完成请求 Request done',
    send_message: '发送信息 Send message',
    ack_message: '确认信息 Acknowledge',
    cancel_message: '结束信息 End message',
  };
  const MESSAGE_ACTIONS = ['send_message', 'ack_message', 'cancel_message'];
  const ARM_MS = 5000; // an emergency preset waits this long for its confirming second press
  const KINDS = { emergency: '紧急 Emergency', service: '服务 Service' };
  const OUTPUTS = { interior: '车内 Interior', exterior: '车外 Exterior' };
  const PROMPT_NAMES = {
    stop_requested: '下车请求 Stop requested',
    ramp_requested: '乘客请求坡板 Ramp requested',
    ramp_deploying: '坡板放下中 Ramp deploying',
    doors_opening: '开门 Doors opening',
    doors_closing: '关门 Doors closing',
    notice: '通知 Notice',
  };

  let state = null;
  let armed = null; // the emergency preset pressed once: {preset, timer}
  const $ = (id) => document.getElementById(id);

  // ---- the token: from driver.html#token=..., kept for this tab only, out of the address bar ----
  function takeToken() {
    const match = location.hash.match(/token=([^&]+)/);
    if (match) {
      sessionStorage.setItem('stopcall.token', decodeURIComponent(match[1]));
      history.replaceState(null, '', location.pathname + location.search);
    }
    return sessionStorage.getItem('stopcall.token');
  }

  // ---- rendering ----

  function tripLabel(trip) {
    return `${trip.route} → ${pick(trip.headsign, 'zh-Hans', ORDER)} ${pick(trip.headsign, 'en', ORDER)}`;
  }

  function renderStatuses() {
    const list = $('statuses');
    const known = Object.keys(STATUS_NAMES);
    const statuses = [...state.statuses].sort(
      (a, b) => (known.indexOf(a.name) + 1 || 99) - (known.indexOf(b.name) + 1 || 99),
    );
    list.replaceChildren(
      ...statuses.map((s) =>
        el(
          'li',
          { class: `status ${s.level}`, 'data-status': s.name, title: s.text },
          el('span', { class: 'mark', 'aria-label': s.level }, MARKS[s.level] || '?'),
          el('span', { class: 'name' }, STATUS_NAMES[s.name] || s.name),
          el('span', { class: 'text' }, s.text),
        ),
      ),
    );
  }

  function renderTrip() {
    const box = $('current-trip');
    const trip = state.trip;
    if (!trip) {
      box.className = 'current-trip none';
      box.replaceChildren('未登录行程 · No trip: choose one below');
    } else {
      box.className = 'current-trip';
      const next = state.next_stop;
      box.replaceChildren(
        el('span', { class: 'badge' }, trip.route.number),
        el(
          'div',
          { class: 'detail' },
          el('div', { class: 'headsign' }, `→ ${pick(trip.headsign, 'zh-Hans', ORDER)} ${pick(trip.headsign, 'en', ORDER)}`),
          el('div', { class: 'sub' }, `${trip.id} · ${trip.block}`),
          el(
            'div',
            { class: 'sub' },
            next ? `下一站 Next: ${pick(next.names, 'zh-Hans', ORDER)} ${pick(next.names, 'en', ORDER)}` : '终点 End of trip',
          ),
        ),
      );
    }

    const detected = state.detected_trip;
    const detectedBox = $('detected');
    if (detected && (!trip || trip.id !== detected.trip_id)) {
      const option = state.trip_options.find((o) => o.trip_id === detected.trip_id);
      const what = option ? `${tripLabel(option)} · ${option.departure}` : detected.trip_id;
      detectedBox.replaceChildren(
        el(
          'button',
          { type: 'button', class: 'confirm', id: 'confirm-detected', 'data-action': 'confirm_detected_trip' },
          el('span', { class: 'what' }, `确认 Confirm: ${what}`),
          el('span', { class: 'why' }, `自动识别 Detected from GPS · ${Math.round(detected.confidence * 100)}%`),
        ),
      );
    } else {
      detectedBox.replaceChildren();
    }

    $('trip-list').replaceChildren(
      ...state.trip_options.map((option) =>
        el(
          'li',
          {},
          el(
            'button',
            {
              type: 'button',
              class: trip && trip.id === option.trip_id ? 'current' : '',
              'data-action': 'login_trip',
              'data-trip': option.trip_id,
              'aria-pressed': trip && trip.id === option.trip_id ? 'true' : 'false',
            },
            el('span', { class: 'time' }, option.departure),
            el('span', { class: 'where' }, tripLabel(option)),
            el('span', { class: 'block' }, `${option.trip_id} · ${option.block}`),
          ),
        ),
      ),
    );
  }

  // What each request asks of the driver, at a glance.
  const REQUEST_KINDS = {
    wheelchair: '轮椅上车 Wheelchair boarding',
    blind: '视障乘客 Blind rider waiting',
    wheelchair_alighting: '放坡板下车 Ramp needed to alight',
  };

  function requestDistance(r) {
    if (r.stops_to_go === undefined) return '';
    const stops = r.stops_to_go === 0 ? '下一站 next stop' : `${r.stops_to_go + 1} 站 stops`;
    const km = r.distance_m === undefined ? '' : ` ${(r.distance_m / 1000).toFixed(1)} km`;
    return `${stops}${km} · `;
  }

  function renderRequests() {
    const list = $('requests');
    if (!state.requests.length) {
      list.replaceChildren(el('li', { class: 'empty' }, '暂无 None'));
      return;
    }
    const now = connection.clock.now();
    list.replaceChildren(
      ...state.requests.map((r) =>
        el(
          'li',
          { class: 'request', 'data-request': r.id },
          el(
            'div',
            { class: 'what' },
            el('div', { class: 'stop' }, `${pick(r.stop_names, 'zh-Hans', ORDER)} ${pick(r.stop_names, 'en', ORDER)}`),
            el('div', { class: 'kind' }, `${REQUEST_KINDS[r.kind] || r.kind} · ${requestDistance(r)}${Math.max(0, Math.round((now - r.since) / 60000))} min`),
          ),
          el('button', { type: 'button', 'data-action': 'dismiss_request', 'data-request': r.id }, '完成 Done'),
        ),
      ),
    );
  }

  function renderPrompts() {
    const list = $('prompts');
    if (!state.prompts.length) {
      list.replaceChildren(el('li', { class: 'empty' }, '暂无 None'));
      return;
    }
    list.replaceChildren(
      ...state.prompts.map((p) => el('li', { class: 'prompt-item', 'data-prompt': p.id }, PROMPT_NAMES[p.kind] || p.kind)),
    );
  }

  // ---- emergency and service messages ----

  // "紧急疏散 Evacuate": the title in Chinese and English (or whatever it has).
  function bilingual(names) {
    const zh = pick(names, 'zh-Hans', ORDER);
    const en = pick(names, 'en', ORDER);
    return zh === en ? zh : `${zh} ${en}`;
  }

  // The presets as buttons, emergencies first; an armed emergency asks for its second press.
  function renderPresets() {
    const options = state.message_options || [];
    const groups = ['emergency', 'service']
      .map((kind) => [kind, options.filter((o) => o.kind === kind)])
      .filter(([, list]) => list.length);
    $('message-presets').replaceChildren(
      ...groups.map(([kind, list]) =>
        el(
          'div',
          { class: `preset-group preset-group-${kind}`, role: 'group', 'aria-label': KINDS[kind] },
          el('div', { class: 'preset-kind' }, KINDS[kind]),
          el(
            'div',
            { class: 'preset-buttons' },
            list.map((option) => {
              const isArmed = armed !== null && armed.preset === option.id;
              const en = pick(option.title, 'en', ORDER).toUpperCase();
              return el(
                'button',
                {
                  type: 'button',
                  class: `preset preset-${kind}${isArmed ? ' armed' : ''}`,
                  'data-action': 'send_message',
                  'data-preset': option.id,
                  'data-kind': kind,
                  'aria-pressed': kind === 'emergency' ? String(isArmed) : null,
                },
                isArmed
                  ? [el('span', { class: 'zh' }, '再按一次发送'), el('span', { lang: 'en' }, `Press again to send ${en}`)]
                  : [el('span', { class: 'zh' }, pick(option.title, 'zh-Hans', ORDER)), el('span', { lang: 'en' }, pick(option.title, 'en', ORDER))],
              );
            }),
          ),
        ),
      ),
    );
  }

  function disarm() {
    if (!armed) return;
    clearTimeout(armed.timer);
    armed = null;
    renderPresets();
  }

  function renderMessages() {
    const list = $('messages');
    // Emergencies first, then oldest first as the bus sends them.
    const messages = [...(state.messages || [])].sort((a, b) => (a.kind === 'emergency' ? 0 : 1) - (b.kind === 'emergency' ? 0 : 1));
    if (!messages.length) {
      list.replaceChildren(el('li', { class: 'empty' }, '屏幕上没有信息 No messages on the screens'));
      return;
    }
    list.replaceChildren(
      ...messages.map((m) => {
        const heard = m.heard || [];
        const emergency = m.kind === 'emergency';
        return el(
          'li',
          {
            class: `message message-${m.kind}`,
            'data-message': m.id,
            'data-kind': m.kind,
            'data-heard': heard.join(' '),
            'data-acknowledged': String(Boolean(m.acknowledged)),
          },
          el('div', { class: 'message-title' }, el('span', { class: 'message-kind' }, KINDS[m.kind] || m.kind), bilingual(m.title)),
          el('div', { class: 'message-body', lang: 'zh-Hans' }, pick(m.text, 'zh-Hans', ORDER)),
          el(
            'ul',
            { class: 'message-facts' },
            el('li', { class: 'fact sent' }, `已发送 Sent ${clockText(m.since_ms, state.utc_offset_min)}`),
            Object.entries(OUTPUTS).map(([output, name]) =>
              el(
                'li',
                { class: `fact heard ${heard.includes(output) ? 'yes' : 'no'}`, 'data-output': output },
                heard.includes(output) ? `✓ ${name} 已播出 heard` : `… ${name} 未播出 not yet`,
              ),
            ),
            emergency
              ? el(
                  'li',
                  { class: `fact ack ${m.acknowledged ? 'yes' : 'no'}` },
                  m.acknowledged ? '✓ 已确认 Acknowledged' : '▲ 未确认，重复播报 Not acknowledged: repeating',
                )
              : null,
          ),
          el(
            'div',
            { class: 'message-buttons' },
            emergency && !m.acknowledged
              ? el('button', { type: 'button', class: 'ack', 'data-action': 'ack_message', 'data-message': m.id }, '确认 Acknowledge')
              : null,
            el('button', { type: 'button', class: 'end', 'data-action': 'cancel_message', 'data-message': m.id }, '结束 Cancel'),
          ),
        );
      }),
    );
  }

  function renderVolumes() {
    for (const box of document.querySelectorAll('.volume')) {
      box.querySelector('.level').textContent = String(state.volume[box.dataset.output]);
    }
  }

  function renderClock() {
    if (state) $('clock').textContent = clockText(connection.clock.now(), state.utc_offset_min);
  }

  function renderAll() {
    renderStatuses();
    renderTrip();
    renderRequests();
    renderPrompts();
    renderPresets();
    renderMessages();
    renderVolumes();
    renderClock();
  }

  function showReply(reply) {
    const box = $('reply');
    const name = ACTION_NAMES[reply.request_type] || reply.request_type || '';
    box.className = `reply ${reply.ok ? 'ok' : 'error'}`;
    box.dataset.id = reply.id || '';
    box.dataset.ok = String(reply.ok);
    box.textContent = reply.ok
      ? `✓ ${name}${reply.message ? ` · ${reply.message}` : ''}`
      : `✖ ${name}: ${reply.error}${reply.message ? ` · ${reply.message}` : ''}`;
  }

  // ---- actions ----

  async function act(button, type, fields) {
    button.disabled = true;
    try {
      const reply = await connection.request(type, fields);
      if (!reply.request_type) reply.request_type = type;
      showReply(reply);
      // A refused message action is said where the driver is looking, too.
      if (MESSAGE_ACTIONS.includes(type)) {
        $('message-error').textContent = reply.ok ? '' : `✖ ${reply.message || reply.error}`;
      }
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener('click', (event) => {
    const button = event.target.closest('button');
    if (!button || button.disabled) return;
    if (button.classList.contains('step')) {
      const output = button.closest('.volume').dataset.output;
      const current = state ? state.volume[output] : 70;
      const level = Math.max(0, Math.min(100, current + Number(button.dataset.step)));
      act(button, 'set_volume', { output, level });
      return;
    }
    switch (button.dataset.action) {
      case 'ramp_assist':
      case 'repeat_last':
      case 'confirm_detected_trip':
        act(button, button.dataset.action, {});
        break;
      case 'login_trip':
        act(button, 'login_trip', { trip_id: button.dataset.trip });
        break;
      case 'dismiss_request':
        act(button, 'dismiss_request', { request_id: button.dataset.request });
        break;
      case 'send_message': {
        const preset = button.dataset.preset;
        if (button.dataset.kind !== 'emergency') {
          disarm();
          act(button, 'send_message', { preset, confirmed: false });
        } else if (armed && armed.preset === preset) {
          disarm();
          act(button, 'send_message', { preset, confirmed: true });
        } else {
          // The first press only arms it: an emergency goes out on a second, deliberate press.
          disarm();
          armed = { preset, timer: setTimeout(disarm, ARM_MS) };
          renderPresets();
        }
        break;
      }
      case 'ack_message':
      case 'cancel_message':
        act(button, button.dataset.action, { message_id: button.dataset.message });
        break;
      default:
        break;
    }
  });

  // ---- messages ----


  function onMessage(msg) {
    switch (msg.type) {
      case 'hello':
        document.body.dataset.authenticated = String(msg.authenticated);
        break;
      case 'auth_result':
        document.body.dataset.authenticated = String(msg.ok);
        if (msg.ok) {
          $('signin').hidden = true;
          setLink('ok');
        } else {
          sessionStorage.removeItem('stopcall.token');
          connection.token = null;
          $('signin-error').textContent = `口令错误 Token refused: ${msg.message || msg.error}`;
          $('signin').hidden = false;
        }
        showReply(msg);
        break;
      case 'state':
        state = msg;
        renderAll();
        break;
      case 'next_stop':
        if (!state) return;
        state.next_stop = msg.next_stop;
        state.coming = msg.coming;
        renderTrip();
        break;
      case 'prompt':
        if (!state) return;
        if (msg.active) upsert(state.prompts, msg, 'id');
        else state.prompts = state.prompts.filter((p) => p.id !== msg.id);
        renderPrompts();
        break;
      case 'status':
        if (!state) return;
        upsert(state.statuses, msg, 'name');
        renderStatuses();
        break;
      case 'requests':
        if (!state) return;
        state.requests = msg.requests;
        renderRequests();
        break;
      case 'volume':
        if (!state) return;
        state.volume = { interior: msg.interior, exterior: msg.exterior };
        renderVolumes();
        break;
      case 'message':
        if (!state) return;
        foldMessage(state, msg);
        renderMessages();
        break;
      default:
        break;
    }
  }

  function setLink(s) {
    const link = $('link');
    const authed = document.body.dataset.authenticated === 'true';
    if (s === 'open' || s === 'ok') {
      link.className = `link ${authed ? 'ok' : ''}`;
      link.textContent = authed ? '● 已连接 Connected' : '● 已连接，未登录 Connected, not signed in';
    } else if (s === 'signin') {
      link.className = 'link';
      link.textContent = '● 未登录 Not signed in: enter the token';
      $('signin').hidden = false;
    } else {
      link.className = 'link bad';
      link.textContent = '▲ 正在重新连接 Reconnecting…';
    }
  }

  const token = takeToken();
  const connection = new Connection({
    role: 'driver',
    token,
    onmessage: onMessage,
    onstate: setLink,
  });
  window.stopcallHmi.connection = connection;

  $('signin').hidden = Boolean(token);
  $('signin').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('token').value.trim();
    if (!value) return;
    sessionStorage.setItem('stopcall.token', value);
    connection.token = value;
    $('signin-error').textContent = '';
    if (!connection.ws || connection.ws.readyState !== WebSocket.OPEN) {
      // Closed while there was no token (or opening): it signs in as it opens.
      if (!connection.ws) connection.connect();
      return;
    }
    connection.request('auth', { token: value }).then((reply) => onMessage({ ...reply, type: 'auth_result' }));
  });

  setInterval(renderClock, 1000);
  setInterval(() => state && renderRequests(), 30000);
  connection.connect();
})();
