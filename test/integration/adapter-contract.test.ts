/**
 * One contract for every chat adapter: the same cases run against Slack (HTTP mode, fake Web API), Lark
 * (webhook mode, fake open platform) and the Playground. Each driver (test/helpers/contract-*.ts) builds
 * the real adapter on its fake platform, sends inbound traffic through the platform's real path, and shows
 * what the platform received in one normalised form: messages (thread, text as a reader sees it, live
 * markup, buttons, edits) and images. The fault cases need a platform that can throttle or refuse, so
 * they run for Slack and Lark; the Playground has none (it writes to Redis). Each platform answer there
 * must come back at once, as one of the platform-neutral codes, after exactly one request: adapters never
 * retry (the core does: tracker, deliver queue, reply retry — see the bot-level platform-retries suite).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { statusHeadline } from '../../src/chat/status-text.js';
import type { PlatformErrorCode } from '../../src/chat/platform-errors.js';
import { ReplyRetry } from '../../src/chat/reply-retry.js';
import { withReplyRetry } from '../../src/chat/retrying-adapter.js';
import type { BotRequest, ChatAdapter, DeliveredImage, StatusView } from '../../src/chat/types.js';
import { isZimageError, ZimageError, type ErrorCode } from '../../src/errors.js';
import { createLogger } from '../../src/infra/logger.js';
import { LARK_FAULTS, LarkContractDriver } from '../helpers/contract-lark.js';
import { PlaygroundContractDriver } from '../helpers/contract-playground.js';
import { faultCases, until, type FaultSpec, type PortCall, type ShownFile, type ShownMessage, type ShownPrivate } from '../helpers/contract-common.js';
import { SLACK_FAULTS, SlackContractDriver } from '../helpers/contract-slack.js';

const L = 'en';

interface Refusal { code: ErrorCode; says: string; inject(): void }

/** What a driver offers: the adapter on its fake platform, inbound as the platform sends it, and what the platform got. */
interface ContractDriver {
  readonly name: string;
  readonly user: string;
  readonly workspace: string;
  readonly channel: string;
  /** Whether the PNG's bytes go to the platform (else the message links the asset store's copy). */
  readonly uploadsBytes: boolean;
  readonly adapter: ChatAdapter;
  readonly requests: Array<{ thread: string; user: string; workspace: string; platform: string }>;
  readonly actions: Array<{ kind: string; jobId: string; user: string; thread: string; platform: string; workspace: string; channel: string; eventId: string }>;
  answer: { ok: boolean; message: string };
  setup(): Promise<void>;
  teardown(): Promise<void>;
  newThread(): Promise<{ ref: string; key: string; request: BotRequest }>;
  messages(): Promise<ShownMessage[]>;
  privateMessages(): Promise<ShownPrivate[]>;
  files(): Promise<ShownFile[]>;
  images(): Promise<Array<{ thread: string; bytes?: Buffer; assetKey?: string }>>;
  click(message: ShownMessage, button: ShownMessage['buttons'][number]): Promise<string | undefined>;
}

interface FaultyDriver extends ContractDriver {
  failNextEditRateLimited(retryAfterS: number): void;
  readonly refusals: { notMember: Refusal; invalid: Refusal; editGone: Refusal };
  fault(call: PortCall, code: PlatformErrorCode): FaultSpec;
  platformRequests(endpoint: string): number;
}

const drivers: Array<{ name: string; make: () => ContractDriver }> = [
  { name: 'Slack', make: () => new SlackContractDriver() },
  { name: 'Lark', make: () => new LarkContractDriver() },
  { name: 'Playground', make: () => new PlaygroundContractDriver() },
];
const faultyDrivers: Array<{ name: string; make: () => FaultyDriver; cases: Array<{ call: PortCall; code: PlatformErrorCode }> }> = [
  { name: 'Slack', make: () => new SlackContractDriver(), cases: faultCases(SLACK_FAULTS) },
  { name: 'Lark', make: () => new LarkContractDriver(), cases: faultCases(LARK_FAULTS) },
];

