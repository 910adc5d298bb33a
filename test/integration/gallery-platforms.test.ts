/**
 * The gallery on Slack and Lark, against the fake platforms (nock) and a real bot (and worker, for Slack):
 * `/zimage gallery` answers privately — an ephemeral message in the thread on Slack, a direct message on Lark
 * (said so in the group's thread) — "show in chat" links to the thread, and "generate again" posts the re-run
 * into the person's direct messages with the bot, charged to them.
 */
import nock from 'nock';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import type { WorkerApp } from '../../worker/worker-app.js';
import { slashCommand, TEAM } from '../helpers/fake-slack.js';
import { GalleryBrowser } from '../helpers/gallery-browser.js';
import { startBot, startWorker, testEnv, type TestEnv } from '../helpers/harness.js';
import { botMention, FakeLark, installFakeLark, larkWebhookEnv, messageEvent, postWebhook, TENANT } from '../helpers/lark-fake.js';
import { FORM, startSlackBot, type SlackTestBot } from '../helpers/slack-bot.js';

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

type Rich = { type: string; text?: string; url?: string; elements?: Rich[] };
const linksOf = (blocks: string): string[] => {
  const out: string[] = [];
  const walk = (xs: Rich[]) => { for (const x of xs) { if (x.type === 'link') out.push(x.url!); if (x.elements) walk(x.elements); } };
  walk(JSON.parse(blocks) as Rich[]);
  return out;
};

describe('the gallery on Slack', () => {
  let s: SlackTestBot;
  let worker: WorkerApp;

  beforeAll(async () => {
    s = await startSlackBot({ HOST: '127.0.0.1' });
    worker = await startWorker(s.t);
  });
  afterAll(async () => {
    await worker?.stop();
    await s?.close();
  });

  it('/zimage gallery: an ephemeral link, no public thread; the image links to its thread; generate again goes to the DMs', async () => {
    const fake = s.fake;
    // An image first, made the usual way (its thread is the "asked:" message).
    expect((await s.send(slashCommand('a lighthouse at dusk --size 256x256 --steps 1 --seed 11'), FORM)).status).toBe(200);
    const upload = await fake.waitFor('the upload', () => fake.of('files.completeUploadExternal')[0]);
    const threadTs = upload.body.thread_ts!;

    const parents = fake.posts().length;
    expect((await s.send(slashCommand('gallery'), FORM)).status).toBe(200);
    const eph = await fake.waitFor('the ephemeral link', () => fake.of('chat.postEphemeral')[0]);
    expect(eph.body).toMatchObject({ user: 'U0ANN', channel: 'C0CHAN' });
    // A private command opens no thread: no public "ann asked: /zimage gallery" in the channel.
    expect(eph.body.thread_ts).toBeUndefined();
    expect(fake.posts()).toHaveLength(parents);
    const [link] = linksOf(eph.body.blocks);
    expect(link).toMatch(/^http:\/\/localhost:\d+\/gallery\/signin\?code=[A-Za-z0-9_-]{43}$/);
    // Nothing with the link was posted where others read.
    expect(fake.of('chat.postMessage').some((c) => c.body.text.includes('signin') || c.body.blocks.includes('signin'))).toBe(false);

    const browser = new GalleryBrowser(new URL(link!).origin);
    expect((await browser.signIn(link!)).answer!.status).toBe(303);
    expect((await browser.me())!.identity).toEqual({ platform: 'slack', workspace: TEAM, user: 'U0ANN', userName: 'ann' });
    const { body: page } = await browser.json<{ images: Array<{ id: string; prompt: string }> }>('/api/gallery/images');
    expect(page.images.map((i) => i.prompt)).toEqual(['a lighthouse at dusk']);
    const { body: detail } = await browser.json<{ image: { chatLink: string; channelKind: string; can: { again: boolean } } }>(`/api/gallery/images/${page.images[0]!.id}`);
    expect(detail.image.chatLink).toBe(`https://app.slack.com/client/${TEAM}/C0CHAN/thread/C0CHAN-${threadTs}`);
    expect(detail.image.channelKind).toBe('public'); // a slash command names its channel: a public one
    expect(detail.image.can.again).toBe(true);

    const used = (await s.bot.quota.standing({ platform: 'slack', workspace: TEAM, user: 'U0ANN' })).used;
    const again = await browser.json<{ ok: boolean; message: string }>(`/api/gallery/images/${page.images[0]!.id}/again`, { method: 'POST', headers: { 'idempotency-key': 'click-1' } });
    expect(again.status).toBe(200);
    expect(again.body.message).toMatch(/posted in your direct messages with the bot/);
    // The same click again does nothing.
    expect((await browser.json(`/api/gallery/images/${page.images[0]!.id}/again`, { method: 'POST', headers: { 'idempotency-key': 'click-1' } })).status).toBe(409);
    const parent = await fake.waitFor('the DM thread', () => fake.of('chat.postMessage').find((c) => c.body.channel === 'U0ANN'));
    expect(parent.body.text).toBe('Generate again (from the gallery): a lighthouse at dusk');
    const dmUpload = await fake.waitFor('the re-run upload', () => fake.of('files.completeUploadExternal').find((c) => c.body.channel_id === 'D0ANN'));
    expect(dmUpload.body.thread_ts).toBe(String(parent.reply!.ts));
    expect((await s.bot.quota.standing({ platform: 'slack', workspace: TEAM, user: 'U0ANN' })).used).toBe(used + 1);
    // In the index: the same prompt and seed, made in a DM (so only its maker and auditors see it).
    const rerun = await until('the re-run row', async () => (await s.bot.library.list(
      { platform: 'slack', workspace: TEAM, user: 'U0ANN', manager: false, audit: false }, { search: 'lighthouse' },
    )).images.find((i) => i.channelKind === 'dm'));
    expect(rerun).toMatchObject({ seed: 11, prompt: 'a lighthouse at dusk', user: 'U0ANN', channelKind: 'dm' });
  });

  it('/zimage history and /zimage find: answered to the asker only, with no public "… asked:" message in the channel', async () => {
    const fake = s.fake;
    const parents = fake.posts().length;
    const ephemerals = fake.of('chat.postEphemeral').length;
    for (const text of ['history lighthouse', 'find']) {
      const n = fake.of('chat.postEphemeral').length;
      expect((await s.send(slashCommand(text), FORM)).status).toBe(200);
      await fake.waitFor(`the answer to ${text}`, () => fake.of('chat.postEphemeral').length > n);
    }
    const [history, findHint] = fake.of('chat.postEphemeral').slice(ephemerals);
    expect(history!.body).toMatchObject({ user: 'U0ANN', channel: 'C0CHAN' });
    expect(history!.body.text).toMatch(/lighthouse at dusk/);
    expect(findHint!.body.text).toMatch(/\/zimage find poster/);
    expect(fake.posts()).toHaveLength(parents);
  });
});

