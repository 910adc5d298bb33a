import nock from 'nock';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import type { WorkerApp } from '../../worker/worker-app.js';
import { startBot, startWorker, testEnv, type TestEnv } from '../helpers/harness.js';
import { botMention, FakeLark, installFakeLark, larkWebhookEnv, messageEvent, postWebhook, THROTTLED } from '../helpers/lark-fake.js';

const TOKEN = 'v-token-123';

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await probe();
    if (v) return v;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('Lark webhook: a mention becomes a status card, its patches and the image in the thread', () => {
  let t: TestEnv;
  let bot: BotApp;
  let worker: WorkerApp;
  let lark: FakeLark;
  let base: string;

  beforeAll(async () => {
    lark = installFakeLark();
    t = await testEnv(larkWebhookEnv({ LARK_VERIFICATION_TOKEN: TOKEN, LOG_LEVEL: process.env.LARK_TEST_LOG ?? 'silent' }));
    bot = await startBot(t);
    worker = await startWorker(t);
    base = `http://127.0.0.1:${bot.boundPort}`;
  });
  afterAll(async () => {
    await bot?.stop();
    await worker?.stop();
    t?.cleanup();
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('answers 200 at once, then a status card, its patches, the image and a result card in the thread', async () => {
    const ev = messageEvent({ text: '@_user_1 a ginger cat on a windowsill --seed 7 --size 256x256 --steps 3', mentions: [botMention()] });
    const root = (ev.event as { message: { message_id: string } }).message.message_id;
    const res = await postWebhook(base, JSON.stringify(ev));
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(1500);

    const status = await until('the status card', () => lark.ofType('interactive', root)[0]);
    expect(status.replyInThread).toBe(true);
    expect(status.content.schema).toBe('2.0');
    expect(status.uuid).toMatch(/^z[0-9a-f]{40}$/);

    const result = await until('the result card', () => lark.ofType('interactive', root)[1]);
    const image = lark.ofType('image', root);
    expect(image).toHaveLength(1);
    expect(image[0]!.content.image_key).toBe('img_v3_fake1');
    expect(lark.uploads).toHaveLength(1);
    expect(FakeLark.title(result.content)).toBe('a ginger cat on a windowsill');
    expect(JSON.stringify(result.content)).toContain('"regenerate"');

    await until('the done patch', () => lark.patches.filter((p) => p.id === status.id).some((p) => /^Done/.test(FakeLark.title(p.card))));
    const mine = lark.patches.filter((p) => p.id === status.id).map((p) => FakeLark.title(p.card));
    expect(mine.at(-1)).toMatch(/^Done — 1 image/);
    expect(lark.tokenCalls).toBe(1);
    // The thread got exactly: status card, image, result card.
    expect(lark.sent.filter((m) => m.root === root).map((m) => m.msgType)).toEqual(['interactive', 'image', 'interactive']);
  });

  it('a throttled patch is retried and the last state wins', async () => {
    const throttled = [THROTTLED, THROTTLED];
    lark.patchFailures.push(...throttled);
    const ev = messageEvent({ text: '@_user_1 a fox --seed 3 --size 256x256 --steps 2', mentions: [botMention()] });
    const root = (ev.event as { message: { message_id: string } }).message.message_id;
    expect((await postWebhook(base, JSON.stringify(ev))).status).toBe(200);
    const status = await until('the status card', () => lark.ofType('interactive', root)[0]);
    await until('the done patch', () => lark.patches.filter((p) => p.id === status.id).some((p) => /^Done/.test(FakeLark.title(p.card))), 40_000);
    expect(lark.patchFailures).toHaveLength(0);
    // Nothing can patch the card any more: the tracker (its only writer) has closed the job, and every edit it sent
    // has had its answer — the edits it counted, throttled ones included, are all the patches Lark received.
    const editsSent = async (): Promise<number> => [...(await (await fetch(`${base}/metrics`)).text())
      .matchAll(/^zimage_status_edits_total\{platform="lark",result="[a-z_]+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    await until('the tracker to be done with the card', async () => (await bot.store.trackedIds()).length === 0
      && (await editsSent()) === lark.patches.length + throttled.length);
    const titles = lark.patches.filter((p) => p.id === status.id).map((p) => FakeLark.title(p.card));
    expect(titles.at(-1)).toMatch(/^Done/);
  });
});
