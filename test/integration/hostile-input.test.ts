/**
 * Hostile input that the seeded fuzz (http-fuzz.test.ts) cannot reach, because it needs a signed-in gallery
 * session, a delivered job or a manager, or that looks at what a well-formed request leaves out: characters PostgreSQL cannot store (NUL) in a gallery request or in
 * a prompt, and role names that are no role. Real bot, real worker on the demo model, real Redis and
 * PostgreSQL, real HTTP.
 */
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotApp } from '../../src/app/bot-app.js';
import { createLogger } from '../../src/infra/logger.js';
import type { WorkerApp } from '../../worker/worker-app.js';
import { GalleryBrowser, seedImage } from '../helpers/gallery-browser.js';
import { installFakeLark, larkWebhookEnv } from '../helpers/lark-fake.js';
import { pgFetch, pgPost } from '../helpers/playground-http.js';
import { botReplies, finished, images, PlaygroundClient, startBot, startWorker, testEnv, testEnvWithSettings, type TestEnv } from '../helpers/harness.js';

const AUDITOR = { platform: 'playground', workspace: 'local', user: 'auditor' } as const;

describe('hostile input behind a session', () => {
  let t: TestEnv;
  let bot: BotApp;
  let worker: WorkerApp;
  let pg: PlaygroundClient;
  let gallery: GalleryBrowser;

  beforeAll(async () => {
    t = await testEnvWithSettings('quota:\n  admins: ["playground:local:auditor"]\n', { PLAYGROUND: 'true' });
    bot = await startBot(t);
    worker = await startWorker(t);
    const base = `http://localhost:${bot.boundPort}`;
    pg = new PlaygroundClient(base);
    await seedImage(bot, t.config, { jobId: 'jhost001', prompt: 'a seeded probe', ...AUDITOR, userName: 'auditor', channelKind: 'playground', channel: 'general' });
    gallery = new GalleryBrowser(base);
    await gallery.signIn(await bot.gallery.signInLink(AUDITOR));
    expect((await gallery.me())?.audit).toBe(true);
  }, 60_000);
  afterAll(async () => {
    await bot?.stop();
    await worker?.stop();
    t?.cleanup();
  });

  it('a NUL in a gallery filter, image id, page cursor or held person is the client\'s input, never a 500', async () => {
    for (const name of ['person', 'channel', 'template', 'model']) {
      const res = await gallery.json<{ total: number }>(`/api/gallery/images?${name}=a%00b`);
      expect({ name, status: res.status, total: res.body.total }).toEqual({ name, status: 200, total: 0 });
    }
    for (const [method, path] of [['GET', '/api/gallery/images/jhost001-0%00'], ['DELETE', '/api/gallery/images/%00'], ['POST', '/api/gallery/images/%00/hold']] as const) {
      const res = await gallery.json<{ error: { code: string } }>(path, { method, ...(method === 'POST' ? { body: JSON.stringify({ on: true }), headers: { 'content-type': 'application/json' } } : {}) });
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 404, code: 'IMAGE_NOT_FOUND' });
    }
    const held = await gallery.json('/api/gallery/holds/people', { method: 'POST', body: JSON.stringify({ user: 'U\u0000', on: true }), headers: { 'content-type': 'application/json' } });
    expect(held.status).toBeLessThan(500);
    expect(held.status).not.toBe(404);
    const exported = await gallery.json<{ rows: number }>('/api/gallery/export', { method: 'POST', body: JSON.stringify({ format: 'csv', person: '\u0000' }), headers: { 'content-type': 'application/json' } });
    expect([exported.status, exported.body.rows]).toEqual([200, 0]);
    // A page cursor is the library's own: one carrying a NUL (made by hand) is not one of them.
    const cursor = Buffer.from(JSON.stringify(['2026-11-01T00:00:00.000Z', 'a\u0000b'])).toString('base64url');
    const paged = await gallery.json<{ error: { code: string } }>(`/api/gallery/images?cursor=${cursor}`);
    expect([paged.status, paged.body.error?.code]).toEqual([400, 'LIBRARY_BAD_CURSOR']);
    // The image that exists is still found by its id.
    expect((await gallery.json('/api/gallery/images/jhost001-0')).status).toBe(200);
  });

  it('a prompt with a NUL is delivered and indexed: the gallery finds it and nothing is left waiting to be written', async () => {
    const { threadId } = await pg.post('nul-sender', '/zimage nul\u0000kitten --size 256x256 --steps 1');
    const thread = await pg.waitFor(threadId, finished());
    const jobId = images(thread)[0]!.metadata!.jobId;
    const viewer = { ...AUDITOR, manager: true, audit: true };
    let found: string[] = [];
    for (const until = Date.now() + 10_000; Date.now() < until && found.length === 0;) {
      found = (await bot.library.list(viewer, { person: 'nul-sender' })).images.map((i) => i.id);
      if (found.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(found).toEqual([`${jobId}-0`]);
    const searched = await gallery.json<{ images: Array<{ id: string }> }>('/api/gallery/images?q=kitten');
    expect(searched.body.images.map((i) => i.id)).toEqual([`${jobId}-0`]);
    expect((await gallery.json(`/api/gallery/images/${jobId}-0`)).status).toBe(200);
    expect(await bot.redis.llen(bot.keys.libraryPending())).toBe(0);
  }, 60_000);

  it('a manager cannot give a role that does not exist, whatever its name looks like to JavaScript', async () => {
    await pg.post('role-victim', 'hello');
    for (const name of ['constructor', '__proto__', 'tostring', 'hasownproperty', 'valueof']) {
      const { threadId } = await pg.post('auditor', `/zimage role set @role-victim ${name}`);
      const replies = await pg.waitFor(threadId, (m) => botReplies(m).length > 0, 10_000);
      expect(botReplies(replies)[0]!.text).toContain(`There is no role “${name}”`);
    }
    expect((await bot.quota.roleOf({ platform: 'playground', workspace: 'local', user: 'role-victim' })).role).toBe('member');
  });

  it('a template variable named like a property every object has is an unknown variable, and nothing is queued', async () => {
    const before = await bot.queues.generate.count();
    const { threadId } = await pg.post('var-sender', '/zimage poster subject=sale constructor=x --size 256x256');
    const replies = botReplies(await pg.waitFor(threadId, (m) => botReplies(m).length > 0, 10_000));
    expect(replies[0]!.text).toContain('Unknown variable “constructor”');
    expect(await bot.queues.generate.count()).toBe(before);
  });

  it('a usage period named like a property every object has gets the usage help, in chat and in a schedule, and no schedule is made', async () => {
    const answer = async (text: string): Promise<string> => {
      const { threadId } = await pg.post('auditor', text);
      return botReplies(await pg.waitFor(threadId, (m) => botReplies(m).length > 0, 10_000))[0]!.text;
    };
    for (const word of ['constructor', '__proto__']) {
      expect(await answer(`/zimage usage ${word}`)).toContain('/zimage usage');
      expect(await answer(`/zimage schedule add "0 9 * * 1" usage ${word}`)).toContain('/zimage schedule add');
    }
    expect(await answer('/zimage schedule list')).toContain('There are no schedules');
  });

  it('a Playground message whose threadId is not a string is refused, not posted as a new thread', async () => {
    for (const threadId of [5, { id: 'm1' }, ['m1'], true]) {
      const res = await pgPost(pg.base, '/api/playground/messages', { user: 'typed-wrong', text: `reply to ${JSON.stringify(threadId)}`, threadId });
      const body = (await res.json()) as { error?: { code: string } };
      expect({ threadId, status: res.status, code: body.error?.code }).toEqual({ threadId, status: 400, code: 'BAD_THREAD' });
    }
    const channel = (await (await pgFetch(pg.base, '/api/playground/messages')).json()) as { messages: Array<{ user: string }> };
    expect(channel.messages.filter((m) => m.user === 'typed-wrong')).toEqual([]);
    // Left out (or null), it starts a new thread as before.
    expect((await pgPost(pg.base, '/api/playground/messages', { user: 'typed-wrong', text: 'a new thread', threadId: null })).status).toBe(201);
  });
});

