/**
 * Turning Lark events into the core's shapes. A message becomes a BotRequest when it is for the bot: in a
 * group it mentions the bot (or starts with /zimage); in a direct chat anything goes, with an optional
 * /zimage. Text and rich-text (`post`) messages are read; `@_user_N` placeholders are resolved through
 * `mentions[]` — the bot's own mention is dropped, other people become `<@open_id|name>`.
 * Card clicks become BotActions. Pure functions: no I/O.
 */
import type { BotAction, BotRequest } from '../../src/chat/types.js';
import type { ChannelKind } from '../../src/jobs/types.js';
import { parseButtonValue } from './cards.js';
import { decodeThread, encodeThread, PLATFORM } from './refs.js';

export interface LarkUserId { open_id?: string; user_id?: string; union_id?: string }
export interface LarkMention { key?: string; id?: LarkUserId | string; name?: string }

/** `im.message.receive_v1` as the SDK hands it over (header and event flattened into one object). */
export interface MessageEvent {
  event_id?: string;
  uuid?: string;
  tenant_key?: string;
  sender?: { sender_id?: LarkUserId; sender_type?: string; tenant_key?: string };
  message?: {
    message_id?: string; chat_id?: string; chat_type?: string; message_type?: string; content?: string;
    root_id?: string; parent_id?: string; thread_id?: string; mentions?: LarkMention[];
  };
}

/** `card.action.trigger` as the SDK hands it over. */
export interface CardActionEvent {
  event_id?: string;
  tenant_key?: string;
  token?: string;
  operator?: LarkUserId & { tenant_key?: string };
  action?: { tag?: string; value?: unknown };
  context?: { open_message_id?: string; open_chat_id?: string };
}

export type ParsedMessage =
  | { kind: 'request'; request: BotRequest }
  /** Addressed to the bot but not text (an image, a file …): answer with a hint. */
  | { kind: 'unsupported'; thread: string; locale: string }
  | { kind: 'ignore'; reason: string };

const COMMAND = /^\s*\/zimage(?=\s|$)\s*/i;

function openIdOf(m: LarkMention): string | undefined {
  return typeof m.id === 'string' ? m.id : m.id?.open_id;
}

/** The text of a `post` message with `@_user_N` placeholders kept (resolved later like a text message). */
export function postText(content: unknown, mentions: LarkMention[]): string {
  if (typeof content !== 'object' || content === null) return '';
  let body = content as Record<string, unknown>;
  if (!('content' in body) && !('title' in body)) {
    const inner = ['zh_cn', 'en_us', 'ja_jp', ...Object.keys(body)].map((k) => body[k]).find((v) => typeof v === 'object' && v !== null);
    if (!inner) return '';
    body = inner as Record<string, unknown>;
  }
  const paragraphs = Array.isArray(body.content) ? body.content : [];
  const lines: string[] = [];
  if (typeof body.title === 'string' && body.title.trim() !== '') lines.push(body.title);
  for (const paragraph of paragraphs) {
    if (!Array.isArray(paragraph)) continue;
    let line = '';
    for (const node of paragraph as Array<Record<string, unknown>>) {
      const text = typeof node.text === 'string' ? node.text : '';
      if (node.tag === 'text' || node.tag === 'md' || node.tag === 'code_block') line += text;
      else if (node.tag === 'a') line += text || (typeof node.href === 'string' ? node.href : '');
      else if (node.tag === 'at') {
        const id = typeof node.user_id === 'string' ? node.user_id : '';
        if (id === 'all' || id === '@_all') { line += '@_all'; continue; }
        // Newer payloads carry the open_id instead of the placeholder: map it back to the placeholder key.
        const byId = mentions.find((m) => m.key === id || openIdOf(m) === id);
        line += ` ${byId?.key ?? (typeof node.user_name === 'string' ? `@${node.user_name}` : '')} `;
      }
    }
    lines.push(line);
  }
  return lines.join('\n');
}

/** The message text, or undefined for message types that carry no text. */
export function messageText(type: string | undefined, content: string | undefined, mentions: LarkMention[]): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content ?? '');
  } catch {
    return undefined;
  }
  if (type === 'text') {
    const text = (parsed as { text?: unknown } | null)?.text;
    return typeof text === 'string' ? text : undefined;
  }
  if (type === 'post') return postText(parsed, mentions);
  return undefined;
}

