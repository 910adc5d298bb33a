import { afterEach, describe, expect, it } from 'vitest';
import type { SlackAdapter } from '../../adapters/slack/slack-adapter.js';
import { BotApp } from '../../src/app/bot-app.js';
import { createLogger } from '../../src/infra/logger.js';
import type { WorkerApp } from '../../worker/worker-app.js';
import { buttonClick, FakeSlack, mentionEvent, slackEnv, TEAM } from '../helpers/fake-slack.js';
import { FakeSocketMode } from '../helpers/fake-socket-mode.js';
import { REDIS_URL, startWorker, testEnv } from '../helpers/harness.js';
import { jobIdOf, startSlackBot, type SlackTestBot } from '../helpers/slack-bot.js';

let s: SlackTestBot | undefined;
let ws: FakeSocketMode | undefined;
let worker: WorkerApp | undefined;
afterEach(async () => {
  await worker?.stop();
  await s?.close();
  await ws?.stop();
  worker = undefined; s = undefined; ws = undefined;
});

/** Socket Mode is the default when an app-level token is set: no signing secret, no public URL. */
async function socketBot(): Promise<SlackTestBot> {
  ws = new FakeSocketMode();
  const url = await ws.start();
  s = await startSlackBot({ SLACK_MODE: '', SLACK_SIGNING_SECRET: '', SLACK_APP_TOKEN: 'xapp-1-test' }, undefined, url);
  await ws.connected;
  return s;
}

const commandPayload = (text: string, trigger = `trg${Math.random().toString(36).slice(2)}`) => ({
  token: 'legacy', team_id: TEAM, team_domain: 'test', channel_id: 'C0CHAN', channel_name: 'general', user_id: 'U0ANN', user_name: 'ann',
  command: '/zimage', text, api_app_id: 'A0APP', response_url: `https://hooks.slack.test/commands/${TEAM}/1/${trigger}`, trigger_id: trigger,
});