const jobId = (): string => `j${randomBytes(5).toString('hex')}`;
const queued = (job: string): StatusView => ({ phase: 'queued', jobId: job, position: 2, total: 3, etaMs: 12_000 });
const generating = (job: string): StatusView => ({ phase: 'generating', jobId: job, image: 1, count: 1, step: 3, steps: 8 });
const done = (job: string): StatusView => ({ phase: 'done', jobId: job, images: 1, totalMs: 4200 });

function image(job: string): DeliveredImage {
  // A PNG signature and IHDR start, then random bytes: the platform must receive exactly these.
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), randomBytes(64)]);
  return {
    read: async () => png, filename: `${job}-0.png`, assetKey: `2026/01/02/${job}-0.png`,
    metadata: {
      jobId: job, index: 0, prompt: 'a teapot', seed: 5, width: 256, height: 256, steps: 2, model: { id: 'demo', name: 'demo model', demo: true },
      platform: 'test', workspace: 'W', channel: 'C', user: 'U', createdAt: new Date().toISOString(), queueWaitMs: 1, generationMs: 2,
    },
  };
}

const kinds = (m: ShownMessage): string[] => m.buttons.map((b) => `${b.kind}:${b.jobId}`).sort();

async function rejection(p: Promise<unknown>): Promise<{ err: ZimageError | unknown; ms: number }> {
  const started = Date.now();
  const err = await p.then(() => undefined, (e: unknown) => e);
  return { err, ms: Date.now() - started };
}

