/**
 * Block Kit renderings: the status message (headline, Cancel while queued or running), the result message
 * under an uploaded image (metadata and Regenerate / Variations ×4 buttons), and the thread parent of a
 * slash command. Every text comes from the shared status wording and the message catalogues.
 */
import { metadataLines, statusHeadline } from '../../src/chat/status-text.js';
import type { ActionKind, StatusView } from '../../src/chat/types.js';
import { t } from '../../src/i18n/index.js';
import type { ImageMetadata } from '../../src/jobs/types.js';
import { clip, escapeMrkdwn, quoteLines, shownText } from './text.js';

/** action_id of each button; the button's value is the job id. */
export const ACTION_IDS: Readonly<Record<ActionKind, string>> = {
  cancel: 'zimage_cancel', regenerate: 'zimage_regenerate', variations: 'zimage_variations',
};
export const ACTION_ID_PATTERN = /^zimage_(cancel|regenerate|variations)$/;

export type Block = Record<string, unknown>;
export interface SlackMessage { text: string; blocks: Block[] }

/** Block Kit limits: section text 3000 characters, a field 2000, a notification text kept short. */
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;
const FALLBACK_MAX = 300;

const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const plain = (text: string) => ({ type: 'plain_text', text: clip(text, 75), emoji: true });

function button(kind: ActionKind, jobId: string, locale: string, style?: 'danger' | 'primary'): Block {
  const labels: Record<ActionKind, string> = { cancel: 'actions.cancel', regenerate: 'actions.regenerate', variations: 'actions.variations_button' };
  return { type: 'button', action_id: ACTION_IDS[kind], text: plain(t(locale, labels[kind])), value: jobId, ...(style ? { style } : {}) };
}

/** The one status message of a job; queued and generating jobs carry a Cancel button. */
export function statusMessage(view: StatusView, locale: string): SlackMessage {
  const headline = escapeMrkdwn(statusHeadline(view, locale));
  const section: Block = { type: 'section', text: mrkdwn(clip(headline, SECTION_MAX)) };
  if (view.phase === 'queued' || view.phase === 'generating') section.accessory = button('cancel', view.jobId, locale, 'danger');
  return { text: clip(headline, FALLBACK_MAX), blocks: [section] };
}

/** The thread message posted after an image upload: its metadata and the buttons for more. */
export function resultMessage(meta: ImageMetadata, locale: string): SlackMessage {
  const lines = metadataLines(meta, locale);
  const prompt = lines.find((l) => l.field === 'prompt');
  const fields = lines.filter((l) => l.field !== 'prompt')
    .map((l) => mrkdwn(clip(`*${escapeMrkdwn(l.label)}*\n${escapeMrkdwn(l.value)}`, FIELD_MAX)));
  const blocks: Block[] = [];
  if (prompt) blocks.push({ type: 'section', text: mrkdwn(clip(`*${escapeMrkdwn(prompt.label)}*\n${quoteLines(shownText(prompt.value))}`, SECTION_MAX)) });
  blocks.push({ type: 'section', fields });
  blocks.push({ type: 'actions', block_id: `result_${meta.jobId}_${meta.index}`, elements: [button('regenerate', meta.jobId, locale, 'primary'), button('variations', meta.jobId, locale)] });
  const text = `${shownText(clip(meta.prompt, FALLBACK_MAX))} — ${t(locale, 'metadata.seed')} ${meta.seed}`;
  return { text, blocks };
}

/** The channel message a slash command starts its thread under: who asked for what. */
export function requestParent(userId: string, request: string, locale: string): SlackMessage {
  const text = t(locale, 'slack.request_parent', { user: `<@${userId}>`, request: quoteLines(shownText(clip(request, SECTION_MAX - 200))) });
  return { text: clip(text, FALLBACK_MAX), blocks: [{ type: 'section', text: mrkdwn(text) }] };
}

/**
 * A plain reply (help, an error in the command, often quoting what the person typed): a plain_text section,
 * so nothing in it is formatted or linked (mrkdwn has no escape for `*`, `_`, `~`, backticks); long help
 * keeps its lines. The notification text is mrkdwn-escaped.
 */
export function replyMessage(text: string): SlackMessage {
  return {
    text: clip(escapeMrkdwn(text), FALLBACK_MAX),
    blocks: [{ type: 'section', text: { type: 'plain_text', text: clip(text, SECTION_MAX), emoji: true } }],
  };
}
