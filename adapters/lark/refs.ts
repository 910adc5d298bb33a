/**
 * Lark references as opaque strings for the core. A thread is `lark:<tenant>:<chat_id>:<root message id>`;
 * a status message adds its own id and when it was sent (`…:<message id>:<sent at ms>`), because Lark only
 * lets a card be edited for 14 days after sending and the adapter must know when to post a new one instead.
 */
export const PLATFORM = 'lark';

export interface ThreadRef {
  tenant: string;
  chat: string;
  /** The message that starts the thread (replies go to it with `reply_in_thread`). */
  root: string;
}

export interface MessageRef extends ThreadRef {
  message: string;
  sentAt: number;
}

const ID = /^[A-Za-z0-9_-]+$/;

function check(ref: ThreadRef): void {
  if (!ID.test(ref.tenant) || !ID.test(ref.chat) || !ID.test(ref.root)) {
    throw new Error(`cannot build a Lark reference from ${JSON.stringify(ref)}`);
  }
}

export function encodeThread(ref: ThreadRef): string {
  check(ref);
  return `${PLATFORM}:${ref.tenant}:${ref.chat}:${ref.root}`;
}

export function decodeThread(ref: string): ThreadRef {
  const parts = ref.split(':');
  const [platform, tenant, chat, root] = parts;
  if (parts.length !== 4 || platform !== PLATFORM || !ID.test(tenant!) || !ID.test(chat!) || !ID.test(root!)) {
    throw new Error(`not a Lark thread reference: ${ref}`);
  }
  return { tenant: tenant!, chat: chat!, root: root! };
}

export function encodeMessage(ref: MessageRef): string {
  check(ref);
  if (!ID.test(ref.message) || !Number.isSafeInteger(ref.sentAt) || ref.sentAt < 0) {
    throw new Error(`cannot build a Lark message reference from ${JSON.stringify(ref)}`);
  }
  return `${encodeThread(ref)}:${ref.message}:${ref.sentAt}`;
}

export function decodeMessage(ref: string): MessageRef {
  const parts = ref.split(':');
  if (parts.length !== 6) throw new Error(`not a Lark message reference: ${ref}`);
  const thread = decodeThread(parts.slice(0, 4).join(':'));
  const message = parts[4]!;
  const sentAt = Number(parts[5]);
  if (!ID.test(message) || !/^\d+$/.test(parts[5]!) || !Number.isSafeInteger(sentAt)) throw new Error(`not a Lark message reference: ${ref}`);
  return { ...thread, message, sentAt };
}

/** The thread a message reference belongs to. */
export function threadOf(ref: MessageRef): string {
  return encodeThread(ref);
}
