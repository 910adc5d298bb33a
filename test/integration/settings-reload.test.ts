/**
 * The settings file is live: a running bot (no restart) takes each edit of a reloadable setting — the most
 * images per command, the default size, a role's size limit, status pacing, a workspace's reply language — for
 * the next command. Each test waits for the reload itself (the settings source's change signal, after the file
 * watcher saw the edit), then sends a command and reads what the bot did with it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import { botReplies, PlaygroundClient, startBot, statusOf, testEnv, type PgMessage } from '../helpers/harness.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

interface Running { app: BotApp; pg: PlaygroundClient; edit(yaml: string): Promise<void> }

/** A bot (no worker: jobs stay in line) reading its settings from a file that the test then edits. */
async function botWithSettings(yaml: string): Promise<Running> {
  const t0 = await testEnv();
  const file = join(t0.dataDir, 'zimage.yml');
  writeFileSync(file, yaml);
  const t = await testEnv({ CONFIG_FILE: file, DATA_DIR: t0.dataDir, QUEUE_PREFIX: t0.prefix });
  cleanups.push(() => t0.cleanup());
  const app = await startBot(t);
  cleanups.push(() => app.stop());
  return {
    app, pg: new PlaygroundClient(`http://127.0.0.1:${app.boundPort}`),
    edit: async (next) => {
      const reloaded = new Promise<void>((resolve) => app.settings.onChange(() => resolve()));
      // The watcher compares modification time and size; a new size makes the change visible at once.
      writeFileSync(file, next);
      await reloaded;
    },
  };
}

async function ask(pg: PlaygroundClient, user: string, text: string): Promise<{ threadId: string; reply: string }> {
  const { threadId } = await pg.post(user, text);
  const thread = await pg.waitFor(threadId, (m) => botReplies(m).length >= 1);
  return { threadId, reply: botReplies(thread)[0]!.text };
}

async function queuedJob(app: BotApp, prompt: string): Promise<{ width: number; height: number; count: number }> {
  const jobs = await app.queues.generate.getJobs(['waiting', 'prioritized']);
  const job = jobs.find((j) => j.data.params.prompt === prompt);
  if (!job) throw new Error(`no queued job for “${prompt}”`);
  return job.data.params;
}

describe('settings hot reload', () => {
  it('the most images per command and the default size apply to the next command', async () => {
    const bot = await botWithSettings('generation:\n  maxCount: 4\n  defaultSize: 512x512\n');
    expect((await ask(bot.pg, 'ann', '/zimage three foxes --count 3')).reply).toMatch(/^Queued/);
    expect(await queuedJob(bot.app, 'three foxes')).toMatchObject({ count: 3, width: 512, height: 512 });

    await bot.edit('generation:\n  maxCount: 2\n  defaultSize: 768x1024\n');
    expect((await ask(bot.pg, 'ann', '/zimage three owls --count 3')).reply).toMatch(/you can ask for 1 to 2 images at once/);
    expect((await ask(bot.pg, 'ann', '/zimage two owls --count 2')).reply).toMatch(/^Queued/);
    expect(await queuedJob(bot.app, 'two owls')).toMatchObject({ count: 2, width: 768, height: 1024 });
    // The help text follows too.
    expect((await ask(bot.pg, 'ann', '/zimage help')).reply).toContain('default 768x1024');
  });

  it('a role’s size limit applies to the next command of a person in that role', async () => {
    const settings = (maxSide: number): string =>
      `quota:\n  admins: ["playground:local:root"]\n  roles:\n    intern: { maxSide: ${maxSide} }\n`;
    const bot = await botWithSettings(settings(1024));
    await ask(bot.pg, 'root', '/zimage role set @ivy intern');
    expect((await ask(bot.pg, 'ivy', '/zimage a lake --size 768x768')).reply).toMatch(/^Queued/);
    await bot.edit(settings(512));
    expect((await ask(bot.pg, 'ivy', '/zimage a river --size 768x768')).reply).toMatch(/up to 512 pixels per side/);
    expect((await ask(bot.pg, 'ivy', '/zimage a river --size 512x512')).reply).toMatch(/^Queued/);
  });

  it('a workspace’s reply language applies to the next reply', async () => {
    const bot = await botWithSettings('locale: en\n');
    expect((await ask(bot.pg, 'ann', '/zimage a bridge --size 256x256')).reply).toMatch(/^Queued/);
    await bot.edit('locale: en\nworkspaceLocales:\n  "playground:local": zh-CN\n');
    const { reply } = await ask(bot.pg, 'ann', '/zimage a tower --size 256x256');
    expect(reply).toMatch(/排队/);
    expect(reply).not.toMatch(/Queued/);
  });

  it('status pacing: a long least-time between edits holds an edit back, and a shorter one set live lets it out', async () => {
    const bot = await botWithSettings('status:\n  minEditIntervalMs:\n    playground: 600000\n');
    const edits = async (): Promise<number> => {
      const text = await (await fetch(`${bot.pg.base}/metrics`)).text();
      return Number(/zimage_status_edits_total\{platform="playground",result="ok"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const shown = async (threadId: string): Promise<PgMessage['status']> => statusOf(await bot.pg.thread(threadId))?.status;

    const first = await ask(bot.pg, 'ann', '/zimage first --size 256x256');
    // The tracker's first look at a message edits it (it does not know what the message shows): wait for it.
    await waitUntil(async () => (await edits()) >= 1);
    expect(await shown(first.threadId)).toMatchObject({ phase: 'queued', position: 1, total: 1 });
    await ask(bot.pg, 'bob', '/zimage second --size 256x256');
    await waitUntil(async () => (await edits()) >= 2); // the second message's first look

    // The first message now should say "1 of 2", but its next edit is 10 minutes away.
    await sleep(1500);
    expect(await shown(first.threadId)).toMatchObject({ position: 1, total: 1 });
    expect(await edits()).toBe(2);

    await bot.edit('status:\n  minEditIntervalMs:\n    playground: 0\n');
    // Positive control: the same wait now shows the edit.
    await sleep(1500);
    expect(await shown(first.threadId)).toMatchObject({ position: 1, total: 2 });
  });
});

async function waitUntil(ok: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  for (const until = Date.now() + timeoutMs; !(await ok());) {
    if (Date.now() > until) throw new Error('timed out');
    await sleep(50);
  }
}
