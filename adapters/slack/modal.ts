/**
 * `/zimage` with no text opens this modal: prompt, size, steps, seed and count — the chat equivalent of
 * the Playground's controls. Its submission is turned into ordinary command text, so the core parses
 * and validates it exactly like a typed command.
 */
import type { types } from '@slack/bolt';
import { t } from '../../src/i18n/index.js';
import { CHANNEL_KINDS, type ChannelKind } from '../../src/jobs/types.js';
import type { Block } from './blocks.js';

export const MODAL_CALLBACK_ID = 'zimage_generate';

export interface ModalDefaults {
  width: number;
  height: number;
  steps: number;
  maxSteps: number;
  maxCount: number;
}

/** Where the request came from: carried through the modal in `private_metadata`. */
export interface ModalOrigin {
  team: string;
  channel: string;
  /** The slash command's response_url: how to reach the person if the channel refuses the bot. */
  responseUrl?: string;
  locale: string;
  /** What the slash command said the channel is (adapters/slack/channel-kind.ts). */
  channelKind?: ChannelKind | undefined;
}

const SIZES = ['1024x1024', '768x768', '512x512', '768x1024', '1024x768', '576x1024', '1024x576'];

const plain = (text: string) => ({ type: 'plain_text', text, emoji: true });
const option = (value: string, label = value) => ({ text: plain(label), value });

export function modalView(origin: ModalOrigin, d: ModalDefaults): types.ModalView {
  const l = origin.locale;
  const defaultSize = `${d.width}x${d.height}`;
  const sizes = SIZES.includes(defaultSize) ? SIZES : [defaultSize, ...SIZES];
  const counts = Array.from({ length: d.maxCount }, (_, i) => String(i + 1));
  const blocks: Block[] = [
    { type: 'input', block_id: 'prompt', label: plain(t(l, 'metadata.prompt')),
      element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 3000, placeholder: plain(t(l, 'slack.modal_prompt_hint')) } },
    { type: 'input', block_id: 'size', label: plain(t(l, 'metadata.size')),
      element: { type: 'static_select', action_id: 'value', options: sizes.map((s) => option(s, s.replace('x', '×'))), initial_option: option(defaultSize, defaultSize.replace('x', '×')) } },
    { type: 'input', block_id: 'steps', label: plain(t(l, 'metadata.steps')),
      element: { type: 'number_input', action_id: 'value', is_decimal_allowed: false, min_value: '1', max_value: String(d.maxSteps), initial_value: String(d.steps) } },
    { type: 'input', block_id: 'seed', optional: true, label: plain(t(l, 'metadata.seed')), hint: plain(t(l, 'slack.modal_seed_hint')),
      element: { type: 'number_input', action_id: 'value', is_decimal_allowed: false, min_value: '0' } },
    { type: 'input', block_id: 'count', label: plain(t(l, 'slack.modal_count')),
      element: { type: 'static_select', action_id: 'value', options: counts.map((c) => option(c)), initial_option: option('1') } },
  ];
  const view = {
    type: 'modal', callback_id: MODAL_CALLBACK_ID, private_metadata: JSON.stringify(origin),
    title: plain(t(l, 'slack.modal_title')), submit: plain(t(l, 'slack.modal_submit')), close: plain(t(l, 'slack.modal_close')), blocks,
  };
  // The blocks above follow Block Kit's input/select/number_input shapes; the SDK's union types are stricter than JSON.
  return view as unknown as types.ModalView;
}

type StateValues = Record<string, Record<string, { value?: string | null; selected_option?: { value: string } | null }>>;

/** The submitted values as command text: `--size 768x1024 --steps 8 --seed 7 --count 2 -- <prompt>`. */
export function submissionText(values: StateValues): string {
  const v = (block: string): string => {
    const el = values[block]?.value;
    return (el?.selected_option?.value ?? el?.value ?? '').trim();
  };
  const flags: string[] = [];
  for (const name of ['size', 'steps', 'seed', 'count']) {
    const value = v(name);
    if (value !== '') flags.push(`--${name} ${value}`);
  }
  // Everything after a lone `--` is prompt text, so a prompt that contains "--seed" stays a prompt.
  return `${flags.join(' ')} -- ${v('prompt')}`.trim();
}

export function parseModalOrigin(privateMetadata: string): ModalOrigin | undefined {
  try {
    const o = JSON.parse(privateMetadata) as Partial<ModalOrigin>;
    if (typeof o.team === 'string' && typeof o.channel === 'string' && typeof o.locale === 'string') {
      return {
        team: o.team, channel: o.channel, locale: o.locale, ...(typeof o.responseUrl === 'string' ? { responseUrl: o.responseUrl } : {}),
        ...(CHANNEL_KINDS.includes(o.channelKind as ChannelKind) ? { channelKind: o.channelKind } : {}),
      };
    }
  } catch { /* not ours */ }
  return undefined;
}
