// One image in full: the picture, its provenance (every field of its record, and the record itself as JSON),
// and what the viewer may do — download, copy the prompt, show it in chat, generate it again, delete it
// (their own, after a confirmation), place or release a legal hold (the audit permission).
import { api, channelLabel, el, failed, T, toast, when } from './common.js';

const dialog = document.getElementById('detail');
dialog.addEventListener('click', (e) => { if (e.target === dialog) dialog.close(); });

const seconds = (ms) => (ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`);

function button(label, cls, onClick) {
  const b = el('button', `action ${cls}`, label);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

function facts(image) {
  const charge = image.provenance?.charge;
  const rows = [
    ['f_by', image.userName ? `${image.userName} (${image.user})` : image.user],
    ['f_where', channelLabel(image.channelKind, image.channel)],
    ['f_when', when(image.createdAt)],
    ['f_seed', image.seed],
    ['f_size', `${image.width}×${image.height}`],
    ['f_steps', image.steps],
    ['f_model', `${image.model.name}${image.model.version ? ` ${image.model.version}` : ''}`],
    ['f_template', image.template ? `${image.template.id}${image.template.version ? ` @${image.template.version.slice(0, 10)}` : ''}` : T('free_prompt')],
    ['f_wait', seconds(image.timings.queueWaitMs)],
    ['f_generation', seconds(image.timings.generationMs)],
    ['f_step', image.timings.stepMs === null ? '—' : `${image.timings.stepMs} ms`],
    ['f_job', `${image.jobId} #${image.index}`],
    ...(charge ? [['f_charge', charge.limit === null ? `${charge.cost} · ∞` : `${charge.cost} · ${charge.used}/${charge.limit} (${charge.period})`]] : []),
    ['f_file', image.assetKey],
  ];
  const dl = el('dl', 'meta');
  for (const [key, value] of rows) dl.append(el('dt', '', T(key)), el('dd', '', value));
  return dl;
}

function actions(image, o) {
  const row = el('div', 'actions');
  const confirm = el('div', 'confirm');
  confirm.hidden = true;
  if (image.imageUrl) {
    const a = el('a', 'action primary', T('download'));
    a.href = image.imageUrl;
    a.download = image.assetKey.split('/').pop();
    row.append(a);
  }
  row.append(button(T('copy_prompt'), 'copy', async () => {
    try {
      await navigator.clipboard.writeText(image.prompt);
    } catch {
      // Without the clipboard API (plain http from another machine): select the prompt for a manual copy.
      const range = document.createRange();
      range.selectNodeContents(dialog.querySelector('.prompt'));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      document.execCommand?.('copy');
    }
    toast(T('copied'));
  }));
  if (image.chatLink) {
    const a = el('a', 'action', T('show_in_chat'));
    a.href = image.chatLink;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    row.append(a);
  }
  if (image.can.again) {
    row.append(button(T('again'), 'again', async (e) => {
      e.target.disabled = true;
      try {
        const res = await api(`/api/gallery/images/${encodeURIComponent(image.id)}/again`, { method: 'POST', headers: { 'idempotency-key': crypto.randomUUID() } });
        toast(res.message);
      } catch (err) { failed(err); } finally { e.target.disabled = false; }
    }));
  }
  if (image.can.hold && !image.deleted) {
    row.append(button(T(image.legalHold ? 'release' : 'hold'), 'hold', async () => {
      try {
        await api(`/api/gallery/images/${encodeURIComponent(image.id)}/hold`, { method: 'POST', body: { on: !image.legalHold } });
        openDetail(image.id, o);
      } catch (err) { failed(err); }
    }));
  }
  if (image.can.delete) {
    row.append(button(T('delete'), 'danger delete', () => { confirm.hidden = false; }));
    const yes = button(T('delete_yes'), 'danger confirm-delete', async () => {
      yes.disabled = true;
      try {
        await api(`/api/gallery/images/${encodeURIComponent(image.id)}`, { method: 'DELETE' });
        o.onDeleted?.(image.id);
        dialog.close();
        toast(T('deleted'));
      } catch (err) { failed(err); yes.disabled = false; }
    });
    const actionsRow = el('div', 'actions');
    actionsRow.append(yes, button(T('cancel'), '', () => { confirm.hidden = true; }));
    confirm.append(el('p', '', T('delete_confirm')), actionsRow);
  }
  return [row, confirm];
}

export async function openDetail(id, o = {}) {
  let image;
  try {
    ({ image } = await api(`/api/gallery/images/${encodeURIComponent(id)}`));
  } catch (err) {
    failed(err);
    o.onClose?.();
    return;
  }
  const bar = el('div', 'dhead');
  const title = el('h2', '', image.prompt);
  title.id = 'detail-title';
  const close = el('button', 'linkish', T('close'));
  close.type = 'button';
  close.addEventListener('click', () => dialog.close());
  bar.append(title, close);
  const picture = el('div', 'picture');
  if (image.imageUrl) {
    const img = el('img');
    img.src = image.imageUrl;
    img.alt = image.prompt;
    img.width = image.width;
    img.height = image.height;
    picture.append(img);
  } else {
    picture.append(el('div', 'gone', image.deleted ? T('tombstone', { when: when(image.deleted.at), by: image.deleted.by }) : ''));
  }
  const info = el('div', 'info');
  if (image.legalHold) {
    const held = el('p');
    held.append(el('span', 'held', T('held')));
    info.append(held);
  }
  info.append(el('p', 'prompt', image.prompt), ...actions(image, o), el('h3', 'muted', T('provenance')), facts(image));
  const raw = el('details');
  raw.append(el('summary', '', T('raw')), el('pre', '', JSON.stringify(image.provenance, null, 2)));
  info.append(raw);
  const body = el('div', 'body');
  body.append(picture, info);
  dialog.replaceChildren(bar, body);
  dialog.onclose = () => o.onClose?.();
  if (!dialog.open) dialog.showModal();
  close.focus();
}
