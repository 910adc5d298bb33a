/**
 * The intake pipeline (src/intake): every form a person can type goes one way — dedupe, one grammar, admission,
 * the job lifecycle — on a real bot, Redis and the Playground's HTTP API.
 */
import { Job } from 'bullmq';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import type { BotRequest } from '../../src/chat/types.js';
import { botReplies, PlaygroundClient, startBot, testEnv, type TestEnv } from '../helpers/harness.js';

let t: TestEnv;
let bot: BotApp;
let pg: PlaygroundClient;

beforeAll(async () => {
  const t0 = await testEnv();
  const file = join(t0.dataDir, 'zimage.yml');
  writeFileSync(file, 'generation: { maxTokens: 400 }\nquota: { default: 100/day, admins: ["playground:local:boss"] }\n');
  t = await testEnv({ CONFIG_FILE: file, DATA_DIR: t0.dataDir, QUEUE_PREFIX: t0.prefix });
  bot = await startBot(t);
  pg = new PlaygroundClient(`http://127.0.0.1:${bot.boundPort}`);
});
afterAll(async () => { await bot?.stop(); t?.cleanup(); });

async function answer(user: string, text: string): Promise<string> {
  const { threadId } = await pg.post(user, text);
  return botReplies(await pg.waitFor(threadId, (m) => botReplies(m).length >= 1))[0]!.text;
}

/** The job queued by the newest command of `user`. */
async function lastJob(user: string) {
  const jobs = await bot.queues.generate.getJobs(['prioritized', 'waiting'], 0, -1);
  return jobs.filter((j) => j.data.origin.user === user).sort((a, b) => b.timestamp - a.timestamp)[0]!;
}

describe('one grammar for every form', () => {
  it('a free prompt with options is queued with them', async () => {
    expect(await answer('ann', '/zimage a red kite --seed 7 --size 512x512 --steps 4')).toMatch(/^Queued/);
    expect((await lastJob('ann')).data.params).toMatchObject({ prompt: 'a red kite', seed: 7, width: 512, height: 512, steps: 4, count: 1 });
  });

  it('a preset by its name, and the same with --template, make the same job from the preset', async () => {
    expect(await answer('bea', '/zimage poster subject="summer sale" --seed 3')).toMatch(/^Queued/);
    const byName = (await lastJob('bea')).data;
    expect(await answer('bea', '/zimage --template poster subject="summer sale" --seed 3')).toMatch(/^Queued/);
    const byFlag = (await lastJob('bea')).data;
    expect(byName.template?.id).toBe('poster');
    expect(byName.params.prompt).toContain('summer sale');
    expect(byFlag.params).toEqual(byName.params);
    expect(byFlag.template).toEqual(byName.template);
  });

  it('a free prompt that starts with a preset name stays a prompt', async () => {
    expect(await answer('cid', '/zimage poster of a cat in the rain')).toMatch(/^Queued/);
    const job = await lastJob('cid');
    expect(job.data.params.prompt).toBe('poster of a cat in the rain');
    expect(job.data.template).toBeUndefined();
  });

  it('--template with something else than variables and options is explained, nothing queued', async () => {
    const before = await bot.queues.generate.count();
    expect(await answer('dan', '/zimage --template poster please make it nice')).toMatch(/template/i);
    expect(await bot.queues.generate.count()).toBe(before);
  });

  it('help, a subcommand, a bad option and a prompt over the token limit each get their answer and queue nothing', async () => {
    const before = await bot.queues.generate.count();
    expect(await answer('eve', '/zimage help')).toMatch(/--size/);
    expect(await answer('eve', '/zimage quota')).toMatch(/^Your role: member/);
    expect(await answer('eve', '/zimage a cat --szie 512x512')).toMatch(/--szie.*--size/);
    expect(await answer('eve', `/zimage ${'many words here '.repeat(150)}`)).toMatch(/too long for the model: \d+ tokens, the limit is 400/);
    expect(await bot.queues.generate.count()).toBe(before);
  });
});

