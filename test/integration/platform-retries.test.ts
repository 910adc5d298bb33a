/**
 * One retry layer per call, and it is the core's: a whole bot on each platform's fake (real Redis, real
 * workers on the demo model), with the platform's answers made to fail. Adapters fail at once (the contract
 * suite shows that per call); here, counting every request the platform got:
 *
 * - a reply (help, errors, subcommand answers) is retried once by the reply retry, no sooner than Retry-After,
 *   and not at all when Retry-After is longer than a reply may wait or the failure is not transient;
 * - an image is retried by the `deliver` queue (its backoff honours Retry-After), once per failure;
 * - a status message that can no longer be edited is replaced by a fresh one, which then shows "Done";
 * - throttling is counted in zimage_platform_rate_limited_total by operation.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isZimageError, type ZimageError } from '../../src/errors.js';
import type { WorkerApp } from '../../worker/worker-app.js';
import { until } from '../helpers/contract-common.js';
import { TEAM } from '../helpers/slack-requests.js';
import { startWorker } from '../helpers/harness.js';
import { larkBot, metricValue, slackBot, type BotFault, type PlatformBot, type SlackPlatformBot } from '../helpers/platform-bots.js';

const platforms = [
  { name: 'Slack', start: slackBot },
  { name: 'Lark', start: larkBot },
];

const rateLimited = (d: PlatformBot, operation: string): Promise<number> =>
  metricValue(d.bot, 'zimage_platform_rate_limited_total', `platform="${d.platform}",operation="${operation}"`);

describe.each(platforms)('one retry layer per call: $name', ({ start }) => {
  let d: PlatformBot;
  let worker: WorkerApp | undefined;
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    await d?.close();
  });

  it.each<{ what: string; fault: BotFault; status: number; waitMs: number; counted: number }>([
    { what: 'a 429 with Retry-After 2 s', fault: { kind: 'throttled', retryAfterS: 2 }, status: 429, waitMs: 2000, counted: 1 },
    { what: 'a 5xx', fault: { kind: 'unavailable' }, status: 503, waitMs: 1000, counted: 0 },
  ])('$what on a reply: retried once, no sooner than $waitMs ms, posted once; counted as throttling: $counted', async ({ fault, status, waitMs, counted }) => {
    d = await start();
    d.failReplies(fault);
    const { key } = await d.mention('help');
    await until('the help reply', () => d.replies(key).length > 0, 10_000);
    const attempts = d.replyAttempts();
    expect(attempts.map((a) => a.status)).toEqual([status, 200]);
    // Timestamps of two requests seen by the fake: allow the clock's rounding of the wait (a few ms).
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(waitMs - 10);
    expect(d.replies(key)).toHaveLength(1);
    expect(await rateLimited(d, 'reply')).toBe(counted);
  });

  it('a reply throttled for longer than a reply may wait (30 s) fails at once after one request, counted', async () => {
    d = await start();
    const { ref } = await d.mention('help');
    await until('the first help reply', () => d.replyAttempts().length === 1, 10_000);
    d.failReplies({ kind: 'throttled', retryAfterS: 60 });
    const started = Date.now();
    // The settled promise is the signal: nothing is left waiting to retry.
    const err = await d.bot.adapters.get(d.platform)!.reply(ref, 'hello').catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(isZimageError(err, 'RATE_LIMITED')).toBe(true);
    expect((err as ZimageError).retryAfterMs).toBe(60_000);
    expect(d.replyAttempts().map((a) => a.status)).toEqual([200, 429]);
    expect(await rateLimited(d, 'reply')).toBe(1);
  });

  it('a reply that fails again after its one retry is given up: two requests, the error to the caller', async () => {
    d = await start();
    const { ref } = await d.mention('help');
    await until('the first help reply', () => d.replyAttempts().length === 1, 10_000);
    d.failReplies({ kind: 'throttled', retryAfterS: 1 }, 2);
    const started = Date.now();
    const err = await d.bot.adapters.get(d.platform)!.reply(ref, 'hello').catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(isZimageError(err, 'RATE_LIMITED')).toBe(true);
    expect(d.replyAttempts().map((a) => a.status)).toEqual([200, 429, 429]);
    expect(await rateLimited(d, 'reply')).toBe(2);
  });

  it('a reply the platform refuses for good (the bot is not in the conversation) is not retried', async () => {
    d = await start();
    const { ref } = await d.mention('help');
    await until('the first help reply', () => d.replyAttempts().length === 1, 10_000);
    d.failReplies({ kind: 'cannot_post' });
    const started = Date.now();
    const err = await d.bot.adapters.get(d.platform)!.reply(ref, 'hello').catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(isZimageError(err, 'CANNOT_POST')).toBe(true);
    expect(d.replyAttempts()).toHaveLength(2);
  });

  it('a 429 with Retry-After on the image upload: the deliver queue retries it once, no sooner than Retry-After; one image, Done, counted', async () => {
    d = await start();
    worker = await startWorker(d.t, { DELIVERY_BACKOFF_MS: '50' });
    d.failImageUpload({ kind: 'throttled', retryAfterS: 2 });
    const { key } = await d.mention('a kite --size 256x256 --steps 2');
    await until('Done in the thread', () => d.statuses(key).some((m) => m.headline.startsWith('Done')), 45_000);
    const uploads = d.uploadAttempts();
    expect(uploads.map((a) => a.status)).toEqual([429, 200]);
    expect(uploads[1]!.at - uploads[0]!.at).toBeGreaterThanOrEqual(2000);
    expect(d.images(key)).toBe(1);
    expect(d.statuses(key)).toHaveLength(1);
    expect(await rateLimited(d, 'delivery')).toBe(1);
    expect(await metricValue(d.bot, 'zimage_delivery_failures_total', `platform="${d.platform}"`)).toBe(1);
    expect(await d.bot.obs.deadLetters.count()).toBe(0);
  });

  it('a 5xx on the image upload: the deliver queue retries it once; one image, Done, not counted as throttling', async () => {
    d = await start();
    worker = await startWorker(d.t, { DELIVERY_BACKOFF_MS: '50' });
    d.failImageUpload({ kind: 'unavailable' });
    const { key } = await d.mention('a lantern --size 256x256 --steps 2');
    await until('Done in the thread', () => d.statuses(key).some((m) => m.headline.startsWith('Done')), 45_000);
    expect(d.uploadAttempts().map((a) => a.status)).toEqual([d.platform === 'slack' ? 500 : 503, 200]);
    expect(d.images(key)).toBe(1);
    expect(await rateLimited(d, 'delivery')).toBe(0);
    expect(await metricValue(d.bot, 'zimage_delivery_failures_total', `platform="${d.platform}"`)).toBe(1);
  });

  it('a status message that can no longer be edited: a new one in the thread carries on and ends with Done', async () => {
    d = await start();
    worker = await startWorker(d.t);
    d.failStatusEditNotEditable();
    const { key } = await d.mention('a harbour --size 256x256 --steps 2');
    const [first] = await until('the status message', () => d.statuses(key).length > 0 && d.statuses(key), 10_000);
    const statuses = await until('Done on a second status message', () => {
      const all = d.statuses(key);
      return all.length === 2 && all[1]!.headline.startsWith('Done') ? all : undefined;
    }, 45_000);
    expect(statuses[0]!.id).toBe(first!.id);
    expect(statuses[0]!.headline).not.toMatch(/^Done/);
    expect(statuses[1]!.id).not.toBe(first!.id);
    expect(d.images(key)).toBe(1);
  });
});

describe('an image the platform refuses for good', () => {
  let d: SlackPlatformBot | undefined;
  let worker: WorkerApp | undefined;
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    await d?.close();
  });

  it('(Slack: the bot was taken out of the channel) is not retried: one attempt, dead-lettered at once, the charge given back', async () => {
    const s = await slackBot();
    d = s;
    worker = await startWorker(s.t, { DELIVERY_BACKOFF_MS: '50' });
    s.failImagePostForGood();
    const { key } = await s.mention('a comet --size 256x256 --steps 2');
    await vi.waitFor(async () => expect(await s.bot.obs.deadLetters.count()).toBe(1), { timeout: 30_000, interval: 20 });
    const [entry] = await s.bot.obs.deadLetters.list(1);
    expect(entry).toMatchObject({ error: expect.stringContaining('CANNOT_POST') });
    expect(s.imagePostAttempts()).toBe(1);
    expect(s.images(key)).toBe(0);
    expect(await metricValue(s.bot, 'zimage_delivery_failures_total', 'platform="slack"')).toBe(1);
    // Given back: the person has used nothing.
    expect((await s.bot.quota.standing({ platform: 'slack', workspace: TEAM, user: 'U0BEN' })).used).toBe(0);
  });
});
