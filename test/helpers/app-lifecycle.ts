/**
 * Helpers for the process-lifecycle tests (test/integration/lifecycle-*.test.ts): real processes from dist/ on a
 * data directory of their own, each removed after its test (call `cleanUpAfterEach()` in the test file).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/infra/embedded-redis.js';
import { untilNothingLeftToDeliver } from './deliveries-settled.js';
import { demoModelDir, images, PlaygroundClient, statusOf, type PgMessage } from './harness.js';
import { killGroup, killPid, logLines, redisServersOn, spawnApp, until, waitListening, type AppProcess } from './processes.js';

export const cleanups: Array<() => Promise<void> | void> = [];

/** Run the cleanups the helpers (and the test) registered, after each test. */
export function cleanUpAfterEach(): void {
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });
}

/** Slack on top of the bound for the OS to deliver the signal and reap the process on a loaded machine. */
export const EXIT_SLACK_MS = 1500;

export interface Site { dataDir: string; env: Record<string, string> }
/** A process answering HTTP, and a Playground client on its port. */
export type Running = AppProcess & { port: number; pg: PlaygroundClient };

export async function site(env: Record<string, string> = {}): Promise<Site> {
  const dataDir = mkdtempSync(join(tmpdir(), 'zimage-life-'));
  cleanups.push(() => {
    for (const pid of redisServersOn(join(dataDir, 'redis'))) killPid(pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    dataDir,
    env: {
      DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', ZIMAGE_MODEL_DIR: await demoModelDir(), LOG_LEVEL: 'info',
      STATUS_TICK_MS: '100', WORKER_LOCK_MS: '3000', WORKER_STALLED_INTERVAL_MS: '1000', CONFIG_FILE: '', ...env,
    },
  };
}

/** Start `dist/<entry>` on the site and wait until it answers HTTP. */
export async function serving(entry: string, s: Site, env: Record<string, string> = {}): Promise<Running> {
  const app = spawnApp(entry, { ...s.env, ...env });
  cleanups.push(() => killGroup(app.pid, 'SIGKILL'));
  const port = await waitListening(app);
  return Object.assign(app, { port, pg: new PlaygroundClient(`http://127.0.0.1:${port}`) });
}

/** `npm start` (dist/src/main/start.js) on the site. */
export const startAll = (s: Site, env: Record<string, string> = {}): Promise<Running> => serving('src/main/start.js', s, env);

/** `npm start` on a fresh site with a job that is generating. */
export async function startedWithJob(env: Record<string, string>, text: string): Promise<{ s: Site; redisDir: string; app: Running; pg: PlaygroundClient; threadId: string }> {
  const s = await site(env);
  const app = await startAll(s);
  return { s, redisDir: join(s.dataDir, 'redis'), app, pg: app.pg, threadId: await generatingJob(app.pg, text) };
}

/** `npm run bot` and `npm run worker` against a Redis of the test's own, both ready. */
export async function botAndWorker(env: Record<string, string>): Promise<{ s: Site; redis: EmbeddedRedis; bot: Running; worker: AppProcess; pg: PlaygroundClient }> {
  const redisDir = mkdtempSync(join(tmpdir(), 'zimage-life-redis-'));
  const redis = await startEmbeddedRedis({ dir: redisDir });
  cleanups.push(async () => { await redis.stop(); rmSync(redisDir, { recursive: true, force: true }); });
  const s = await site({ REDIS_URL: redis.url, ...env });
  const worker = spawnApp('worker/main.js', s.env);
  cleanups.push(() => killGroup(worker.pid, 'SIGKILL'));
  const bot = await serving('src/main/bot.js', s);
  await until(() => logLines(worker.output(), /^worker ready$/).length === 1, 60_000, 'the worker to be ready');
  return { s, redis, bot, worker, pg: bot.pg };
}

/** Connections made to `port` within `ms`, each reset as soon as it arrives. */
export async function connectionsWithin(port: number, ms: number): Promise<number> {
  let n = 0;
  const server = createServer((socket) => { n++; socket.resetAndDestroy(); });
  // The killed server's port may take a moment to be free.
  await until(() => new Promise<boolean>((ok) => {
    server.once('error', () => ok(false));
    server.listen(port, '127.0.0.1', () => ok(true));
  }), 5000, `port ${port} to be free`);
  await new Promise((ok) => setTimeout(ok, ms));
  await new Promise((ok) => server.close(ok));
  return n;
}

export async function generatingJob(pg: PlaygroundClient, text: string): Promise<string> {
  const { threadId } = await pg.post('gina', text);
  await pg.waitFor(threadId, (m) => statusOf(m)?.status?.phase === 'generating' && (statusOf(m)?.status?.step ?? 0) >= 1, 30_000);
  return threadId;
}

/** The thread shows exactly one image and a "done" status, and still does once nothing is left to deliver. */
export async function deliveredOnce(pg: PlaygroundClient, threadId: string): Promise<PgMessage[]> {
  await pg.waitFor(threadId, (m) => images(m).length >= 1 && statusOf(m)?.status?.phase === 'done', 60_000);
  await untilNothingLeftToDeliver(pg.base); // no run or delivery pending: a second delivery would have arrived by now
  const msgs = await pg.thread(threadId);
  expect(images(msgs)).toHaveLength(1);
  expect(msgs.filter((m) => m.status)).toHaveLength(1);
  return msgs;
}

export async function stopAndWait(app: AppProcess, boundMs: number): Promise<number> {
  const sent = Date.now();
  killGroup(app.pid, 'SIGTERM');
  const timeout = new Promise<null>((ok) => setTimeout(() => ok(null), boundMs + EXIT_SLACK_MS + 5000));
  const exit = await Promise.race([app.exited, timeout]);
  if (!exit) throw new Error(`still running ${boundMs + EXIT_SLACK_MS + 5000} ms after SIGTERM (bound ${boundMs} ms); output tail:\n${app.output().slice(-3000)}`);
  return exit.at - sent;
}