describe.each(drivers)('ChatAdapter contract: $name', ({ make }) => {
  let d: ContractDriver;
  beforeEach(async () => { d = make(); await d.setup(); });
  afterEach(async () => { await d.teardown(); });

  it('postStatus(queued) lands in the request\'s thread with the headline and a Cancel button, and returns a reference', async () => {
    const { ref, key } = await d.newThread();
    expect(d.requests[0]).toMatchObject({ platform: d.adapter.platform, workspace: d.workspace, user: d.user, thread: ref });
    const job = jobId();
    const message = await d.adapter.postStatus(ref, queued(job), L);
    expect(typeof message).toBe('string');
    expect(message).not.toBe('');
    const posted = await d.messages();
    expect(posted).toHaveLength(1);
    expect(posted[0]!.thread).toBe(key);
    expect(posted[0]!.text).toContain(statusHeadline(queued(job), L));
    expect(kinds(posted[0]!)).toEqual([`cancel:${job}`]);
  });

  it('updateStatus edits that same message (no new one); done removes Cancel', async () => {
    const { ref } = await d.newThread();
    const job = jobId();
    const message = await d.adapter.postStatus(ref, queued(job), L);
    const [before] = await d.messages();

    await d.adapter.updateStatus(message, generating(job), L);
    let now = await d.messages();
    expect(now).toHaveLength(1);
    expect(now[0]!.messageId).toBe(before!.messageId);
    expect(now[0]!.edits).toBeGreaterThan(0);
    expect(now[0]!.text).toContain(statusHeadline(generating(job), L));
    expect(kinds(now[0]!)).toEqual([`cancel:${job}`]);

    await d.adapter.updateStatus(message, done(job), L);
    now = await d.messages();
    expect(now).toHaveLength(1);
    expect(now[0]!.messageId).toBe(before!.messageId);
    expect(now[0]!.text).toContain(statusHeadline(done(job), L));
    expect(now[0]!.text).not.toContain(statusHeadline(generating(job), L));
    expect(now[0]!.buttons).toEqual([]);
  });

  it('postImage puts the PNG into the thread and offers Regenerate and Variations for the job', async () => {
    const { ref, key } = await d.newThread();
    const job = jobId();
    const img = image(job);
    await d.adapter.postImage(ref, img, L);
    const images = await d.images();
    expect(images).toHaveLength(1);
    expect(images[0]!.thread).toBe(key);
    if (d.uploadsBytes) expect(images[0]!.bytes?.equals(await img.read())).toBe(true);
    else expect(images[0]!.assetKey).toBe(img.assetKey);
    const withButtons = (await d.messages()).filter((m) => m.buttons.length > 0);
    expect(withButtons).toHaveLength(1);
    expect(withButtons[0]!.thread).toBe(key);
    expect(kinds(withButtons[0]!)).toEqual([`regenerate:${job}`, `variations:${job}`]);
  });

  it('reply puts the text into the thread as it is: markup in it is shown, not interpreted', async () => {
    const { ref, key } = await d.newThread();
    const text = 'Unknown option “<@U1> *x* _y_ ~z~ `c` <at user_id="all"></at> <!channel> [a](https://e.test) & <b>”\nsecond line';
    const message = await d.adapter.reply(ref, text);
    expect(typeof message).toBe('string');
    const posted = await d.messages();
    expect(posted).toHaveLength(1);
    expect(posted[0]!).toMatchObject({ thread: key, text, markup: [], buttons: [] });
  });

  it('a click on each button reaches onAction with kind, job, user and thread; the clicker is told the answer', async () => {
    const { ref } = await d.newThread();
    const job = jobId();
    await d.adapter.postStatus(ref, queued(job), L);
    await d.adapter.postImage(ref, image(job), L);
    const buttons = (await d.messages()).flatMap((m) => m.buttons.map((b) => ({ m, b })));
    expect(buttons.map(({ b }) => b.kind).sort()).toEqual(['cancel', 'regenerate', 'variations']);
    for (const [i, { m, b }] of buttons.entries()) {
      d.answer = { ok: true, message: `Done ${b.kind}` };
      const told = await d.click(m, b);
      const action = await until(`the ${b.kind} action`, () => d.actions[i]);
      expect(action).toMatchObject({
        kind: b.kind, jobId: job, user: d.user, thread: ref, platform: d.adapter.platform, workspace: d.workspace, channel: d.channel,
      });
      expect(action.eventId).not.toBe('');
      expect(told).toBe(`Done ${b.kind}`);
    }
    expect(new Set(d.actions.map((a) => a.eventId)).size).toBe(3);
  });

  it('replyPrivately reaches only the person who asked: links clickable, the rest shown as it is', async () => {
    const { key, request } = await d.newThread();
    expect(d.adapter.replyPrivately).toBeTypeOf('function');
    const url = 'https://bot.example.test/gallery/signin?code=Zq3-xY_09abc';
    const text = `Your sign-in link (works once, within 10 minutes): ${url}.\nKeep it to yourself — *not bold* <@U1> \`x\``;
    const where = await d.adapter.replyPrivately!(request, text);
    const privates = await d.privateMessages();
    expect(privates).toHaveLength(1);
    const [mine] = privates;
    expect(mine).toMatchObject({ to: d.user, text, links: [url], markup: [] });
    // In the conversation itself, or in a direct chat with the bot (Lark, from a group): the caller is told which.
    if (where === 'here') expect(mine!.thread).toBe(key);
    else expect([where, mine!.thread]).toEqual(['direct', null]);
    // Nobody else sees anything: no message in the conversation.
    expect((await d.messages()).filter((m) => m.text.includes('sign-in'))).toEqual([]);
  });

  it('postFile puts the image file into the thread with its bytes, and nothing else', async () => {
    const { ref, key } = await d.newThread();
    expect(d.adapter.postFile).toBeTypeOf('function');
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(200)]);
    await d.adapter.postFile!(ref, { bytes: png, filename: 'usage-2026-11-24.png', title: 'Usage this week' }, L);
    const files = await d.files();
    expect(files).toHaveLength(1);
    expect(files[0]!.thread).toBe(key);
    expect(files[0]!.bytes.equals(png)).toBe(true);
    if (files[0]!.title !== undefined) expect(files[0]!.title).toBe('Usage this week');
    expect((await d.messages()).filter((m) => m.buttons.length > 0)).toEqual([]);
  });

  it('the core\'s view of the adapter (behind the reply retry) is the adapter: same fields, calls and optional methods', async () => {
    const core = withReplyRetry(d.adapter, new ReplyRetry({ log: createLogger('silent') }));
    expect(core.platform).toBe(d.adapter.platform);
    expect(core.pacing).toEqual(d.adapter.pacing);
    expect(typeof core.startThread).toBe(typeof d.adapter.startThread);
    expect(typeof core.userGroups).toBe(typeof d.adapter.userGroups);
    const { ref } = await d.newThread();
    const job = jobId();
    const message = await core.postStatus(ref, queued(job), L);
    await core.updateStatus(message, done(job), L);
    await core.reply(ref, 'through the view');
    // Replacing a method on the view (as a spy does) takes effect, and calling the old one does not loop back.
    const spied: string[] = [];
    const before = core.reply;
    core.reply = async (thread, text) => { spied.push(text); return before(thread, text); };
    await core.reply(ref, 'spied on');
    expect(spied).toEqual(['spied on']);
    const texts = (await d.messages()).map((m) => m.text);
    expect(texts).toEqual([expect.stringContaining(statusHeadline(done(job), L)), 'through the view', 'spied on']);
  });

  it('startThread returns a thread reference that postStatus accepts', async () => {
    expect(d.adapter.startThread).toBeTypeOf('function');
    const ref = await d.adapter.startThread!(d.workspace, d.channel, 'Daily poster');
    const [top] = await d.messages();
    expect(top).toMatchObject({ thread: null, text: 'Daily poster' });
    const job = jobId();
    await d.adapter.postStatus(ref, queued(job), L);
    const status = (await d.messages()).find((m) => m.buttons.length > 0);
    expect(status?.thread).toBe(top!.messageId);
    expect(kinds(status!)).toEqual([`cancel:${job}`]);
  });
});

