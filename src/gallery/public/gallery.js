// The gallery's image grid: previews newest first, the next page loaded as the end comes into view, filters
// and the search box kept in the address (so a link from chat opens the same view), and the detail view
// (detail.js) for `?image=<id>` or a click.
import { api, channelLabel, el, failed, fillFilters, start, T, when } from './common.js';
import { openDetail } from './detail.js';

const form = document.getElementById('filters');
const grid = document.getElementById('grid');
const count = document.getElementById('count');
const state = document.getElementById('state');
const sentinel = document.getElementById('sentinel');
const FIELDS = ['q', 'person', 'channel', 'template', 'model', 'from', 'to', 'deleted'];
const MAX_SEARCH = 200;

const me = await start('images');
document.getElementById('deleted-box').hidden = !me.audit;
// Phones: the filters beyond the search box fold away behind one button.
const toggle = document.getElementById('more-toggle');
toggle.addEventListener('click', () => toggle.setAttribute('aria-expanded', String(form.classList.toggle('open'))));

let next = null;
let loading = false;
let generation = 0;

/** The filter as query parameters (empty ones left out). */
function query() {
  const q = new URLSearchParams();
  for (const name of FIELDS) {
    const input = form.elements[name];
    const value = input.type === 'checkbox' ? (input.checked ? '1' : '') : input.value.trim();
    if (value) q.set(name, name === 'q' ? value.slice(0, MAX_SEARCH) : value);
  }
  return q;
}

function card(image) {
  const b = el('button', image.deleted ? 'card gone' : 'card');
  b.type = 'button';
  b.dataset.id = image.id;
  const img = el('img');
  img.alt = image.prompt;
  img.loading = 'lazy';
  img.width = 256;
  img.height = 256;
  // A preview is made just after its image is posted (and can fail): until then, the image itself.
  if (image.imageUrl) img.addEventListener('error', () => { if (img.src !== new URL(image.imageUrl, location.href).href) img.src = image.imageUrl; });
  if (image.thumbUrl) img.src = image.thumbUrl;
  const cap = el('div', 'cap');
  const p = el('div', 'p');
  if (image.legalHold) p.append(el('span', 'tag', T('held')));
  p.append(image.prompt);
  cap.append(p, el('div', 'm', `${image.userName || image.user} · ${when(image.createdAt)}`), el('div', 'm', channelLabel(image.channelKind, image.channel)));
  b.append(img, cap);
  b.addEventListener('click', () => show(image.id));
  return b;
}

async function loadMore() {
  if (loading || next === undefined) return;
  loading = true;
  const mine = generation;
  try {
    const q = query();
    if (next) q.set('cursor', next);
    const page = await api(`/api/gallery/images?${q}`);
    if (mine !== generation) return;
    if (page.total !== undefined) count.textContent = T(page.total === 1 ? 'count_one' : 'count_other', { n: page.total });
    for (const image of page.images) grid.append(card(image));
    next = page.next ?? undefined;
    state.hidden = grid.children.length > 0;
    state.textContent = T('empty');
  } catch (err) {
    if (mine === generation) failed(err);
  } finally {
    loading = false;
  }
  // A tall window may show the end of the first page already: keep going until it does not.
  if (mine === generation && next !== undefined && sentinel.getBoundingClientRect().top < innerHeight + 600) loadMore();
}

function reload({ push = true } = {}) {
  generation++;
  next = null;
  loading = false;
  grid.replaceChildren();
  count.textContent = T('loading');
  if (push) {
    const q = query();
    const image = new URLSearchParams(location.search).get('image');
    if (image) q.set('image', image);
    history.replaceState(null, '', `/gallery${q.size ? `?${q}` : ''}`);
  }
  loadMore();
}

function show(id) {
  const q = new URLSearchParams(location.search);
  q.set('image', id);
  history.replaceState(null, '', `/gallery?${q}`);
  openDetail(id, {
    onClose: () => {
      const after = new URLSearchParams(location.search);
      after.delete('image');
      history.replaceState(null, '', `/gallery${after.size ? `?${after}` : ''}`);
    },
    onDeleted: (gone) => { grid.querySelector(`.card[data-id="${CSS.escape(gone)}"]`)?.remove(); },
  });
}

// The address's filter first (a link from chat), then the choices the viewer may pick from.
const initial = new URLSearchParams(location.search);
for (const name of FIELDS) {
  const value = initial.get(name);
  if (value === null) continue;
  const input = form.elements[name];
  if (input.type === 'checkbox') input.checked = value === '1';
  else if (input.tagName !== 'SELECT') input.value = name === 'q' ? value.slice(0, MAX_SEARCH) : value;
}
const chosen = Object.fromEntries(['person', 'channel', 'template', 'model'].map((n) => [n, initial.get(n) ?? '']));
await fillFilters(form, chosen).catch(failed);

let typing;
form.elements.q.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(() => reload(), 300); });
form.addEventListener('change', (e) => { if (e.target.name !== 'q') reload(); });
form.addEventListener('submit', (e) => { e.preventDefault(); reload(); });
form.addEventListener('reset', () => setTimeout(() => reload(), 0));
new IntersectionObserver((entries) => { if (entries.some((e) => e.isIntersecting)) loadMore(); }, { rootMargin: '600px' }).observe(sentinel);

reload({ push: false });
if (initial.get('image')) show(initial.get('image'));