/** Replace placeholders: the bot's own mention disappears, people become `<@open_id|name>`, `@_all` is dropped. */
export function resolveMentions(text: string, mentions: LarkMention[], botOpenId: string): { text: string; mentionsBot: boolean } {
  let out = text;
  let mentionsBot = false;
  // Longest keys first, so @_user_10 is not eaten by @_user_1.
  for (const m of [...mentions].sort((a, b) => (b.key?.length ?? 0) - (a.key?.length ?? 0))) {
    if (!m.key) continue;
    const id = openIdOf(m);
    let replacement: string;
    if (id && id === botOpenId) {
      mentionsBot = mentionsBot || out.includes(m.key);
      replacement = ' ';
    } else if (id) {
      replacement = ` <@${id}${m.name ? `|${m.name.replace(/[>|]/g, '')}` : ''}> `;
    } else {
      replacement = ' ';
    }
    out = out.split(m.key).join(replacement);
  }
  out = out.split('@_all').join(' ');
  return { text: out.replace(/[ \t]{2,}/g, ' ').trim(), mentionsBot };
}

export function parseMessageEvent(ev: MessageEvent, botOpenId: string, localeOf: (tenant: string) => string): ParsedMessage {
  const msg = ev.message;
  const tenant = ev.tenant_key ?? ev.sender?.tenant_key;
  if (!msg?.message_id || !msg.chat_id || !tenant) return { kind: 'ignore', reason: 'incomplete event' };
  const sender = ev.sender?.sender_id?.open_id;
  if (ev.sender?.sender_type !== 'user' || !sender || sender === botOpenId) return { kind: 'ignore', reason: 'not from a person' };
  const mentions = msg.mentions ?? [];
  const direct = msg.chat_type === 'p2p';
  const thread = encodeThread({ tenant, chat: msg.chat_id, root: msg.root_id || msg.message_id });
  const locale = localeOf(tenant);
  const raw = messageText(msg.message_type, msg.content, mentions);
  const botMentioned = mentions.some((m) => openIdOf(m) === botOpenId);
  if (raw === undefined) {
    return direct || botMentioned ? { kind: 'unsupported', thread, locale } : { kind: 'ignore', reason: 'not text' };
  }
  const { text: resolved, mentionsBot } = resolveMentions(raw, mentions, botOpenId);
  const command = COMMAND.exec(resolved);
  if (!direct && !mentionsBot && !command) return { kind: 'ignore', reason: 'group message not for the bot' };
  const text = command ? resolved.slice(command[0].length) : resolved;
  return {
    kind: 'request',
    request: {
      platform: PLATFORM, workspace: tenant, channel: msg.chat_id, channelKind: larkChannelKind(msg.chat_type), thread, user: sender, text,
      eventId: ev.event_id ?? ev.uuid ?? `message:${msg.message_id}`, locale,
    },
  };
}

/**
 * What a Lark chat is: `p2p` is a direct chat with the bot; a group (`group`, `topic_group`, …) is private —
 * the message event does not say whether a group is public, so groups count as private (the safe default).
 */
export function larkChannelKind(chatType: string | undefined): ChannelKind {
  return chatType === 'p2p' ? 'dm' : 'private';
}

export type ParsedAction = { kind: 'action'; action: BotAction } | { kind: 'invalid'; locale: string };

export function parseCardAction(ev: CardActionEvent, localeOf: (tenant: string) => string): ParsedAction {
  const tenant = ev.tenant_key ?? ev.operator?.tenant_key ?? '';
  const locale = localeOf(tenant);
  const value = parseButtonValue(ev.action?.value);
  const user = ev.operator?.open_id;
  if (!value || !user) return { kind: 'invalid', locale };
  let thread;
  try {
    thread = decodeThread(value.thread);
  } catch {
    return { kind: 'invalid', locale };
  }
  // The value came from our own card; still, it must belong to the chat and tenant the click came from.
  const chat = ev.context?.open_chat_id;
  if ((tenant && thread.tenant !== tenant) || (chat && thread.chat !== chat)) return { kind: 'invalid', locale };
  const eventId = ev.event_id ?? ev.token ?? `${ev.context?.open_message_id}:${user}:${value.zimage}`;
  return {
    kind: 'action',
    action: {
      kind: value.zimage, jobId: value.job, platform: PLATFORM, workspace: thread.tenant, channel: thread.chat,
      thread: value.thread, user, eventId, locale: localeOf(thread.tenant),
    },
  };
}