describe('the gallery on Lark', () => {
  let t: TestEnv;
  let bot: BotApp;
  let lark: FakeLark;
  let base: string;

  beforeAll(async () => {
    lark = installFakeLark();
    t = await testEnv(larkWebhookEnv({ HOST: '127.0.0.1' }));
    bot = await startBot(t);
    base = `http://127.0.0.1:${bot.boundPort}`;
  });
  afterAll(async () => {
    await bot?.stop();
    t?.cleanup();
    nock.cleanAll();
    nock.enableNetConnect();
  });

  const aPost = (m: { content: Record<string, unknown> }): { text: string; links: string[] } => {
    const rows = ((m.content.zh_cn as { content: Array<Array<{ tag: string; text?: string; href?: string }>> }).content);
    return { text: rows.map((r) => r.map((n) => n.text ?? '').join('')).join('\n'), links: rows.flat().filter((n) => n.tag === 'a').map((n) => n.href!) };
  };

  it('from a group: the link comes as a direct message, and the thread says so', async () => {
    const ev = messageEvent({ text: '@_user_1 /zimage gallery', mentions: [botMention()], sender: 'ou_carol000000000000000000000001' });
    const root = (ev.event as { message: { message_id: string } }).message.message_id;
    expect((await postWebhook(base, JSON.stringify(ev))).status).toBe(200);
    const dm = await until('the direct message', () => lark.sent.find((m) => m.to === 'ou_carol000000000000000000000001'));
    const { links } = aPost(dm);
    expect(links).toHaveLength(1);
    expect(links[0]).toMatch(/\/gallery\/signin\?code=/);
    const note = await until('the note in the thread', () => lark.sent.find((m) => m.root === root));
    expect(aPost(note).text).toBe('I sent you a direct message.');
    const browser = new GalleryBrowser(new URL(links[0]!).origin);
    await browser.signIn(links[0]!);
    expect((await browser.me())!.identity).toEqual({ platform: 'lark', workspace: TENANT, user: 'ou_carol000000000000000000000001' });
  });

  it('in a direct chat with the bot: the link is the answer in that chat\'s thread; generate again starts a thread there', async () => {
    const ev = messageEvent({ text: '/zimage gallery', chatType: 'p2p', chatId: 'oc_p2pdave', sender: 'ou_dave0000000000000000000000001' });
    const root = (ev.event as { message: { message_id: string } }).message.message_id;
    expect((await postWebhook(base, JSON.stringify(ev))).status).toBe(200);
    const answer = await until('the answer', () => lark.sent.find((m) => m.root === root));
    expect(lark.sent.some((m) => m.to === 'ou_dave0000000000000000000000001')).toBe(false);
    const [link] = aPost(answer).links;
    const browser = new GalleryBrowser(new URL(link!).origin);
    await browser.signIn(link!);
    // Dave's image of the group chat (seeded as a delivery would write it).
    const { storedImage } = await import('../helpers/library-fixtures.js');
    await bot.library.record([storedImage({ jobId: 'jlarkimg1', prompt: '水墨山水', platform: 'lark', workspace: TENANT, channel: 'oc_group00000000000000000000000001', channelKind: 'private', user: 'ou_dave0000000000000000000000001' })]);
    const { body } = await browser.json<{ image: { chatLink: string } }>('/api/gallery/images/jlarkimg1-0');
    expect(body.image.chatLink).toBe('https://applink.feishu.cn/client/chat/open?openChatId=oc_group00000000000000000000000001');
    expect((await browser.json('/api/gallery/images/jlarkimg1-0/again', { method: 'POST' })).status).toBe(200);
    const thread = await until('the re-run thread', () => lark.sent.find((m) => m.to === 'ou_dave0000000000000000000000001'));
    expect(aPost({ content: thread.content }).text).toBe('Generate again (from the gallery): 水墨山水');
    const status = await until('its status card', () => lark.ofType('interactive', thread.id)[0]);
    expect(status.replyInThread).toBe(true);
  });
});