describe('Slack in Socket Mode', () => {
  it('connects with the app token (apps.connections.open at SLACK_API_URL) and serves no HTTP endpoint', async () => {
    const { fake, bot } = await socketBot();
    expect(fake.of('apps.connections.open')).toHaveLength(1);
    expect(ws!.connections).toBe(1);
    const res = await fetch(`http://127.0.0.1:${bot.boundPort}/slack/events`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
  });

  it('a slash command over the socket: acked at once, thread parent, status, PNG uploaded into the thread', async () => {
    const { fake } = await socketBot();
    worker = await startWorker(s!.t);
    const sent = Date.now();
    const ack = await ws!.push('slash_commands', commandPayload('a kite over the dunes --size 256x256 --steps 2'));
    expect(ack.at - sent).toBeLessThan(1500);
    expect(ack.payload).toEqual({});
    const parent = await fake.waitFor('parent', () => fake.posts()[0]);
    const parentTs = String(parent.reply!.ts);
    await fake.waitFor('done', () => fake.of('chat.update').find((c) => c.body.text.startsWith('Done')));
    expect(fake.of('files.completeUploadExternal')[0]!.body).toMatchObject({ channel_id: 'C0CHAN', thread_ts: parentTs });
    const result = await fake.waitFor('result', () => fake.posts(parentTs).find((c) => c.body.blocks.includes('zimage_regenerate')));
    expect(result).toBeDefined();
  });

  it('an events_api envelope redelivered (retry_attempt 1, 2) is one job', async () => {
    const { fake, bot } = await socketBot();
    const ev = mentionEvent('one kite --size 256x256', { eventId: 'Ev0SOCKET', ts: '1700000600.000001' });
    for (const retry of [0, 1, 2]) await ws!.push('events_api', ev, retry);
    // Positive control, pushed after the redeliveries were acknowledged: another event is another job. It takes the
    // same path behind them, so once it has its status message a redelivery taken for new would have posted too.
    await ws!.push('events_api', mentionEvent('another kite --size 256x256', { ts: '1700000600.000002' }));
    await fake.waitFor('the other event’s status', () => fake.posts('1700000600.000002')[0]);
    expect(ws!.acks).toHaveLength(4);
    expect(fake.posts('1700000600.000001')).toHaveLength(1);
    expect(fake.of('chat.postMessage')).toHaveLength(2);
    expect(await bot.queues.generate.count()).toBe(2);
  });

  it('a button click over the socket reaches the core; the clicker hears back through response_url', async () => {
    const { fake } = await socketBot();
    await ws!.push('slash_commands', commandPayload('a queued kite --size 256x256'));
    const parent = await fake.waitFor('parent', () => fake.posts()[0]);
    const status = await fake.waitFor('status', () => fake.posts(String(parent.reply!.ts))[0]);
    await ws!.push('interactive', buttonClick('cancel', jobIdOf(status.body.blocks), { threadTs: String(parent.reply!.ts), messageTs: String(status.reply!.ts) }));
    const hook = await fake.waitFor('answer', () => fake.hooks[0]);
    expect(hook.body.text).toBe('Cancelled — it left the line.');
  });

  it('the same payloads through app.processEvent (what the socket receiver calls) behave the same', async () => {
    const { fake, bot } = await socketBot();
    const adapter = bot.adapters.get('slack') as SlackAdapter;
    const acks: unknown[] = [];
    const ev = mentionEvent('processed directly --size 256x256', { eventId: 'Ev0DIRECT', ts: '1700000400.000001' });
    await adapter.bolt.processEvent({ body: ev, ack: async (r?: unknown) => { acks.push(r); } });
    await adapter.bolt.processEvent({ body: ev, ack: async (r?: unknown) => { acks.push(r); }, retryNum: 1, retryReason: 'timeout' });
    expect(acks).toHaveLength(2);
    const status = await fake.waitFor('status', () => fake.posts('1700000400.000001')[0]);
    expect(status.body.channel).toBe('C0CHAN');
    let commandAck: unknown = 'not acked';
    await adapter.bolt.processEvent({ body: commandPayload('direct command --size 256x256'), ack: async (r?: unknown) => { commandAck = r; } });
    expect(commandAck).toBeUndefined();
    await fake.waitFor('the command’s thread parent', () => fake.posts()[0]);
    expect(await bot.queues.generate.count()).toBe(2);
  });
});

describe('Slack start-up errors', () => {
  it.each([
    ['auth.test', /Slack refused SLACK_BOT_TOKEN \(invalid_auth\)/],
    ['apps.connections.open', /Slack refused SLACK_APP_TOKEN \(invalid_auth\)/],
  ])('%s answering invalid_auth stops the start with a message naming the variable', async (method, message) => {
    const fake = new FakeSlack();
    fake.fail(method, { error: 'invalid_auth' });
    const t = await testEnv(slackEnv({ SLACK_MODE: 'socket', SLACK_APP_TOKEN: 'xapp-1-bad' }));
    const bot = new BotApp({ config: t.config, redisUrl: REDIS_URL(), log: createLogger('silent') });
    try {
      await expect(bot.start()).rejects.toThrow(message);
    } finally {
      await bot.stop();
      fake.close();
      t.cleanup();
    }
  });

  it('a passing outage of auth.test at start is tried again (three tries in all), then stops the start', async () => {
    const fake = new FakeSlack();
    fake.fail('auth.test', { status: 503 });
    const t = await testEnv(slackEnv());
    const bot = new BotApp({ config: t.config, redisUrl: REDIS_URL(), log: createLogger('silent') });
    try {
      await bot.start();
      expect(fake.requests('auth.test').map((r) => r.status)).toEqual([503, 200]);
    } finally {
      await bot.stop();
    }
    fake.fail('auth.test', { status: 503 }, 3);
    const again = new BotApp({ config: t.config, redisUrl: REDIS_URL(), log: createLogger('silent') });
    try {
      await expect(again.start()).rejects.toMatchObject({ code: 'PLATFORM_UNAVAILABLE' });
      expect(fake.requests('auth.test').map((r) => r.status)).toEqual([503, 200, 503, 503, 503]);
    } finally {
      await again.stop();
      fake.close();
      t.cleanup();
    }
  });
});