describe('dedupe before anything is visible', () => {
  const request = (eventId: string, text: string): BotRequest => ({
    platform: 'playground', workspace: 'local', channel: 'general', thread: '', user: 'fay', text, eventId,
  });

  it('the same event twice: one job, one answer — for a generation and for any other command', async () => {
    const { threadId } = await pg.post('fay', 'a thread to answer in');
    const thread = `playground:${threadId}`;
    const before = await bot.queues.generate.count();
    const gen = { ...request('evt-gen-1', 'a lighthouse --size 256x256'), thread };
    await bot.intake.handle(gen);
    await bot.intake.handle(gen);
    expect(await bot.queues.generate.count()).toBe(before + 1);
    const help = { ...request('evt-help-1', 'help'), thread };
    await bot.intake.handle(help);
    await bot.intake.handle(help);
    // Positive control: another event id is answered again.
    await bot.intake.handle({ ...help, eventId: 'evt-help-2' });
    const replies = botReplies(await pg.thread(threadId)).filter((m) => /--size/.test(m.text));
    expect(replies).toHaveLength(2);
  });

  it('someone who just asked is admitted on the remembered standing; a manager’s change still applies to the next command; a retried event does nothing', async () => {
    expect(await answer('gus', '/zimage one --size 256x256')).toMatch(/^Queued/);
    expect(bot.quota.recent({ platform: 'playground', workspace: 'local', user: 'gus' })).not.toBeNull();
    expect(await answer('gus', '/zimage two --size 256x256')).toMatch(/^Queued/);
    // The remembered standing is stale now: the next command is admitted on the new limit.
    expect(await answer('boss', '/zimage quota set @gus 2/day')).toMatch(/^Done/);
    expect(await answer('gus', '/zimage three --size 256x256')).toMatch(/^Over quota: this needs 1 image, and you have used 2 of 2 today/);
    // A retried platform event of someone remembered: nothing charged, nothing posted.
    expect(await answer('boss', '/zimage quota set @gus 10/day')).toMatch(/^Done/);
    const { threadId } = await pg.post('gus', 'a thread');
    const replay: BotRequest = { platform: 'playground', workspace: 'local', channel: 'general', thread: `playground:${threadId}`, user: 'gus', text: 'four --size 256x256', eventId: 'evt-gus-4' };
    await bot.intake.handle(replay);
    const used = (await bot.quota.standing({ platform: 'playground', workspace: 'local', user: 'gus' })).used;
    await bot.intake.handle(replay); // resolves once the request was routed: answered, queued or dropped
    expect((await bot.quota.standing({ platform: 'playground', workspace: 'local', user: 'gus' })).used).toBe(used);
    expect(botReplies(await pg.thread(threadId)).filter((m) => m.status)).toHaveLength(1);
  });
});

describe('failures while routing', () => {
  it('an unexpected failure is answered in plain words with a reference, nothing is queued, and the next command works', async () => {
    // Writing this one job fails (only this one: the bot's other work goes on around it).
    const addJob = Job.prototype.addJob;
    Job.prototype.addJob = function (this: Job, ...args: Parameters<typeof addJob>) {
      if ((this.data as { params?: { prompt?: string } }).params?.prompt === 'an injected failure') throw new Error('injected failure while writing the job');
      return addJob.apply(this, args);
    };
    try {
      const before = await bot.queues.generate.count();
      expect(await answer('eli', '/zimage an injected failure --seed 1')).toMatch(/^Something went wrong on our side\. .*\(reference [0-9a-z]+\)$/);
      expect(await bot.queues.generate.count()).toBe(before);
      expect(await answer('eli', '/zimage a lighthouse at dusk --seed 2')).toMatch(/^Queued/);
    } finally {
      Job.prototype.addJob = addJob;
    }
  });
});
