/**
 * A bot-written text whose links must be clickable while nothing else in it is formatted (the gallery's
 * sign-in link, history answers): a rich_text block of literal text elements and link elements. mrkdwn would
 * link the URL but also act on `*`, `_`, `~` and backticks in prompts quoted in the text.
 */
import { splitLinks } from '../../src/chat/text-links.js';
import type { SlackMessage } from './blocks.js';
import { clip, escapeMrkdwn } from './text.js';

const FALLBACK_MAX = 300;
/** A rich_text block holds at most 4000 characters of text. */
const RICH_TEXT_MAX = 3900;

export function linkedTextMessage(text: string): SlackMessage {
  const elements = splitLinks(clip(text, RICH_TEXT_MAX)).map((p) => ('url' in p ? { type: 'link', url: p.url } : { type: 'text', text: p.text }));
  return {
    text: clip(escapeMrkdwn(text), FALLBACK_MAX),
    blocks: [{ type: 'rich_text', elements: [{ type: 'rich_text_section', elements }] }],
  };
}