describe('a hostile template file', () => {
  it('a YAML alias bomb, or a file that cannot be read, is a problem that names it (reload 422, the old set stays), not a 500', async () => {
    const t0 = await testEnv();
    const dir = join(t0.dataDir, 'presets');
    cpSync(join(process.cwd(), 'templates', 'presets'), dir, { recursive: true });
    const t = await testEnv({ TEMPLATES_DIR: dir, DATA_DIR: t0.dataDir, QUEUE_PREFIX: t0.prefix, ADMIN_TOKEN: 'hostile-admin-token-0123' });
    const bot = await startBot(t);
    try {
      // Nine aliases of nine aliases …: a few hundred bytes that would expand to millions of nodes.
      const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
      for (const [prev, name] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f']]) levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
      writeFileSync(join(dir, 'bomb.yaml'), `${levels.join('\n')}\n`);
      const res = await fetch(`http://127.0.0.1:${bot.boundPort}/admin/reload`, { method: 'POST', headers: { authorization: 'Bearer hostile-admin-token-0123' } });
      const body = (await res.json()) as { templates?: { problems: string[] } };
      expect(res.status).toBe(422);
      expect(body.templates?.problems.some((p) => p.startsWith('bomb.yaml'))).toBe(true);
      expect(bot.templates.has('poster')).toBe(true);
      // A directory where a file belongs (or any file that cannot be read) is named the same way.
      rmSync(join(dir, 'bomb.yaml'));
      mkdirSync(join(dir, 'folder.yaml'));
      const dirRes = await fetch(`http://127.0.0.1:${bot.boundPort}/admin/reload`, { method: 'POST', headers: { authorization: 'Bearer hostile-admin-token-0123' } });
      const dirBody = (await dirRes.json()) as { templates?: { problems: string[] } };
      expect([dirRes.status, dirBody.templates?.problems.some((p) => p.startsWith('folder.yaml'))]).toEqual([422, true]);
      expect(bot.templates.has('poster')).toBe(true);
    } finally {
      await bot.stop();
      t.cleanup();
      t0.cleanup();
    }
  });
});

describe('a preset with a trap for the values people type', () => {
  let t0: TestEnv;
  let t: TestEnv;
  let bot: BotApp;
  let pg: PlaygroundClient;
  beforeAll(async () => {
    t0 = await testEnv();
    const dir = join(t0.dataDir, 'presets');
    mkdirSync(dir, { recursive: true });
    const preset = (name: string, variable: string, extra = '') => `name: ${name}\ntitle: ${name}\ndescription: a trap\nprompt: "a cat, {${variable}}"\nvariables:\n  ${variable}: { description: "x"${extra} }\nsize: 512x512\nsteps: 2\n`;
    writeFileSync(join(dir, 'ctor.yaml'), preset('ctor', 'constructor'));
    // Nested quantifiers: testing "aaaa…a!" against it takes exponential time.
    writeFileSync(join(dir, 'nested.yaml'), preset('nested', 'word', ', pattern: "^(a+)+$", maxLength: 200'));
    t = await testEnv({ TEMPLATES_DIR: dir, DATA_DIR: t0.dataDir, QUEUE_PREFIX: t0.prefix, PLAYGROUND: 'true' });
    bot = await startBot(t);
    pg = new PlaygroundClient(`http://127.0.0.1:${bot.boundPort}`);
    expect(bot.templates.has('ctor') && bot.templates.has('nested')).toBe(true);
  });
  afterAll(async () => {
    await bot?.stop();
    t?.cleanup();
    t0?.cleanup();
  });

  it('a variable named constructor that the person leaves out is empty, not an internal error', async () => {
    const { threadId } = await pg.post('trap-user', '/zimage ctor');
    const reply = botReplies(await pg.waitFor(threadId, (m) => botReplies(m).length > 0, 10_000))[0]!.text;
    expect(reply).not.toContain('Something went wrong');
    expect(reply).toMatch(/Queued/);
  });

  it('a value that makes the preset\'s pattern backtrack is refused at once, and the bot keeps answering meanwhile', async () => {
    const started = Date.now();
    const { threadId } = await pg.post('trap-user', `/zimage nested word=${'a'.repeat(60)}!`);
    const health = await fetch(`${pg.base}/healthz`, { signal: AbortSignal.timeout(3000) });
    expect(health.status).toBe(200);
    const reply = botReplies(await pg.waitFor(threadId, (m) => botReplies(m).length > 0, 10_000))[0]!.text;
    expect(reply).toContain('word');
    expect(reply).not.toContain('Something went wrong');
    expect(Date.now() - started).toBeLessThan(5000);
  }, 20_000);
});

describe('what a request without the verification token can make the bot log', () => {
  it('a refused Lark request is one short warning, whatever it carries in its type fields', async () => {
    installFakeLark();
    const t = await testEnv(larkWebhookEnv({ LOG_LEVEL: 'warn' }));
    const lines: string[] = [];
    const log = createLogger('warn', {}, { destination: { write: (l: string) => { lines.push(l); } } });
    const bot = new BotApp({ config: t.config, redisUrl: t.env.REDIS_URL!, log });
    await bot.start();
    try {
      const huge = 'x'.repeat(200_000);
      for (const body of [{ type: huge, token: 'wrong' }, { header: { event_type: huge, token: 'wrong' } }]) {
        const res = await fetch(`http://127.0.0.1:${bot.boundPort}/lark/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        expect(res.status).toBe(401);
      }
      const refused = lines.filter((l) => l.includes('wrong verification token'));
      expect(refused).toHaveLength(2);
      for (const l of refused) expect(l.length).toBeLessThan(1000);
    } finally {
      await bot.stop();
      t.cleanup();
      nock.cleanAll();
      nock.enableNetConnect();
    }
  });
});
