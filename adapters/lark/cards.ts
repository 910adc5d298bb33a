/**
 * Lark message bodies: Card JSON 2.0 for the live status card and the result card, and rich-text (`post`)
 * for plain replies. Anything a person typed is shown as data: plain_text elements and post text nodes are
 * never interpreted, and values placed in markdown are escaped (no `<at>` tags, links or emphasis can sneak in).
 */
import { metadataLines, statusHeadline } from '../../src/chat/status-text.js';
import type { ActionKind, StatusView } from '../../src/chat/types.js';
import { t } from '../../src/i18n/index.js';
import type { ImageMetadata } from '../../src/jobs/types.js';

/** What a card button carries back in `card.action.trigger` (Lark wants an object). */
export interface ButtonValue {
  zimage: ActionKind;
  job: string;
  /** Thread reference the new jobs of regenerate/variations go to. */
  thread: string;
}

export type Card = Record<string, unknown>;

const TITLE_MAX = 80;
const PROMPT_MAX = 4000;

/** Escape text for a Lark markdown element: HTML-significant characters and markdown punctuation become entities. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[&<>*_~`[\]()#|\\!+\-{}=]/g, (c) => {
    if (c === '&') return '&amp;';
    if (c === '<') return '&lt;';
    if (c === '>') return '&gt;';
    return `&#${c.charCodeAt(0)};`;
  });
}

function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

const plain = (content: string): Record<string, unknown> => ({ tag: 'div', text: { tag: 'plain_text', content } });

function button(label: string, type: 'default' | 'primary' | 'danger', value: ButtonValue): Record<string, unknown> {
  return { tag: 'button', text: { tag: 'plain_text', content: label }, type, behaviors: [{ type: 'callback', value }] };
}

function buttonRow(buttons: Record<string, unknown>[]): Record<string, unknown> {
  return { tag: 'column_set', columns: buttons.map((b) => ({ tag: 'column', width: 'auto', elements: [b] })) };
}

const COLOURS: Record<StatusView['phase'], string> = {
  queued: 'blue', generating: 'indigo', finishing: 'turquoise', done: 'green', failed: 'red', cancelled: 'grey',
};

/** The status card: the headline as its title, the job id, and Cancel while the job is queued or running. */
export function statusCard(view: StatusView, locale: string, thread: string): Card {
  const headline = statusHeadline(view, locale);
  const elements: Record<string, unknown>[] = [plain(`${t(locale, 'metadata.job')}: ${view.jobId}`)];
  if (view.phase === 'queued' || view.phase === 'generating') {
    elements.push(buttonRow([button(t(locale, 'actions.cancel'), 'danger', { zimage: 'cancel', job: view.jobId, thread })]));
  }
  return {
    schema: '2.0',
    config: { update_multi: true, summary: { content: clip(headline, TITLE_MAX) } },
    header: { title: { tag: 'plain_text', content: headline }, template: COLOURS[view.phase] },
    body: { elements },
  };
}

/** The card under a posted image: the prompt (as plain text), the other metadata, Regenerate and Variations ×4. */
export function resultCard(meta: ImageMetadata, locale: string, thread: string): Card {
  const lines = metadataLines(meta, locale);
  const prompt = lines.find((l) => l.field === 'prompt');
  const rest = lines.filter((l) => l.field !== 'prompt');
  const markdown = rest.map((l) => `**${escapeMarkdown(l.label)}**: ${escapeMarkdown(l.value)}`).join('\n');
  return {
    schema: '2.0',
    config: { update_multi: true, summary: { content: clip(meta.prompt, TITLE_MAX) } },
    header: { title: { tag: 'plain_text', content: clip(meta.prompt, TITLE_MAX) }, template: 'green' },
    body: {
      elements: [
        plain(`${prompt?.label ?? ''}: ${clip(meta.prompt, PROMPT_MAX)}`),
        { tag: 'markdown', content: markdown },
        buttonRow([
          button(t(locale, 'actions.regenerate'), 'primary', { zimage: 'regenerate', job: meta.jobId, thread }),
          button(t(locale, 'actions.variations_button'), 'default', { zimage: 'variations', job: meta.jobId, thread }),
        ]),
      ],
    },
  };
}

/** A plain reply as rich text: one paragraph per line, each a literal text node. */
export function postContent(text: string): Record<string, unknown> {
  return { zh_cn: { content: text.split('\n').map((line) => [{ tag: 'text', text: line }]) } };
}

/** Read a button value back; anything not made by `statusCard`/`resultCard` gives undefined. */
export function parseButtonValue(value: unknown): ButtonValue | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const kind = v.zimage;
  if (kind !== 'cancel' && kind !== 'regenerate' && kind !== 'variations') return undefined;
  if (typeof v.job !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(v.job) || typeof v.thread !== 'string') return undefined;
  return { zimage: kind, job: v.job, thread: v.thread };
}
