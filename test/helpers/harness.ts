/**
 * Integration harness: a real bot (with the Playground) and real workers on the demo model, against the
 * test run's Redis, each test with its own queue prefix and data directory.
 */
import type { AssetStore } from '../../src/assets/asset-store.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BotApp } from '../../src/app/bot-app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/infra/logger.js';
import { WorkerApp } from '../../worker/worker-app.js';
import { ensureDemoModel } from '../../worker/engine/demo-model/build.js';
import { pgFetch, pgPost } from './playground-http.js';
import { createTestDatabase } from './test-database.js';

export const REDIS_URL = (): string => {
  const url = process.env.ZIMAGE_TEST_REDIS_URL;
  if (!url) throw new Error('ZIMAGE_TEST_REDIS_URL is not set (test/setup/global-redis.ts)');
  return url;
};

/** A data dir shared by the whole run for the demo model (built once), plus a per-test outputs dir. */
const MODEL_DATA = join(tmpdir(), 'zimage-test-model');
export async function demoModelDir(): Promise<string> {
  return ensureDemoModel(MODEL_DATA);
}

export interface TestEnv {
  prefix: string;
  dataDir: string;
  env: Record<string, string>;
  config: Config;
  cleanup(): void;
}

/**
 * A test's environment. The image index goes to a fresh database of its own on the run's PostgreSQL server
 * (several bots of one test share it, as replicas do); `DATABASE_URL: ''` gives the embedded PGlite under the
 * data directory instead, as `npm start` has it.
 */
export async function testEnv(overrides: Record<string, string> = {}): Promise<TestEnv> {
  const prefix = overrides.QUEUE_PREFIX ?? `t${randomBytes(4).toString('hex')}`;
  const dataDir = overrides.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'zimage-it-'));
  const database = overrides.DATABASE_URL === undefined ? await createTestDatabase() : undefined;
  const env: Record<string, string> = {
    PORT: '0', HOST: '127.0.0.1', REDIS_URL: REDIS_URL(), DATA_DIR: dataDir, QUEUE_PREFIX: prefix,
    ZIMAGE_MODEL_DIR: await demoModelDir(), DEMO_STEP_DELAY_MS: '0', STATUS_TICK_MS: '100', LOG_LEVEL: 'silent',
    WORKER_LOCK_MS: '4000', WORKER_STALLED_INTERVAL_MS: '1000', CONFIG_FILE: '', ...(database ? { DATABASE_URL: database.url } : {}), ...overrides,
  };
  return {
    prefix, dataDir, env, config: loadConfig(env),
    cleanup: () => {
      rmSync(dataDir, { recursive: true, force: true });
      void database?.drop().catch(() => undefined);
    },
  };
}

/** A test's environment with a settings file of its own (`yaml`, in its data directory), e.g. admins or roles. */
export async function testEnvWithSettings(yaml: string, overrides: Record<string, string> = {}): Promise<TestEnv> {
  const first = await testEnv(overrides);
  const file = join(first.dataDir, 'zimage.yml');
  writeFileSync(file, yaml);
  const t = await testEnv({ ...first.env, CONFIG_FILE: file });
  return { ...t, cleanup: () => { t.cleanup(); first.cleanup(); } };
}

export async function startBot(t: TestEnv): Promise<BotApp> {
  const bot = new BotApp({ config: t.config, redisUrl: t.env.REDIS_URL ?? REDIS_URL(), log: createLogger(t.config.env.LOG_LEVEL) });
  await bot.start();
  return bot;
}

/** A bot with the Playground and one worker on the demo model, as `npm start` runs them; `stop` ends all three. */
export interface PlaygroundStack { t: TestEnv; bot: BotApp; worker: WorkerApp; pg: PlaygroundClient; stop(): Promise<void> }

export async function startPlaygroundStack(overrides: Record<string, string> = {}): Promise<PlaygroundStack> {
  const t = await testEnv(overrides);
  const bot = await startBot(t);
  const worker = await startWorker(t);
  return {
    t, bot, worker, pg: new PlaygroundClient(`http://127.0.0.1:${bot.boundPort}`),
    stop: async () => {
      await bot.stop();
      await worker.stop();
      t.cleanup();
    },
  };
}

export async function startWorker(t: TestEnv, env: Record<string, string> = {}, o: { assets?: AssetStore } = {}): Promise<WorkerApp> {
  const config = loadConfig({ ...t.env, ...env });
  const w = new WorkerApp({ config, redisUrl: config.env.REDIS_URL ?? REDIS_URL(), log: createLogger(config.env.LOG_LEVEL), ...o });
  await w.start();
  return w;
}

/** A worker in its own OS process (compiled code from dist/), so a test can SIGKILL it. */
export function spawnWorker(t: TestEnv, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [resolve('dist/worker/main.js')], {
    env: { ...process.env, ...t.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (d: Buffer) => { if (process.env.ZIMAGE_TEST_DEBUG) process.stderr.write(d); });
  return child;
}

export interface PgMessage {
  id: string; threadId: string; user: string; text: string; imageUrl?: string;
  metadata?: Record<string, unknown> & { seed: number; jobId: string; prompt: string };
  status?: { phase: string; position?: number; total?: number; step?: number; steps?: number };
  fields?: Array<{ label: string; value: string }>;
  privateTo?: string;
  file?: { url: string; name: string; title: string };
}

export class PlaygroundClient {
  constructor(readonly base: string) {}

  /** Post as `user`; `o.locale` is the browser's language the page would send. */
  async post(user: string, text: string, o: { locale?: string } = {}): Promise<{ messageId: string; threadId: string }> {
    const res = await pgPost(this.base, '/api/playground/messages', { user, text, ...(o.locale ? { locale: o.locale } : {}) });
    if (res.status !== 201) throw new Error(`POST messages → ${res.status} ${await res.text()}`);
    return (await res.json()) as { messageId: string; threadId: string };
  }

  /** The thread's messages; a 503 (Redis unreachable, e.g. while a test restarts it) is retried for up to 10 s. */
  async thread(threadId: string): Promise<PgMessage[]> {
    for (const until = Date.now() + 10_000; ;) {
      const res = await pgFetch(this.base, `/api/playground/threads/${threadId}`);
      if (res.status === 503 && Date.now() < until) { await res.arrayBuffer(); await sleep(100); continue; }
      if (!res.ok) throw new Error(`GET thread → ${res.status}`);
      return ((await res.json()) as { messages: PgMessage[] }).messages;
    }
  }

  /** Poll a thread until `done` says so (or time out with the last state in the message). */
  async waitFor(threadId: string, done: (m: PgMessage[]) => boolean, timeoutMs = 30_000): Promise<PgMessage[]> {
    const until = Date.now() + timeoutMs;
    let last: PgMessage[] = [];
    while (Date.now() < until) {
      last = await this.thread(threadId);
      if (done(last)) return last;
      await sleep(100);
    }
    throw new Error(`timed out waiting on thread ${threadId}: ${JSON.stringify(last.map((m) => [m.user, m.text, m.status?.phase]))}`);
  }
}

export const botReplies = (m: PgMessage[]): PgMessage[] => m.filter((x) => x.user === 'zimage');
export const images = (m: PgMessage[]): PgMessage[] => m.filter((x) => x.imageUrl);
export const statusOf = (m: PgMessage[]): PgMessage | undefined => m.find((x) => x.status);
export const finished = (count = 1) => (m: PgMessage[]): boolean =>
  images(m).length >= count && statusOf(m)?.status?.phase === 'done';
