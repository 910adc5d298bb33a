/**
 * What every adapter contract driver shares: the normalised view of what a platform received, a recorder of
 * what the adapter handed to the core, and a small wait helper. The per-platform drivers extend the recorder.
 */
import type { PlatformErrorCode } from '../../src/chat/platform-errors.js';
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

/** The port calls that reach a platform. */
export type PortCall = 'reply' | 'postStatus' | 'updateStatus' | 'postImage' | 'startThread' | 'userGroups';

/** A platform answer an adapter must report as one platform-neutral code. */
export interface FaultSpec {
  /** The platform endpoint the failing request goes to (the driver counts requests per endpoint). */
  endpoint: string;
  /** What the error message must quote of the platform's answer. */
  says: string;
  /** The wait RATE_LIMITED must carry. */
  retryAfterMs?: number;
  inject(): void;
}

/** Per port call, the platform answer that stands for each code the call can fail with. */
export type FaultTable<Fake> = { [C in PortCall]: Partial<Record<PlatformErrorCode, (fake: Fake) => FaultSpec>> };

/** Every (call, code) a table covers, for it.each. */
export function faultCases<Fake>(table: FaultTable<Fake>): Array<{ call: PortCall; code: PlatformErrorCode }> {
  return (Object.entries(table) as Array<[PortCall, Partial<Record<PlatformErrorCode, unknown>>]>)
    .flatMap(([call, codes]) => (Object.keys(codes) as PlatformErrorCode[]).map((code) => ({ call, code })));
}
