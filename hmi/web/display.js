// The passenger display: renders the state and the changes from /ws (PROTOCOL.md). Read-only:
// it never sends anything but pings.
'use strict';

(function () {
  const { Connection, pick, htmlLang, el, clockText, contrast, upsert, foldMessage } =
    window.stopcallHmi;
  const CYCLE_MS = 4000; // each language this long where the languages take turns
  const SERVICE_MS = 8000; // several service messages take turns this slowly (no flashing)

  const LABELS = {
    next: { 'zh-Hans': '下一站', yue: '下一站', en: 'Next stop' },
    towards: { 'zh-Hans': '开往', yue: '開往', en: 'To' },
    ended: { 'zh-Hans': '终点站到了，谢谢乘坐', yue: '終點站到了，多謝乘搭', en: 'Last stop. Thank you.' },
    welcome: { 'zh-Hans': '欢迎乘车', yue: '歡迎乘搭', en: 'Welcome aboard' },
    emergency: { 'zh-Hans': '紧急信息', yue: '緊急信息', en: 'Emergency' },
    service: { 'zh-Hans': '服务信息', yue: '服務信息', en: 'Service information' },
  };

  let state = null; // the last full state, with changes folded in
  let cycleIndex = 0;
  // A screen may be pinned to one language (index.html?lang=en): no cycling then.
  let pinned = new URLSearchParams(location.search).get('lang');
  let subtitleCue = null; // cue of the subtitle on screen (or scheduled)
  let subtitleTimers = [];
  // The message sentence being said: {message, lang, cue} while its subtitle runs, else null.
  let speaking = null;
  let speakingTimers = [];
  let serviceIndex = 0; // which service message shows when there are several
  let emergencyKey = ''; // what the emergency panel shows, to redraw only when it changes
  let serviceKey = '';

  const $ = (id) => document.getElementById(id);

  function languages() {
    return state && state.languages && state.languages.length ? state.languages : ['zh-Hans', 'yue', 'en'];
  }

  // One element per language, for containers where the languages take turns (or stack).
  function perLanguage(className, texts, extra) {
    return languages()
      .filter((lang) => texts[lang])
      .map((lang) =>
        el('div', { class: className, 'data-lang': lang, lang: htmlLang(lang) }, extra ? extra(lang) : null, texts[lang]),
      );
  }

  function markCurrent() {
    const langs = languages();
    const lang = pinned || langs[cycleIndex % langs.length];
    for (const node of document.querySelectorAll('[data-lang]')) {
      node.classList.toggle('current', node.dataset.lang === lang);
    }
    // A container without the current language (a stop with no English phrase) shows its first.
    for (const box of document.querySelectorAll('.cyclable, .cyclable-strip')) {
      if (box.children.length && !box.querySelector(':scope > .current')) {
        box.children[0].classList.add('current');
      }
    }
  }

  // ---- rendering ----

  function renderRoute() {
    const trip = state.trip;
    const badge = $('route-number');
    badge.textContent = trip ? trip.route.number : '';
    badge.hidden = !trip;
    if (trip && /^[0-9a-fA-F]{6}$/.test(trip.route.color || '') && /^[0-9a-fA-F]{6}$/.test(trip.route.text_color || '') &&
        contrast(trip.route.color, trip.route.text_color) >= 7) {
      badge.style.background = `#${trip.route.color}`;
      badge.style.color = `#${trip.route.text_color}`;
    } else {
      badge.style.background = '#000000';
      badge.style.color = '#ffffff';
    }
    const headsign = $('headsign');
    headsign.replaceChildren();
    if (trip) {
      for (const lang of languages()) {
        const text = trip.headsign[lang];
        if (!text) continue;
        const towards = LABELS.towards[lang] || '';
        headsign.append(el('span', { 'data-lang': lang, lang: htmlLang(lang) }, `${towards} ${text}`));
      }
    }
  }

  function renderNextStop() {
    const names = $('next-names');
    const phrase = $('next-phrase');
    const spoken = $('next-spoken');
    const stop = state.next_stop;
    if (!stop) {
      const texts = state.trip ? LABELS.ended : LABELS.welcome;
      names.replaceChildren(...perLanguage('next-name ended', texts));
      phrase.replaceChildren();
      $('next-heading').hidden = true;
      const text = languages().map((l) => texts[l]).filter(Boolean).join('。 ');
      if (spoken.textContent !== text) spoken.textContent = text;
      return;
    }
    $('next-heading').hidden = false;
    names.replaceChildren(
      ...perLanguage('next-name', stop.names, (lang) => el('span', { class: 'name-label' }, LABELS.next[lang] || '')),
    );
    phrase.replaceChildren(
      ...languages()
        .filter((lang) => stop.phrases[lang])
        .map((lang) =>
          el('span', { 'data-lang': lang, lang: htmlLang(lang) }, el('span', { class: 'metro' }, 'M'), stop.phrases[lang]),
        ),
    );
    // The screen reader hears each language once, when the stop changes, not on every cycle.
    const text = languages()
      .filter((lang) => stop.names[lang])
      .map((lang) => `${LABELS.next[lang] || ''} ${stop.names[lang]}${stop.phrases[lang] ? `, ${stop.phrases[lang]}` : ''}`)
      .join('。 ');
    if (spoken.textContent !== text) spoken.textContent = text;
    spoken.dataset.stop = stop.id;
  }

  function renderComing() {
    const list = $('coming');
    list.replaceChildren(
      ...state.coming.map((stop) => {
        const name = el('div', { class: 'cyclable' }, perLanguage('coming-name', stop.names));
        const phrase = el(
          'div',
          { class: 'cyclable' },
          languages()
            .filter((lang) => stop.phrases[lang])
            .map((lang) =>
              el(
                'div',
                { class: 'coming-phrase', 'data-lang': lang, lang: htmlLang(lang) },
                el('span', { class: 'metro' }, 'M'),
                stop.phrases[lang],
              ),
            ),
        );
        return el('li', { class: 'coming-stop', 'data-stop': stop.id }, name, phrase);
      }),
    );
  }

  // Pictograms drawn inline (no image files, no icon fonts).
  function icon(kind) {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 100 100');
    svg.setAttribute('aria-hidden', 'true');
    const add = (tag, attrs) => {
      const node = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
      svg.append(node);
    };
    const stroke = { fill: 'none', stroke: 'currentColor', 'stroke-width': '8', 'stroke-linecap': 'round', 'stroke-linejoin': 'round' };
    if (kind === 'ramp_deploying' || kind === 'ramp_requested') {
      add('circle', { cx: '42', cy: '14', r: '9', fill: 'currentColor' });
      add('path', { d: 'M40 28 L40 58 L68 58 L78 84', ...stroke });
      add('path', { d: 'M40 42 L62 42', ...stroke });
      add('path', { d: 'M30 46 A26 26 0 1 0 66 76', ...stroke });
    } else if (kind === 'stop_requested') {
      add('rect', { x: '14', y: '14', width: '72', height: '72', rx: '14', ...stroke });
      add('path', { d: 'M34 50 L66 50', ...stroke });
    } else if (kind === 'doors_opening' || kind === 'doors_closing') {
      add('rect', { x: '10', y: '10', width: '80', height: '80', rx: '6', ...stroke });
      add('path', { d: 'M50 12 L50 88', ...stroke });
      const out = kind === 'doors_opening';
      add('path', { d: out ? 'M40 50 L22 50 M30 40 L20 50 L30 60' : 'M20 50 L40 50 M32 40 L42 50 L32 60', ...stroke });
      add('path', { d: out ? 'M60 50 L78 50 M70 40 L80 50 L70 60' : 'M80 50 L60 50 M68 40 L58 50 L68 60', ...stroke });
    } else {
      add('circle', { cx: '50', cy: '50', r: '40', ...stroke });
      add('path', { d: 'M50 30 L50 56', ...stroke });
      add('circle', { cx: '50', cy: '72', r: '5', fill: 'currentColor' });
    }
    return svg;
  }

  function renderPrompts() {
    const box = $('prompts');
    document.body.classList.toggle('has-prompt', state.prompts.length > 0);
    box.replaceChildren(
      ...state.prompts.map((prompt) =>
        el(
          'div',
          { class: `prompt prompt-${prompt.kind}`, 'data-prompt': prompt.id, 'data-kind': prompt.kind },
          icon(prompt.kind),
          el('div', { class: 'prompt-texts' }, perLanguage('prompt-text', prompt.text)),
        ),
      ),
    );
  }

  function renderClock() {
    if (!state) return;
    $('clock').textContent = clockText(connection.clock.now(), state.utc_offset_min);
  }

  function renderAll() {
    renderRoute();
    renderNextStop();
    renderComing();
    renderPrompts();
    renderMessages();
    markCurrent();
    renderClock();
    fitAll();
  }

  // Long names ("Convention & Exhibition Center") shrink to fit their line instead of being cut.
  function fit(node) {
    node.style.fontSize = '';
    const max = parseFloat(getComputedStyle(node).fontSize);
    const width = node.parentElement.clientWidth;
    if (!width || node.offsetParent === null) return;
    let size = max;
    while (node.scrollWidth > width && size > max * 0.45) {
      size *= 0.92;
      node.style.fontSize = `${size}px`;
    }
  }
  // A panel's text shrinks (down to 55 %) rather than being cut when a message is long.
  function fitPanel(box) {
    if (!box || box.offsetParent === null) return;
    let scale = 1;
    box.style.setProperty('--scale', '1');
    while (box.scrollHeight > box.clientHeight + 1 && scale > 0.56) {
      scale -= 0.05;
      box.style.setProperty('--scale', scale.toFixed(2));
    }
  }
  function fitAll() {
    for (const node of document.querySelectorAll('.next-name')) fit(node);
    fitPanel($('emergency-texts'));
    fitPanel($('service'));
  }

  // ---- emergency and service messages ----

  // One block per language of `message.text`, in the state's order; a language it lacks is left out.
  function messageTexts(message, className) {
    return languages()
      .filter((lang) => message.text[lang])
      .map((lang) =>
        el(
          'div',
          { class: `${className} message-text`, 'data-message': message.id, 'data-lang': lang, lang: htmlLang(lang) },
          message.text[lang],
        ),
      );
  }

  // "紧急疏散 · 緊急疏散 · Evacuate": the title in every language (or the kind's name).
  function titleLine(message, fallback) {
    const titles = languages()
      .map((lang) => (message.title && message.title[lang]) || '')
      .filter(Boolean);
    const words = titles.length ? titles : languages().map((lang) => fallback[lang]).filter(Boolean);
    return [...new Set(words)].map((word, i) => el('span', { class: i ? 'title-more' : 'title-first' }, word));
  }

  function renderEmergency(message) {
    const box = $('emergency');
    const shown = Boolean(message);
    const key = shown ? JSON.stringify([message.id, message.title, message.text, languages()]) : '';
    if (key !== emergencyKey) {
      emergencyKey = key;
      box.hidden = !shown;
      if (shown) {
        box.dataset.message = message.id;
        $('emergency-head').replaceChildren(icon('notice'), el('div', { class: 'emergency-title' }, titleLine(message, LABELS.emergency)));
        $('emergency-texts').replaceChildren(...messageTexts(message, 'emergency-text'));
      } else {
        delete box.dataset.message;
        $('emergency-head').replaceChildren();
        $('emergency-texts').replaceChildren();
      }
    }
    document.body.classList.toggle('has-emergency', shown);
    // Behind the panel nothing is focusable or read out.
    for (const node of document.querySelectorAll('body > header, body > main')) node.inert = shown;
    if (shown) renderEmergencyNext();
  }

  // The strip at the bottom of the emergency panel: where the bus stops next, in every language.
  function renderEmergencyNext() {
    const strip = $('emergency-next');
    const stop = state.next_stop;
    const texts = stop ? stop.names : state.trip ? LABELS.ended : null;
    strip.hidden = !texts;
    if (!texts) return;
    const label = stop ? languages().map((lang) => LABELS.next[lang]).filter(Boolean) : [];
    strip.replaceChildren(
      el('span', { class: 'emergency-next-label' }, [...new Set(label)].join(' · ')),
      ...languages()
        .filter((lang) => texts[lang])
        .map((lang) => el('span', { class: 'emergency-next-name', 'data-lang': lang, lang: htmlLang(lang) }, texts[lang])),
    );
  }

  function renderService(list) {
    const box = $('service');
    if (serviceIndex >= list.length) serviceIndex = 0;
    const message = list[serviceIndex];
    const key = message ? JSON.stringify([message.id, message.title, message.text, languages(), serviceIndex, list.length]) : '';
    document.body.classList.toggle('has-service', Boolean(message));
    if (key === serviceKey) return;
    serviceKey = key;
    box.hidden = !message;
    if (!message) {
      box.replaceChildren();
      return;
    }
    box.replaceChildren(
      el(
        'div',
        { class: 'service-message', 'data-message': message.id },
        el(
          'div',
          { class: 'service-head' },
          icon('notice'),
          el('div', { class: 'service-title' }, titleLine(message, LABELS.service)),
          list.length > 1 ? el('span', { class: 'service-count' }, `${serviceIndex + 1} / ${list.length}`) : null,
        ),
        ...messageTexts(message, 'service-text'),
      ),
    );
  }

  function renderMessages() {
    const messages = state.messages || [];
    const emergencies = messages.filter((m) => m.kind === 'emergency');
    renderEmergency(emergencies.length ? emergencies[emergencies.length - 1] : null); // the newest
    renderService(messages.filter((m) => m.kind === 'service'));
    markSpeaking();
  }

  // ---- subtitles ----

  function clearSubtitleTimers() {
    for (const t of subtitleTimers) clearTimeout(t);
    subtitleTimers = [];
  }

  function hideSubtitle() {
    const box = $('subtitle');
    box.classList.remove('showing');
    box.replaceChildren();
    subtitleCue = null;
  }

  function showSubtitle(sub) {
    const box = $('subtitle');
    box.replaceChildren(el('div', { class: 'subtitle-text', lang: htmlLang(sub.lang) }, sub.text));
    box.classList.add('showing');
    box.dataset.cue = sub.cue;
    // Latency from the cue (server_time_ms, when the server sent it) to the frame that shows it.
    if (typeof sub.server_time_ms === 'number') {
      requestAnimationFrame(() => {
        const shownAt = performance.timeOrigin + performance.now();
        const latencies = window.stopcallHmi.metrics.subtitleLatencyMs;
        latencies.push(shownAt - sub.server_time_ms);
        if (latencies.length > 1000) latencies.shift();
      });
    }
  }

  // ---- the message sentence being said ----

  function markSpeaking() {
    for (const node of document.querySelectorAll('.message-text')) {
      const on = speaking !== null && node.dataset.message === speaking.message && node.dataset.lang === speaking.lang;
      node.classList.toggle('speaking', on);
    }
  }

  function setSpeaking(value) {
    speaking = value;
    markSpeaking();
  }

  // A subtitle with `message` is that message being said: its sentence in `lang` is highlighted
  // from start to end. Any newer subtitle replaces it; a withdrawn one takes it down.
  function onMessageSubtitle(sub) {
    if (sub.withdrawn) {
      if (speaking && (!sub.cue || sub.cue === speaking.cue)) {
        for (const t of speakingTimers) clearTimeout(t);
        speakingTimers = [];
        setSpeaking(null);
      }
      return;
    }
    for (const t of speakingTimers) clearTimeout(t);
    speakingTimers = [];
    setSpeaking(null);
    if (!sub.message) return;
    const untilEnd = connection.clock.until(sub.end);
    if (untilEnd <= 0) return;
    const on = { message: sub.message, lang: sub.lang, cue: sub.cue };
    const untilStart = connection.clock.until(sub.start);
    if (untilStart > 0) speakingTimers.push(setTimeout(() => setSpeaking(on), untilStart));
    else setSpeaking(on);
    speakingTimers.push(
      setTimeout(() => {
        if (speaking && speaking.cue === on.cue) setSpeaking(null);
      }, untilEnd),
    );
  }

  // Shown from start to end (server clock, converted to ours), or until withdrawn.
  function onSubtitle(sub) {
    onMessageSubtitle(sub);
    if (sub.withdrawn) {
      if (!sub.cue || sub.cue === subtitleCue) {
        clearSubtitleTimers();
        hideSubtitle();
      }
      return;
    }
    clearSubtitleTimers();
    const clock = connection.clock;
    const untilEnd = clock.until(sub.end);
    if (untilEnd <= 0) {
      if (subtitleCue !== null) hideSubtitle();
      return;
    }
    subtitleCue = sub.cue;
    const untilStart = clock.until(sub.start);
    if (untilStart > 0) {
      subtitleTimers.push(setTimeout(() => showSubtitle(sub), untilStart));
    } else {
      showSubtitle(sub);
    }
    subtitleTimers.push(
      setTimeout(() => {
        if (subtitleCue === sub.cue) hideSubtitle();
      }, untilEnd),
    );
  }

  // ---- messages ----


  function onMessage(msg) {
    switch (msg.type) {
      case 'state':
        state = msg;
        renderAll();
        if (msg.subtitle) onSubtitle(msg.subtitle);
        else onMessageSubtitle({ withdrawn: true, cue: '' });
        if (!msg.subtitle && subtitleCue !== null) {
          clearSubtitleTimers();
          hideSubtitle();
        }
        break;
      case 'next_stop':
        if (!state) return;
        state.next_stop = msg.next_stop;
        state.coming = msg.coming;
        renderNextStop();
        renderComing();
        renderMessages();
        markCurrent();
        fitAll();
        break;
      case 'subtitle':
        onSubtitle(msg);
        break;
      case 'prompt':
        if (!state) return;
        if (msg.active) upsert(state.prompts, msg, 'id');
        else state.prompts = state.prompts.filter((p) => p.id !== msg.id);
        renderPrompts();
        markCurrent();
        break;
      case 'status':
        if (state) upsert(state.statuses, msg, 'name');
        break;
      case 'requests':
        if (state) state.requests = msg.requests;
        break;
      case 'volume':
        if (state) state.volume = { interior: msg.interior, exterior: msg.exterior };
        break;
      case 'message':
        if (!state) return;
        foldMessage(state, msg);
        renderMessages();
        fitAll();
        break;
      default:
        break; // hello, reply: nothing to show
    }
  }

  const connection = new Connection({
    role: 'passenger',
    onmessage: onMessage,
    onstate: (s) => {
      $('connection').hidden = s === 'open';
      document.body.dataset.connection = s;
    },
  });
  window.stopcallHmi.connection = connection;
  // Pins the display to one language (null: cycle again); the screenshots use it.
  window.stopcallHmi.pinLanguage = (lang) => {
    pinned = lang;
    markCurrent();
    fitAll();
  };

  setInterval(() => {
    cycleIndex += 1;
    markCurrent();
    fitAll();
  }, CYCLE_MS);
  setInterval(() => {
    const services = state ? (state.messages || []).filter((m) => m.kind === 'service') : [];
    if (services.length < 2) return;
    serviceIndex = (serviceIndex + 1) % services.length;
    renderMessages();
    fitAll();
  }, SERVICE_MS);
  setInterval(renderClock, 1000);
  window.addEventListener('resize', fitAll);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(fitAll);

  connection.connect();
})();
