/**
 * A fake Slack for integration tests, on nock: the Web API at https://slack.test/api/* (what SLACK_API_URL
 * points at), the upload host files.uploadV2 sends the bytes to, and response_url hooks. Every call is
 * recorded in order; faults (HTTP status, Slack error, Retry-After) can be queued per method.
 */
import nock from 'nock';
import { HOOKS_HOST, SIGNING_SECRET, TEAM } from './slack-requests.js';

export { form, HOOKS_HOST, signedHeaders, SIGNING_SECRET, slashCommand, TEAM } from './slack-requests.js';

export const SLACK_API_URL = 'https://slack.test/api/';
export const BOT_USER = 'UBOT';
const API_HOST = 'https://slack.test';
const FILES_HOST = 'https://files.slack.test';

/** A recorded request body (url-encoded fields; `blocks`, `files`, `view` are JSON strings). Absent text fields read as ''. */
export interface SlackBody {
  text: string;
  blocks: string;
  channel: string;
  ts: string;
  thread_ts?: string;
  [field: string]: string | undefined;
}

export interface SlackCall {
  method: string;
  body: SlackBody;
  at: number;
  /** Filled in for calls that answered ok (e.g. the ts of a posted message). */
  reply?: Record<string, unknown>;
  status: number;
}

/** An HTTP status (with headers, e.g. Retry-After), a Slack `ok:false` error, or no answer at all (connection reset). */
export interface Fault { status?: number; error?: string; headers?: Record<string, string>; network?: boolean }

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  /** Requests to the upload URL; `bytes` is the whole multipart body. */
  readonly uploads: Array<{ path: string; bytes: number; at: number; status: number }> = [];
  /** Upload URL path → the file's own bytes (the multipart file field). */
  readonly uploadedFiles = new Map<string, Buffer>();
  readonly hooks: Array<{ path: string; body: Record<string, unknown>; at: number }> = [];
  readonly unmatched: string[] = [];
  private readonly faults = new Map<string, Fault[]>();
  private uploadFaults: Array<{ status: number; headers?: Record<string, string> }> = [];
  /** What apps.connections.open returns (a FakeSocketMode URL for Socket Mode tests). */
  socketUrl = 'ws://127.0.0.1:9/unused';
  /** What usergroups.list returns. */
  usergroups: Array<{ id: string; handle: string; users: string[] }> = [];
  private seq = 0;
  private held: { method: string; match: (body: SlackBody) => boolean; gate: Promise<void>; inFlight: number; maxInFlight: number } | undefined;
  private readonly onNoMatch = (req: { url?: string; method?: string }): void => {
    const url = String(req.url ?? '');
    if (url.includes('slack.test')) this.unmatched.push(`${req.method} ${url}`);
  };

  constructor() {
    // nock 15 hands reply functions the fetch Request.
    nock(API_HOST).persist().post(/^\/api\/[A-Za-z.]+$/).reply(async (req: Request) => {
      const path = new URL(req.url).pathname;
      const raw = await req.text();
      const h = this.held;
      if (h && path === `/api/${h.method}` && h.match({ text: '', blocks: '', channel: '', ts: '', ...Object.fromEntries(new URLSearchParams(raw)) })) {
        h.maxInFlight = Math.max(h.maxInFlight, ++h.inFlight);
        await h.gate;
        h.inFlight--;
      }
      return this.api(path, raw);
    });
    nock(FILES_HOST).persist().post(/^\/upload\//).reply(async (req: Request) => {
      const bytes = (await req.clone().arrayBuffer()).byteLength;
      const file = [...(await req.formData()).values()].find((v): v is File => typeof v !== 'string');
      this.uploadedFiles.set(new URL(req.url).pathname, Buffer.from(file ? await file.arrayBuffer() : new ArrayBuffer(0)));
      const fault = this.uploadFaults.shift();
      const status = fault?.status ?? 200;
      this.uploads.push({ path: new URL(req.url).pathname, bytes, at: Date.now(), status });
      return [status, status === 200 ? 'OK' : 'upstream error', fault?.headers ?? {}];
    });
    nock(HOOKS_HOST).persist().post(/.*/).reply(async (req: Request) => {
      this.hooks.push({ path: new URL(req.url).pathname, body: JSON.parse(await req.text()) as Record<string, unknown>, at: Date.now() });
      return [200, 'ok'];
    });
    nock.emitter.on('no match', this.onNoMatch);
  }

  close(): void {
    nock.emitter.off('no match', this.onNoMatch);
    nock.cleanAll();
  }

  /** The next call(s) of `method` fail: an HTTP status (429 with Retry-After) or a Slack `ok:false` error. */
  fail(method: string, fault: Fault, times = 1): void {
    const list = this.faults.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(fault);
    this.faults.set(method, list);
  }

  /**
   * Calls of `method` whose body matches wait until `release` is called; `inFlight` / `maxInFlight` tell how
   * many waited at once (now and at most).
   */
  hold(method: string, match: (body: SlackBody) => boolean = () => true): { release: () => void; inFlight: () => number; maxInFlight: () => number } {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const h = { method, match, gate, inFlight: 0, maxInFlight: 0 };
    this.held = h;
    return { release: () => { if (this.held === h) this.held = undefined; release(); }, inFlight: () => h.inFlight, maxInFlight: () => h.maxInFlight };
  }

  /** The next upload of file bytes (the upload URL, step 2 of files.uploadV2) answers this status. */
  failUpload(status: number, headers?: Record<string, string>): void { this.uploadFaults.push({ status, ...(headers ? { headers } : {}) }); }

  /** Requests made to a Web API method, or to the upload URL (`upload`), failed ones included. */
  requests(endpoint: string): ReadonlyArray<{ at: number; status: number }> {
    return endpoint === 'upload' ? this.uploads : this.calls.filter((c) => c.method === endpoint);
  }

  of(method: string): SlackCall[] { return this.calls.filter((c) => c.method === method && c.status === 200 && c.reply?.ok === true); }

  /** Messages posted into a thread (thread_ts) or to the channel (no thread_ts). */
  posts(threadTs?: string): SlackCall[] {
    return this.of('chat.postMessage').filter((c) => (threadTs === undefined ? !c.body.thread_ts : c.body.thread_ts === threadTs));
  }

  async waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const v = check();
      if (v) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}; calls: ${this.calls.map((c) => `${c.method}:${c.status}`).join(', ')}`);
  }

  private api(path: string, raw: string): [number, unknown, Record<string, string>?] {
    const method = path.replace(/^\/api\//, '');
    const fields = Object.fromEntries(new URLSearchParams(raw));
    const body: SlackBody = { text: '', blocks: '', channel: '', ts: '', ...fields };
    const call: SlackCall = { method, body, at: Date.now(), status: 200 };
    this.calls.push(call);
    const fault = this.faults.get(method)?.shift();
    if (fault?.network) {
      call.status = 0;
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    if (fault?.status) {
      call.status = fault.status;
      return [fault.status, fault.status === 429 ? { ok: false, error: 'ratelimited' } : 'error', fault.headers ?? {}];
    }
    if (fault?.error) {
      call.reply = { ok: false, error: fault.error };
      return [200, call.reply];
    }
    call.reply = this.answer(method, body);
    return [200, call.reply];
  }

  private answer(method: string, body: SlackBody): Record<string, unknown> {
    const ts = `1700000000.${String(++this.seq).padStart(6, '0')}`;
    switch (method) {
      case 'auth.test': return { ok: true, user_id: BOT_USER, bot_id: 'B0BOT', team_id: TEAM, team: 'Test', user: 'zimage' };
      // A user id as the channel posts into the app's DM with that person, which Slack names by its own id.
      case 'chat.postMessage': return { ok: true, channel: body.channel.startsWith('U') ? `D${body.channel.slice(1)}` : body.channel, ts, message: { ts, text: body.text } };
      case 'chat.update': return { ok: true, channel: body.channel, ts: body.ts };
      case 'chat.postEphemeral': return { ok: true, message_ts: ts };
      case 'files.getUploadURLExternal': return { ok: true, upload_url: `${FILES_HOST}/upload/v1/F${this.seq}`, file_id: `F${this.seq}` };
      case 'files.completeUploadExternal': return { ok: true, files: JSON.parse(body.files ?? '[]').map((f: { id: string; title?: string }) => ({ id: f.id, title: f.title })) };
      case 'views.open': return { ok: true, view: { id: `V${this.seq}` } };
      case 'apps.connections.open': return { ok: true, url: this.socketUrl };
      case 'usergroups.list': return { ok: true, usergroups: this.usergroups };
      default: return { ok: true };
    }
  }
}

/** An app_mention event envelope. */
export function mentionEvent(text: string, opts: { eventId?: string; user?: string; channel?: string; ts?: string; threadTs?: string } = {}): Record<string, unknown> {
  const ts = opts.ts ?? `1700000100.${Math.floor(Math.random() * 1e6).toString().padStart(6, '0')}`;
  return {
    token: 'legacy', team_id: TEAM, api_app_id: 'A0APP', type: 'event_callback', event_id: opts.eventId ?? `Ev${Math.random().toString(36).slice(2)}`,
    event_time: Math.floor(Date.now() / 1000), authorizations: [{ team_id: TEAM, user_id: BOT_USER, is_bot: true }],
    event: {
      type: 'app_mention', user: opts.user ?? 'U0BEN', text: `<@${BOT_USER}> ${text}`, ts, channel: opts.channel ?? 'C0CHAN', event_ts: ts,
      ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}),
    },
  };
}

/** A block_actions payload for one of the bot's buttons on a thread message. */
export function buttonClick(kind: 'cancel' | 'regenerate' | 'variations', jobId: string, opts: { user?: string; channel?: string; threadTs: string; messageTs: string }): Record<string, unknown> {
  const trigger = `trg${Math.random().toString(36).slice(2)}`;
  return {
    type: 'block_actions', team: { id: TEAM, domain: 'test' }, user: { id: opts.user ?? 'U0ANN', username: 'ann', team_id: TEAM },
    api_app_id: 'A0APP', token: 'legacy', trigger_id: trigger, response_url: `${HOOKS_HOST}/actions/${TEAM}/1/${trigger}`,
    container: { type: 'message', message_ts: opts.messageTs, channel_id: opts.channel ?? 'C0CHAN', is_ephemeral: false, thread_ts: opts.threadTs },
    channel: { id: opts.channel ?? 'C0CHAN', name: 'general' },
    message: { type: 'message', user: BOT_USER, ts: opts.messageTs, thread_ts: opts.threadTs, text: '' },
    actions: [{ type: 'button', action_id: `zimage_${kind}`, block_id: 'b', value: jobId, action_ts: String(Date.now() / 1000) }],
  };
}

export function slackEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_MODE: 'http', SLACK_API_URL, PLAYGROUND: 'false', ...overrides,
  };
}
