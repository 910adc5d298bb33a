// The Export page (audit permission): provenance rows of a range and filter as CSV or JSON Lines — counted
// first, then streamed by the server into the browser's own download (one-time link) — and legal holds.
import { api, el, failed, fillFilters, options, start, T, toast, when } from './common.js';

const me = await start('export');
const form = document.getElementById('filters');
const rows = document.getElementById('rows');

function filter() {
  const f = {};
  for (const name of ['from', 'to', 'person', 'channel', 'template', 'model', 'q']) {
    const value = form.elements[name].value.trim();
    if (value) f[name] = value;
  }
  return f;
}

const rowsText = (n) => T(n === 1 ? 'export_rows_one' : 'export_rows_other', { n });

async function count() {
  const q = new URLSearchParams({ ...filter(), deleted: '1', limit: '1' });
  const page = await api(`/api/gallery/images?${q}`);
  rows.textContent = rowsText(page.total);
}

async function download() {
  const res = await api('/api/gallery/export', { method: 'POST', body: { ...filter(), format: form.elements.format.value } });
  rows.textContent = rowsText(res.rows);
  // The browser's own download: the file streams to disk, however large.
  const a = el('a');
  a.href = res.url;
  a.download = '';
  document.body.append(a);
  a.click();
  a.remove();
  toast(T('export_started', { n: res.rows }));
}

async function holds() {
  const h = await api('/api/gallery/holds');
  const people = document.getElementById('held-people');
  const images = document.getElementById('held-images');
  people.replaceChildren(...(h.people.length ? h.people.map((p) => {
    const li = el('li', '', `${p.user} · ${p.reason || '—'} · ${p.heldBy} · ${when(p.heldAt)} `);
    const release = el('button', 'action', T('release'));
    release.type = 'button';
    release.addEventListener('click', () => api('/api/gallery/holds/people', { method: 'POST', body: { user: p.user, on: false } }).then(holds, failed));
    li.append(release);
    return li;
  }) : [el('li', 'muted', T('holds_none'))]));
  images.replaceChildren(...(h.images.length ? h.images.map((i) => {
    const li = el('li');
    const a = el('a', '', `${i.prompt.slice(0, 80)} · ${i.userName || i.user} · ${when(i.createdAt)}`);
    a.href = `/gallery?image=${encodeURIComponent(i.id)}`;
    li.append(a);
    return li;
  }) : [el('li', 'muted', T('holds_none'))]));
}

if (!me.audit) {
  document.getElementById('only').hidden = false;
  form.hidden = true;
  document.getElementById('holds').hidden = true;
} else {
  await fillFilters(form, {}).catch(failed);
  const people = [...form.elements.person.options].slice(1).map((o) => [o.value, o.textContent]);
  const hold = document.getElementById('hold');
  options(hold.elements.user, people);
  document.getElementById('count').addEventListener('click', () => count().catch(failed));
  form.addEventListener('submit', (e) => { e.preventDefault(); download().catch(failed); });
  hold.addEventListener('submit', (e) => {
    e.preventDefault();
    const user = hold.elements.user.value;
    if (!user) return;
    api('/api/gallery/holds/people', { method: 'POST', body: { user, on: true, reason: hold.elements.reason.value } })
      .then(() => { hold.reset(); return holds(); }, failed);
  });
  holds().catch(failed);
}
