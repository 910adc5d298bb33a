// The Playground page: a chat channel whose threads the bot answers in. Plain ES module, no build step.
// Everything it shows comes from the JSON API and the server-sent event stream described in README.md.

const feed = document.getElementById('feed');
const empty = document.getElementById('empty');
const userInput = document.getElementById('user');
const textInput = document.getElementById('text');
const errorBox = document.getElementById('error');
const statusbar = document.getElementById('statusbar');

const BOT = 'zimage';
/** messageId → rendered element */
const rendered = new Map();

userInput.value = localStorage.getItem('zimage.user') || `guest-${Math.random().toString(36).slice(2, 6)}`;
userInput.addEventListener('change', () => localStorage.setItem('zimage.user', userInput.value.trim()));
localStorage.setItem('zimage.user', userInput.value);

/** The page's texts: English until /api/playground/texts answers in the browser's language (see loadTexts). */
const T = {
  only_you: 'Only you can see this.', image_alt: 'generated image', name_first: 'Type a user name first (top right).',
  send_failed: 'Could not send (HTTP {status}).', cancel: 'Cancel', regenerate: 'Regenerate', variations: 'Variations ×4',
};
const tr = (key, params = {}) => (T[key] ?? key).replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));

/** The page's own texts in the browser's language, as the bot's replies to this page are; English stays if they do not come. */
async function loadTexts() {
  try {
    const res = await fetch(`/api/playground/texts?locale=${encodeURIComponent(navigator.language)}`);
    if (!res.ok) return;
    const body = await res.json();
    Object.assign(T, body.texts);
    document.documentElement.lang = body.locale;
    if (T.title) document.title = T.title;
    for (const e of document.querySelectorAll('[data-t]')) if (T[e.dataset.t]) e.textContent = T[e.dataset.t];
    for (const e of document.querySelectorAll('[data-t-placeholder]')) if (T[e.dataset.tPlaceholder]) e.placeholder = T[e.dataset.tPlaceholder];
    for (const e of document.querySelectorAll('[data-t-label]')) if (T[e.dataset.tLabel]) e.setAttribute('aria-label', T[e.dataset.tLabel]);
  } catch {
    // English stays.
  }
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text; // user text is always shown as text, never as HTML
  return e;
}

