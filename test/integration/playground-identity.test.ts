/**
 * Nobody acts as somebody else in the Playground: a name speaks only for the browser session that claimed
 * it, look-alikes (case, width, Cyrillic, the bot's own name) are refused, admins are who the settings file
 * names, and the audit log records the normalised identity. Real bot, real Redis, real HTTP.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { botReplies, PlaygroundClient, startBot, statusOf, testEnv } from '../helpers/harness.js';
import { pgFetch } from '../helpers/playground-http.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => { while (cleanups.length) await cleanups.pop()!(); });

async function setup() {
  const t0 = await testEnv();
  const file = join(t0.dataDir, 'zimage.yml');
  writeFileSync(file, 'quota:\n  default: 5/day\n  admins: ["playground:local:Alice"]\n');
  const t = await testEnv({ CONFIG_FILE: file, DATA_DIR: t0.dataDir, QUEUE_PREFIX: t0.prefix });
  cleanups.push(() => t0.cleanup());
  const bot = await startBot(t);
  cleanups.push(() => bot.stop());
  const base = `http://127.0.0.1:${bot.boundPort}`;
  /** Post from one browser session (`session`) under a name. */
  const post = (session: string, user: string, text: string) => pgFetch(base, '/api/playground/messages', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, text }),
  }, session);
  const pg = new PlaygroundClient(base);
  /** The bot's first answer in a thread started by a post (which must have been accepted). */
  const answer = async (res: Response): Promise<string> => {
    expect(res.status).toBe(201);
    const { threadId } = (await res.json()) as { threadId: string };
    return botReplies(await pg.waitFor(threadId, (m) => botReplies(m).length >= 1))[0]!.text;
  };
  return { bot, base, post, answer, pg };
}

describe('Playground identities', () => {
  it('ALICE, ａｌｉｃｅ and Cyrillic аlice from another session cannot act as admin alice; alice herself can, in any spelling', async () => {
    const { bot, post, answer } = await setup();
    // Alice's browser claims her name first; the settings file names her as an admin.
    expect(await answer(await post('alice-browser', 'alice', '/zimage quota'))).toMatch(/· admin/);

    for (const [name, code] of [['ALICE', 'NAME_TAKEN'], ['ａｌｉｃｅ', 'NAME_TAKEN'], ['аlice', 'NAME_LOOKALIKE'], ['a.lice', 'NAME_LOOKALIKE']] as const) {
      const res = await post('mallory-browser', name, '/zimage quota set @mallory unlimited');
      expect(res.status, name).toBe(409);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    for (const name of ['zimage', 'ZIMAGE', 'zimаge', 'zirnage']) {
      const res = await post('mallory-browser', name, 'hello');
      expect(res.status, name).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('RESERVED_NAME');
    }
    // Under her own name Mallory is a member like anyone.
    expect(await answer(await post('mallory-browser', 'mallory', '/zimage quota set @mallory unlimited'))).toMatch(/^Only managers can do that/);
    const mallory = { platform: 'playground', workspace: 'local', user: 'mallory' };
    expect((await bot.quota.standing(mallory)).limit.limit).toEqual({ unlimited: false, amount: 5, period: 'day' });

    // Alice, typing her name in capitals in her own browser, is still alice, the admin.
    expect(await answer(await post('alice-browser', 'ALICE', '/zimage quota set @Mallory 9/day'))).toMatch(/^Done/);
    expect((await bot.quota.standing(mallory)).limit.limit).toEqual({ unlimited: false, amount: 9, period: 'day' });
    const audit = await answer(await post('alice-browser', 'alice', '/zimage audit'));
    expect(audit).toMatch(/· alice · quota\.set/);
    expect(audit).not.toContain('ALICE');
  });

  it('a button click under a name another session holds is refused and changes nothing', async () => {
    const { post, base, pg } = await setup();
    const res = await post('carol-browser', 'carol', '/zimage a lighthouse --size 256x256');
    const { threadId } = (await res.json()) as { threadId: string };
    const queued = await pg.waitFor(threadId, (m) => statusOf(m)?.status?.phase === 'queued');
    const jobId = (statusOf(queued)!.status as unknown as { jobId: string }).jobId;
    const click = (session: string) => pgFetch(base, '/api/playground/actions', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'Carol', kind: 'cancel', jobId, threadId }),
    }, session);
    const forged = await click('mallory-browser');
    expect(forged.status).toBe(409);
    expect(statusOf(await pg.thread(threadId))?.status?.phase).toBe('queued');
    // Positive control: Carol's own browser cancels it.
    const own = await click('carol-browser');
    expect(own.status).toBe(200);
    await pg.waitFor(threadId, (m) => statusOf(m)?.status?.phase === 'cancelled');
  });

  it('one browser session may hold a team of names, but not an unbounded number of them', async () => {
    const { post } = await setup();
    for (let i = 0; i < 20; i++) expect((await post('one-browser', `member${i}`, 'hello')).status).toBe(201);
    const res = await post('one-browser', 'member20', 'hello');
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_NAMES');
    // Names already held keep working.
    expect((await post('one-browser', 'member3', 'still here')).status).toBe(201);
  });
});
