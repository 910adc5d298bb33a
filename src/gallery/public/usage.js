// The Usage page: the same chart `/zimage usage` posts in chat (drawn on the server), for a chosen range of
// days, and its figures as tables that fit a phone. Managers and auditors only.
import { api, day, el, failed, start, T } from './common.js';

const me = await start('usage');
const form = document.getElementById('range');
const chart = document.getElementById('chart');
const link = document.getElementById('chart-link');
chart.alt = T('usage_chart_alt');

if (!me.manager && !me.audit) {
  document.getElementById('only').hidden = false;
  form.hidden = true;
  link.hidden = true;
  document.getElementById('figures').hidden = true;
} else {
  const today = new Date();
  form.elements.to.value = day(today);
  form.elements.from.value = day(new Date(today.getTime() - 29 * 86_400_000));
  form.addEventListener('submit', (e) => { e.preventDefault(); show(); });
  show();
}

function table(id, head, rows) {
  const t = document.getElementById(id);
  const tr = el('tr');
  head.forEach((h, i) => tr.append(el('th', i > 0 ? 'n' : '', h)));
  t.replaceChildren(tr);
  for (const row of rows) {
    const r = el('tr');
    row.forEach((cell, i) => r.append(el('td', i > 0 ? 'n' : '', cell)));
    t.append(r);
  }
}

const seconds = (ms) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);

async function show() {
  const q = new URLSearchParams({ from: form.elements.from.value, to: form.elements.to.value });
  try {
    const data = await api(`/api/gallery/usage?${q}`);
    document.getElementById('total').textContent = `${data.days[0] ?? ''} – ${data.days.at(-1) ?? ''} · ${T('usage_total', { total: data.total })}`;
    chart.src = `/api/gallery/usage.png?${q}`;
    link.href = chart.src;
    const name = (s) => (s.kind === 'dm' ? T('kind_dm') : s.kind === 'other' ? '…' : `#${s.channel}`);
    table('channels', [T('channel'), T('usage_images')], data.channels.map((s) => [name(s), s.total]));
    table('templates', [T('template'), T('usage_images')], data.templates.map((x) => [x.template ?? T('free_prompt'), x.images]));
    table('waits', [T('usage_day'), 'p50', 'p95'], data.days.map((d, i) => [d, seconds(data.wait.p50[i]), seconds(data.wait.p95[i])]).filter((r) => r[1] !== '—'));
  } catch (err) {
    failed(err);
  }
}