// Bot messages may carry links (a gallery sign-in link): those become anchors, the rest stays text.
const URL_RE = /https?:\/\/[^\s<>"]+/g;
function appendLinked(parent, text) {
  let at = 0;
  for (const m of text.matchAll(URL_RE)) {
    const url = m[0].replace(/[.,;:!?'")\]}»」』。，、；：！？]+$/u, '');
    if (m.index > at) parent.append(text.slice(at, m.index));
    const a = el('a', '', url);
    a.href = url;
    a.target = '_blank';
    a.rel = 'noopener';
    parent.append(a);
    at = m.index + url.length;
  }
  if (at < text.length) parent.append(text.slice(at));
}

function timeOf(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function avatar(user, shown) {
  const a = el('div', user === BOT ? 'avatar bot' : 'avatar', user === BOT ? '✦' : shown.slice(0, 1).toUpperCase());
  if (user !== BOT) {
    let h = 0;
    for (const c of user) h = (h * 31 + c.codePointAt(0)) % 360;
    a.style.background = `hsl(${h} 55% 45%)`;
  }
  return a;
}

function progressOf(status) {
  if (!status) return null;
  if (status.phase === 'generating' && status.steps > 0) {
    return ((status.image - 1) + status.step / status.steps) / status.count;
  }
  if (status.phase === 'finishing' || status.phase === 'done') return 1;
  return null;
}

function renderBody(msg) {
  const body = el('div', 'body');
  const head = el('div', 'head');
  head.append(el('span', msg.user === BOT ? 'name bot' : 'name', msg.userName || msg.user));
  if (msg.user === BOT) head.append(el('span', 'badge', 'APP'));
  head.append(el('span', 'time', timeOf(msg.createdAt)));
  body.append(head);
  if (msg.imageUrl) {
    const fig = el('figure', 'result');
    const link = el('a');
    link.href = msg.imageUrl;
    link.target = '_blank';
    const img = el('img');
    img.src = msg.imageUrl;
    img.alt = msg.metadata ? msg.metadata.prompt : tr('image_alt');
    img.loading = 'lazy';
    // Its size is known: the page keeps the room for it, so a reply lands where the scroll position expects it.
    if (msg.metadata && msg.metadata.width && msg.metadata.height) {
      img.width = msg.metadata.width;
      img.height = msg.metadata.height;
    }
    link.append(img);
    fig.append(link);
    if (msg.fields) {
      const dl = el('dl', 'meta');
      for (const f of msg.fields) {
        dl.append(el('dt', '', f.label), el('dd', '', f.value));
      }
      fig.append(dl);
    }
    body.append(fig);
    if (msg.metadata) {
      body.append(buttons(msg.threadId, msg.metadata.jobId, [['regenerate', tr('regenerate')], ['variations', tr('variations')]]));
    }
  } else if (msg.file) {
    // An image the bot posted that is not a result (the usage chart): shown at its size, opened full-size on click.
    const fig = el('figure', 'result file');
    const link = el('a');
    link.href = msg.file.url;
    link.target = '_blank';
    const img = el('img');
    img.src = msg.file.url;
    img.alt = msg.file.title;
    link.append(img);
    fig.append(link, el('figcaption', 'text', msg.file.title));
    body.append(fig);
  } else {
    const text = el('div', msg.status ? `text status phase-${msg.status.phase}` : 'text');
    appendLinked(text, msg.text);
    body.append(text);
    if (msg.privateTo) body.append(el('div', 'private-note', tr('only_you')));
    const p = progressOf(msg.status);
    if (msg.status && msg.status.phase !== 'done' && msg.status.phase !== 'failed' && msg.status.phase !== 'cancelled') {
      const bar = el('div', p === null ? 'bar waiting' : 'bar');
      const fill = el('div', 'fill');
      fill.style.width = `${Math.round((p ?? 0) * 100)}%`;
      bar.append(fill);
      body.append(bar);
      if (msg.status.phase === 'queued' || msg.status.phase === 'generating') {
        body.append(buttons(msg.threadId, msg.status.jobId, [['cancel', tr('cancel')]]));
      }
    }
  }
  return body;
}

function buttons(threadId, jobId, list) {
  const row = el('div', 'actions');
  for (const [kind, label] of list) {
    const b = el('button', `action action-${kind}`, label);
    b.type = 'button';
    b.addEventListener('click', () => act(kind, jobId, threadId, b));
    row.append(b);
  }
  return row;
}

async function act(kind, jobId, threadId, button) {
  button.disabled = true;
  const res = await fetch('/api/playground/actions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: userInput.value.trim(), kind, jobId, threadId, locale: navigator.language }),
  });
  const body = await res.json().catch(() => ({}));
  toast(body.message || body.error?.message || `HTTP ${res.status}`, body.ok === false || !res.ok);
  button.disabled = false;
}

let toastTimer;
function toast(text, bad) {
  if (!text) return;
  let t = document.getElementById('toast');
  if (!t) { t = el('div', 'toast'); t.id = 'toast'; t.setAttribute('role', 'status'); document.body.append(t); }
  t.textContent = text;
  t.className = bad ? 'toast bad' : 'toast';
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 4000);
}

function renderMessage(msg) {
  const row = el('div', msg.user === BOT ? 'msg from-bot' : 'msg');
  row.dataset.id = msg.id;
  if (msg.status) row.dataset.phase = msg.status.phase;
  row.append(avatar(msg.user, msg.userName || msg.user), renderBody(msg));
  return row;
}

function threadBox(threadId) {
  let box = feed.querySelector(`.thread[data-thread="${CSS.escape(threadId)}"]`);
  if (!box) {
    box = el('div', 'thread');
    box.dataset.thread = threadId;
    const replies = el('div', 'replies');
    box.append(replies);
    feed.append(box);
  }
  return box;
}

function show(msg) {
  empty.hidden = true;
  const existing = rendered.get(msg.id);
  // Changes can reach the page out of order (several bot replicas): never replace a newer version.
  const version = msg.updatedAt ?? msg.createdAt ?? 0;
  if (existing && Number(existing.dataset.version) > version) return;
  const row = renderMessage(msg);
  row.dataset.version = String(version);
  if (existing) {
    existing.replaceWith(row);
  } else if (msg.threadId === msg.id) {
    const box = threadBox(msg.id);
    box.prepend(row);
  } else {
    threadBox(msg.threadId).querySelector('.replies').append(row);
  }
  rendered.set(msg.id, row);
  return row;
}

function nearBottom() {
  return window.innerHeight + window.scrollY >= document.body.scrollHeight - 160;
}

function toBottom() {
  window.scrollTo({ top: document.body.scrollHeight });
}

function showAndScroll(msg, force) {
  const stick = force || nearBottom();
  const row = show(msg);
  if (!stick) return;
  toBottom();
  // An image still loading grows the page once it arrives: follow it, unless the reader has scrolled up meanwhile.
  const at = window.scrollY;
  for (const img of row?.querySelectorAll('img') ?? []) {
    if (!img.complete) img.addEventListener('load', () => { if (window.scrollY >= at - 2) toBottom(); }, { once: true });
  }
}

async function loadHistory(scroll = true) {
  const res = await fetch('/api/playground/messages');
  const { messages } = await res.json();
  for (const m of messages) {
    show(m);
    if (m.replies > 0) {
      const t = await (await fetch(`/api/playground/threads/${encodeURIComponent(m.id)}`)).json();
      for (const r of t.messages) if (r.id !== m.id) show(r);
    }
  }
  if (scroll) window.scrollTo({ top: document.body.scrollHeight });
}

function listen() {
  const es = new EventSource('/api/playground/events');
  // After a reconnect (the bot restarted, or dropped this page for falling behind) events may have been
  // missed: reload what is there (messages already shown are replaced by their newer versions only).
  let opened = false;
  es.addEventListener('open', () => {
    if (opened) loadHistory(false).catch(() => undefined);
    opened = true;
  });
  const onEvent = (e) => {
    const msg = JSON.parse(e.data);
    const before = rendered.get(msg.id)?.dataset.phase;
    showAndScroll(msg, false);
    // A job that starts or ends changes what the status bar says: ask now rather than at its next refresh.
    if (msg.status && msg.status.phase !== before) statusChanged();
  };
  es.addEventListener('message', onEvent);
  es.addEventListener('update', onEvent);
  // A message this page was shown while it was being stored, which could not be stored after all.
  es.addEventListener('remove', (e) => {
    const msg = JSON.parse(e.data);
    const row = rendered.get(msg.id);
    if (!row) return;
    (msg.threadId === msg.id ? row.closest('.thread') ?? row : row).remove();
    rendered.delete(msg.id);
  });
}

function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = !text;
}

document.getElementById('composer').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = textInput.value;
  const user = userInput.value.trim();
  if (!text.trim()) return;
  if (!user) { showError(tr('name_first')); userInput.focus(); return; }
  showError('');
  const res = await fetch('/api/playground/messages', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, text, locale: navigator.language }),
  });
  if (res.status === 201) {
    textInput.value = '';
    window.scrollTo({ top: document.body.scrollHeight });
  } else {
    const body = await res.json().catch(() => ({}));
    showError(body.error?.message || tr('send_failed', { status: res.status }));
  }
});

/** The status bar asks for its summary one request at a time (every 10 s, and when a job starts or ends); a change seen while one is out asks once more after it. */
let statusAsking = null;
let statusAgain = false;
function statusChanged() {
  if (statusAsking) { statusAgain = true; return; }
  statusAsking = refreshStatus().finally(() => {
    statusAsking = null;
    if (statusAgain) { statusAgain = false; statusChanged(); }
  });
}

async function refreshStatus() {
  try {
    // In the browser's language, as the bot's replies to this page are.
    const res = await fetch(`/status?locale=${encodeURIComponent(navigator.language)}`);
    if (!res.ok) { statusbar.hidden = true; return; }
    const s = await res.json();
    statusbar.hidden = false;
    statusbar.textContent = s.summary ?? '';
  } catch {
    statusbar.hidden = true;
  }
}

await loadTexts();
await loadHistory();
listen();
statusChanged();
setInterval(statusChanged, 10_000);
textInput.focus();