describe.each(faultyDrivers)('ChatAdapter contract, platform faults: $name', ({ make }) => {
  let d: FaultyDriver;
  beforeEach(async () => { d = make(); await d.setup(); });
  afterEach(async () => { await d.teardown(); });

  it('a 429 on an edit surfaces at once as RATE_LIMITED with the platform\'s wait', async () => {
    const { ref } = await d.newThread();
    const job = jobId();
    const message = await d.adapter.postStatus(ref, queued(job), L);
    d.failNextEditRateLimited(7);
    const { err, ms } = await rejection(d.adapter.updateStatus(message, generating(job), L));
    expect(isZimageError(err, 'RATE_LIMITED')).toBe(true);
    expect((err as ZimageError).retryAfterMs).toBe(7000);
    expect(ms).toBeLessThan(1500);
    const [status] = await d.messages();
    expect(status!.text).toContain(statusHeadline(queued(job), L));
  });

  it('the bot not being in the conversation: postStatus fails at once with a stable code, and nothing is posted', async () => {
    const { ref } = await d.newThread();
    d.refusals.notMember.inject();
    const { err, ms } = await rejection(d.adapter.postStatus(ref, queued(jobId()), L));
    expect(isZimageError(err, d.refusals.notMember.code)).toBe(true);
    expect((err as Error).message).toContain(d.refusals.notMember.says);
    expect(ms).toBeLessThan(1500);
    expect(await d.messages()).toEqual([]);
  });

  it('a request the platform refuses as invalid: reply fails at once with a stable code', async () => {
    const { ref } = await d.newThread();
    d.refusals.invalid.inject();
    const { err, ms } = await rejection(d.adapter.reply(ref, 'hello'));
    expect(isZimageError(err, d.refusals.invalid.code)).toBe(true);
    expect((err as Error).message).toContain(d.refusals.invalid.says);
    expect(ms).toBeLessThan(1500);
    expect(await d.messages()).toEqual([]);
  });

  it('an edit of a message the platform no longer has fails at once with a stable code', async () => {
    const { ref } = await d.newThread();
    const job = jobId();
    const message = await d.adapter.postStatus(ref, queued(job), L);
    d.refusals.editGone.inject();
    const { err, ms } = await rejection(d.adapter.updateStatus(message, generating(job), L));
    expect(isZimageError(err, d.refusals.editGone.code)).toBe(true);
    expect((err as ZimageError).code).not.toBe('RATE_LIMITED');
    expect((err as Error).message).toContain(d.refusals.editGone.says);
    expect(ms).toBeLessThan(1500);
  });
});

