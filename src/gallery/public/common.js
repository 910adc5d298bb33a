// What every gallery page shares: who is signed in (and the page texts in their language), the API helper
// that sends the CSRF token and a same-origin referrer with every change, the header, and small helpers.
// Plain ES module, no build step. Text from people is always set as text, never as HTML.

let me;

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

/** A page text by key, `{name}` placeholders filled. */
export function T(key, params = {}) {
  const text = (me && me.texts[key]) || key;
  return text.replace(/\{([A-Za-z_]\w*)\}/g, (_, n) => (params[n] === undefined ? `{${n}}` : String(params[n])));
}

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

/** JSON API call. Changes (`method` other than GET) carry the CSRF token; the answer's error becomes an ApiError. */
export async function api(path, { method = 'GET', body, headers = {} } = {}) {
  const h = { ...headers };
  if (body !== undefined) h['content-type'] = 'application/json';
  if (method !== 'GET' && me) h['x-csrf-token'] = me.csrf;
  const res = await fetch(path, {
    method, headers: h, credentials: 'same-origin', referrerPolicy: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status === 401) { location.reload(); throw new ApiError(401, 'SIGNED_OUT', 'signed out'); }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data.error?.code ?? 'HTTP', data.error?.message ?? `HTTP ${res.status}`);
  return data;
}

let toastTimer;
export function toast(text, bad = false) {
  let t = document.getElementById('toast');
  if (!t) { t = el('div', 'toast'); t.id = 'toast'; t.setAttribute('role', 'status'); document.body.append(t); }
  t.textContent = text;
  t.className = bad ? 'toast bad' : 'toast';
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 5000);
}

export const failed = (err) => toast(T('error', { message: err.message }), true);

/** `2026-11-25 09:00` in the browser's time zone. */
export function when(iso) {
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** `2026-11-25` of a Date (browser time zone), for date inputs. */
export function day(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** Sign-in state, page texts, the header (who, sign out, tabs by role). Call first on every page. */
export async function start(tab) {
  const res = await fetch('/api/gallery/me', { credentials: 'same-origin' });
  if (!res.ok) { location.reload(); throw new Error('signed out'); }
  me = await res.json();
  document.documentElement.lang = me.locale;
  for (const node of document.querySelectorAll('[data-t]')) node.textContent = T(node.dataset.t);
  for (const node of document.querySelectorAll('[data-tp]')) node.placeholder = T(node.dataset.tp);
  for (const node of document.querySelectorAll('[data-ta]')) node.setAttribute('aria-label', T(node.dataset.ta));
  document.title = `${T(tab === 'images' ? 'title' : `${tab}_title`)} — zimage`;
  document.getElementById('who-name').textContent = T('signed_in_as', { name: me.identity.userName || me.identity.user });
  for (const a of document.querySelectorAll('.tabs a')) a.classList.toggle('on', a.dataset.tab === tab);
  document.querySelector('.tabs a[data-tab="usage"]').hidden = !(me.manager || me.audit);
  document.querySelector('.tabs a[data-tab="export"]').hidden = !me.audit;
  document.getElementById('signout').addEventListener('click', async () => {
    await api('/api/gallery/signout', { method: 'POST' }).catch(() => undefined);
    location.href = '/gallery';
  });
  return me;
}

/** Fill a <select> with "All" and the given [value, label] pairs, keeping a chosen value. */
export function options(select, pairs, chosen = '') {
  select.replaceChildren(new Option(T(select.dataset.any || 'any'), ''));
  for (const [value, label] of pairs) select.append(new Option(label, value));
  if (chosen && ![...select.options].some((o) => o.value === chosen)) select.append(new Option(chosen, chosen));
  select.value = chosen;
}

/** The filters' choices: people, channels, templates, models the viewer may see. */
export async function fillFilters(form, chosen) {
  const f = await api('/api/gallery/filters');
  options(form.person, f.people.map((p) => [p.user, p.userName ? `${p.userName} (${p.images})` : `${p.user} (${p.images})`]), chosen.person);
  options(form.channel, f.channels.map((c) => [c.channel, `${channelLabel(c.kind, c.channel)} (${c.images})`]), chosen.channel);
  options(form.template, f.templates.map((x) => [x.template, `${x.template} (${x.images})`]), chosen.template);
  options(form.model, f.models.map((m) => [m.model, `${m.name} (${m.images})`]), chosen.model);
}

/** How a channel is named on the pages: `#C123`, `#C123 · private channel`, `direct message · D123`, `Playground`. */
export function channelLabel(kind, channel) {
  if (kind === 'playground') return T('kind_playground');
  if (kind === 'dm') return `${T('kind_dm')} · ${channel}`;
  return kind === 'private' ? `#${channel} · ${T('kind_private')}` : `#${channel}`;
}
