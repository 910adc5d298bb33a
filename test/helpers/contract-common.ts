/**
 * What every adapter contract driver shares: the normalised view of what a platform received, a recorder of
 * what the adapter handed to the core, and a small wait helper. The per-platform drivers extend the recorder.
 */
import type { ActionKind, ActionResult, BotAction, BotRequest, InboundHandlers } from '../../src/chat/types.js';

export interface ShownButton { kind: ActionKind; jobId: string; raw: unknown }
export interface ShownMessage {
  /** Platform key of the thread the message is in (null: top level); a top-level message's messageId is its thread key. */
  thread: string | null;
  messageId: string;
  /** What a reader sees. */
  text: string;
  /** Markup the platform would interpret (formatting, mentions, links); empty when everything is literal. */
  markup: string[];
  buttons: ShownButton[];
  /** How many times the message was edited. */
  edits: number;
}
export interface ShownImage { thread: string; bytes?: Buffer; assetKey?: string }
/** A message only one person can read (ChatAdapter.replyPrivately): to whom, where (null: a direct chat), what they read, its links. */
export interface ShownPrivate { to: string; thread: string | null; text: string; links: string[]; markup: string[] }
/** A file posted into a thread (ChatAdapter.postFile), with the bytes the platform received. */
export interface ShownFile { thread: string; bytes: Buffer; title?: string }

/** Records what an adapter hands to the core; clicks are answered with `answer`. */
export class InboundRecorder {
  readonly requests: BotRequest[] = [];
  readonly actions: BotAction[] = [];
  /** What the core answers a click with. */
  answer: ActionResult = { ok: true, message: 'Cancelled' };
  readonly inbound: InboundHandlers = {
    onRequest: async (r) => { this.requests.push(r); },
    onAction: async (a) => { this.actions.push(a); return this.answer; },
  };
}

export async function until<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