/** The port call on a fresh thread, set up so that its next platform request is the one that fails. */
async function portCall(d: FaultyDriver, call: PortCall): Promise<() => Promise<unknown>> {
  const { ref } = await d.newThread();
  const job = jobId();
  switch (call) {
    case 'reply': return () => d.adapter.reply(ref, 'hello');
    case 'postStatus': return () => d.adapter.postStatus(ref, queued(job), L);
    case 'updateStatus': {
      const message = await d.adapter.postStatus(ref, queued(job), L);
      return () => d.adapter.updateStatus(message, generating(job), L);
    }
    case 'postImage': return () => d.adapter.postImage(ref, image(job), L);
    case 'startThread': return () => d.adapter.startThread!(d.workspace, d.channel, 'Daily poster');
    case 'userGroups': return () => d.adapter.userGroups!(d.workspace, d.user);
  }
}

describe.each(faultyDrivers)('ChatAdapter contract, every platform failure in a platform-neutral code: $name', ({ make, cases }) => {
  let d: FaultyDriver;
  beforeEach(async () => { d = make(); await d.setup(); });
  afterEach(async () => { await d.teardown(); });

  it('covers every code each call can fail with', () => {
    const codes = (call: PortCall): string[] => cases.filter((c) => c.call === call).map((c) => c.code).sort();
    for (const call of ['reply', 'postStatus', 'startThread'] as const) expect(codes(call)).toEqual(expect.arrayContaining(['CANNOT_POST', 'PLATFORM_REJECTED', 'PLATFORM_UNAVAILABLE', 'RATE_LIMITED']));
    expect(codes('updateStatus')).toEqual(['CANNOT_POST', 'MESSAGE_NOT_EDITABLE', 'PLATFORM_REJECTED', 'PLATFORM_UNAVAILABLE', 'RATE_LIMITED']);
    expect(codes('postImage')).toEqual(expect.arrayContaining(['CANNOT_POST', 'PLATFORM_UNAVAILABLE', 'RATE_LIMITED']));
    expect(codes('userGroups')).toEqual(['PLATFORM_REJECTED', 'PLATFORM_UNAVAILABLE', 'RATE_LIMITED']);
  });

  it.each(cases)('$call: the platform answer for $code comes back at once as $code, after one request', async ({ call, code }) => {
    const run = await portCall(d, call);
    const fault = d.fault(call, code);
    const before = d.platformRequests(fault.endpoint);
    fault.inject();
    const { err, ms } = await rejection(run());
    expect(err, String(err)).toBeInstanceOf(ZimageError);
    expect((err as ZimageError).code, (err as Error).message).toBe(code);
    expect((err as Error).message).toContain(fault.says);
    expect((err as ZimageError).retryable).toBe(code === 'RATE_LIMITED' || code === 'PLATFORM_UNAVAILABLE');
    if (code === 'RATE_LIMITED') expect((err as ZimageError).retryAfterMs).toBe(fault.retryAfterMs);
    else expect((err as ZimageError).retryAfterMs).toBeUndefined();
    expect(d.platformRequests(fault.endpoint) - before).toBe(1);
    expect(ms).toBeLessThan(1500);
  });
});
