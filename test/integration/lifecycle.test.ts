/**
 * The processes' lifecycle, with real processes (dist/), real Redis and the demo model: a process-group SIGTERM
 * (a terminal's Ctrl+C, systemd) during a running job, with and without the private Redis dying at the same
 * moment; `kill -9` of `npm start`'s node process (and of its Redis supervisor too); `npm run bot` and
 * `npm run worker` told to stop while their Redis is gone. Each exits within SHUTDOWN_TIMEOUT_MS, the private
 * Redis is never started twice on one data directory, and every job is delivered once after the next start.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startEmbeddedRedis, type EmbeddedRedis } from '../../src/infra/embedded-redis.js';
import { untilNothingLeftToDeliver } from '../helpers/deliveries-settled.js';
import { demoModelDir, images, PlaygroundClient, statusOf, type PgMessage } from '../helpers/harness.js';
import {
  groupMembers, isAlive, killGroup, killPid, logLines, redisServersOn, spawnApp, until, waitListening, type AppProcess,
} from '../helpers/processes.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Slack on top of the bound for the OS to deliver the signal and reap the process on a loaded machine. */
const EXIT_SLACK_MS = 1500;

interface Site { dataDir: string; env: Record<string, string> }
/** A process answering HTTP, and a Playground client on its port. */
type Running = AppProcess & { port: number; pg: PlaygroundClient };

async function site(env: Record<string, string> = {}): Promise<Site> {
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
async function serving(entry: string, s: Site, env: Record<string, string> = {}): Promise<Running> {
  const app = spawnApp(entry, { ...s.env, ...env });
  cleanups.push(() => killGroup(app.pid, 'SIGKILL'));
  const port = await waitListening(app);
  return Object.assign(app, { port, pg: new PlaygroundClient(`http://127.0.0.1:${port}`) });
}

/** `npm start` (dist/src/main/start.js) on the site. */
const startAll = (s: Site, env: Record<string, string> = {}): Promise<Running> => serving('src/main/start.js', s, env);

/** `npm start` on a fresh site with a job that is generating. */
async function startedWithJob(env: Record<string, string>, text: string): Promise<{ s: Site; redisDir: string; app: Running; pg: PlaygroundClient; threadId: string }> {
  const s = await site(env);
  const app = await startAll(s);
  return { s, redisDir: join(s.dataDir, 'redis'), app, pg: app.pg, threadId: await generatingJob(app.pg, text) };
}

/** `npm run bot` and `npm run worker` against a Redis of the test's own, both ready. */
async function botAndWorker(env: Record<string, string>): Promise<{ s: Site; redis: EmbeddedRedis; bot: Running; worker: AppProcess; pg: PlaygroundClient }> {
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
async function connectionsWithin(port: number, ms: number): Promise<number> {
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

async function generatingJob(pg: PlaygroundClient, text: string): Promise<string> {
  const { threadId } = await pg.post('gina', text);
  await pg.waitFor(threadId, (m) => statusOf(m)?.status?.phase === 'generating' && (statusOf(m)?.status?.step ?? 0) >= 1, 30_000);
  return threadId;
}

/** The thread shows exactly one image and a "done" status, and still does once nothing is left to deliver. */
async function deliveredOnce(pg: PlaygroundClient, threadId: string): Promise<PgMessage[]> {
  await pg.waitFor(threadId, (m) => images(m).length >= 1 && statusOf(m)?.status?.phase === 'done', 60_000);
  await untilNothingLeftToDeliver(pg.base); // no run or delivery pending: a second delivery would have arrived by now
  const msgs = await pg.thread(threadId);
  expect(images(msgs)).toHaveLength(1);
  expect(msgs.filter((m) => m.status)).toHaveLength(1);
  return msgs;
}

async function stopAndWait(app: AppProcess, boundMs: number): Promise<number> {
  const sent = Date.now();
  killGroup(app.pid, 'SIGTERM');
  const timeout = new Promise<null>((ok) => setTimeout(() => ok(null), boundMs + EXIT_SLACK_MS + 5000));
  const exit = await Promise.race([app.exited, timeout]);
  if (!exit) throw new Error(`still running ${boundMs + EXIT_SLACK_MS + 5000} ms after SIGTERM (bound ${boundMs} ms); output tail:\n${app.output().slice(-3000)}`);
  return exit.at - sent;
}

describe('npm start: group SIGTERM during a running job', () => {
  it('the job finishes inside the bound, is delivered, and everything (the private Redis last) stops', async () => {
    const { s, app, threadId } = await startedWithJob({ DEMO_STEP_DELAY_MS: '250', SHUTDOWN_TIMEOUT_MS: '6000' }, '/zimage a lighthouse --size 256x256 --steps 6 --seed 1');
    const ms = await stopAndWait(app, 6000);
    expect(ms).toBeLessThan(6000 + EXIT_SLACK_MS);
    expect(logLines(app.output(), /^generated$/), app.output().slice(-4000)).toHaveLength(1); // finished before the exit
    expect(logLines(app.output(), /^delivered$/)).toHaveLength(1);
    await until(() => redisServersOn(join(s.dataDir, 'redis')).length === 0, 5000, 'the private redis-server to stop');
    const again = await startAll(s);
    await deliveredOnce(again.pg, threadId);
    await stopAndWait(again, 6000);
  }, 120_000);

  it('with the private Redis SIGTERMed at the same moment: exits within the bound; the job is delivered once after the next start', async () => {
    const { s, redisDir, app, threadId } = await startedWithJob({ DEMO_STEP_DELAY_MS: '400', SHUTDOWN_TIMEOUT_MS: '2500' }, '/zimage a storm at sea --size 256x256 --steps 10 --seed 2');
    const [redisPid] = redisServersOn(redisDir);
    expect(redisPid).toBeDefined();
    killPid(redisPid!, 'SIGTERM'); // what systemd's default KillMode=control-group does to every process of the unit
    const ms = await stopAndWait(app, 2500);
    expect(ms).toBeLessThan(2500 + EXIT_SLACK_MS);
    expect(logLines(app.output(), /^generated$/)).toHaveLength(0); // it was cut short
    const again = await startAll(s, { DEMO_STEP_DELAY_MS: '0' });
    const msgs = await deliveredOnce(again.pg, threadId);
    expect(images(msgs)[0]!.metadata!.seed).toBe(2);
    await stopAndWait(again, 2500);
  }, 120_000);
});

describe('npm start: its private Redis SIGKILLed mid-job', () => {
  it('/readyz says 503 within 1 s; npm start starts Redis again on the same port and data; the job is delivered once', async () => {
    const { redisDir, app, pg, threadId } = await startedWithJob({ DEMO_STEP_DELAY_MS: '200', SHUTDOWN_TIMEOUT_MS: '3000' }, '/zimage a windmill --size 256x256 --steps 10 --seed 7');
    const [dead] = redisServersOn(redisDir);
    killPid(dead!, 'SIGKILL');
    const t0 = Date.now();
    const res = await fetch(`http://127.0.0.1:${app.port}/readyz`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(503);
    expect(Date.now() - t0).toBeLessThan(1000);
    await deliveredOnce(pg, threadId);
    const servers = redisServersOn(redisDir);
    expect(servers).toHaveLength(1);
    expect(servers[0]).not.toBe(dead);
    expect(logLines(app.output(), /running again/)).toHaveLength(1);
    await stopAndWait(app, 3000);
  }, 120_000);
});

describe('npm start: kill -9', () => {
  it('of the node process: the next start runs exactly one redis-server on the data directory, nothing lost', async () => {
    const { s, redisDir, app, pg, threadId: running } = await startedWithJob({ DEMO_STEP_DELAY_MS: '300', SHUTDOWN_TIMEOUT_MS: '3000' }, '/zimage a red fox --size 256x256 --steps 8 --seed 3');
    const queued = (await pg.post('hugo', '/zimage a blue whale --size 256x256 --steps 2 --seed 4')).threadId;
    await pg.waitFor(queued, (m) => statusOf(m)?.status !== undefined, 10_000);
    killPid(app.pid, 'SIGKILL');
    await app.exited;
    const again = await startAll(s, { DEMO_STEP_DELAY_MS: '0' });
    expect(redisServersOn(redisDir)).toHaveLength(1);
    await deliveredOnce(again.pg, running);
    await deliveredOnce(again.pg, queued);
    expect(redisServersOn(redisDir)).toHaveLength(1);
    await stopAndWait(again, 3000);
    await until(() => redisServersOn(redisDir).length === 0, 5000, 'the private redis-server to stop');
  }, 120_000);

  it('of the node process and everything else in its group but Redis: the orphan is stopped, one redis-server runs, nothing lost', async () => {
    const s = await site({ DEMO_STEP_DELAY_MS: '0', SHUTDOWN_TIMEOUT_MS: '3000' });
    const redisDir = join(s.dataDir, 'redis');
    const app = await startAll(s);
    const pg = app.pg;
    const done = (await pg.post('ivy', '/zimage a paper boat --size 256x256 --steps 2 --seed 5')).threadId;
    await deliveredOnce(pg, done);
    const [orphan] = redisServersOn(redisDir);
    expect(orphan).toBeDefined();
    // SIGKILL whatever watches over the private Redis (whichever group it is in), then the node process.
    const redisGroup = Number(readFileSync(`/proc/${orphan}/stat`, 'utf8').split(') ')[1]!.split(' ')[2]);
    for (const pid of [...groupMembers(redisGroup), ...groupMembers(app.pid)]) if (pid !== orphan) killPid(pid, 'SIGKILL');
    await app.exited;
    expect(isAlive(orphan!)).toBe(true);
    const again = await startAll(s);
    const servers = redisServersOn(redisDir);
    expect(servers).toHaveLength(1);
    expect(servers[0]).not.toBe(orphan);
    expect(isAlive(orphan!)).toBe(false);
    const msgs = await again.pg.thread(done); // the data survived the orphan's stop
    expect(images(msgs)).toHaveLength(1);
    await stopAndWait(again, 3000);
  }, 120_000);
});

describe('npm run worker: SIGTERM while a job runs longer than the bound', () => {
  it('exits within the bound and hands the job back at once: another worker delivers it once, long before its lock would expire', async () => {
    // A 60 s lock: were the job left to the stalled-job check, the second worker could not have it for a minute.
    const { s, bot, worker: first, pg } = await botAndWorker({ SHUTDOWN_TIMEOUT_MS: '2000', DEMO_STEP_DELAY_MS: '400', WORKER_LOCK_MS: '60000', WORKER_STALLED_INTERVAL_MS: '30000' });
    const threadId = await generatingJob(pg, '/zimage an old mill --size 256x256 --steps 12 --seed 6');
    const ms = await stopAndWait(first, 2000);
    expect(ms).toBeLessThan(2000 + EXIT_SLACK_MS);
    expect(logLines(first.output(), /handed back to the queue/)).toHaveLength(1);
    const handedBack = Date.now();
    const second = spawnApp('worker/main.js', { ...s.env, DEMO_STEP_DELAY_MS: '0' });
    cleanups.push(() => killGroup(second.pid, 'SIGKILL'));
    const msgs = await deliveredOnce(pg, threadId);
    expect(Date.now() - handedBack).toBeLessThan(30_000); // the lock (60 s) did not have to expire
    expect(images(msgs)[0]!.metadata!.seed).toBe(6);
    await Promise.all([stopAndWait(second, 2000), stopAndWait(bot, 2000)]);
  }, 120_000);
});

describe('npm run bot / npm run worker with their Redis gone', () => {
  it('each exits within the bound on SIGTERM, and says once that Redis is unreachable', async () => {
    const { redis, bot, worker } = await botAndWorker({ SHUTDOWN_TIMEOUT_MS: '2000', DEMO_STEP_DELAY_MS: '0' });
    redis.kill();
    await until(() => logLines(bot.output(), /unreachable/i).length >= 1 && logLines(worker.output(), /unreachable/i).length >= 1, 10_000,
      'both processes to notice that Redis is gone').catch(() => undefined); // asserted below, after the stop
    // Reconnect attempts pile up meanwhile — counted (the positive control of "said once"): a listener on the gone
    // server's port takes each attempt and cuts it at once.
    const attempts = await connectionsWithin(Number(new URL(redis.url).port), 2000);
    expect(attempts).toBeGreaterThanOrEqual(2);
    const [botMs, workerMs] = await Promise.all([stopAndWait(bot, 2000), stopAndWait(worker, 2000)]);
    expect(botMs).toBeLessThan(2000 + EXIT_SLACK_MS);
    expect(workerMs).toBeLessThan(2000 + EXIT_SLACK_MS);
    for (const p of [bot, worker]) {
      expect(logLines(p.output(), /unreachable/i)).toHaveLength(1);
      expect(p.output().match(/ECONNREFUSED/g)?.length ?? 0).toBeLessThanOrEqual(1);
      expect(p.output()).not.toMatch(/\n\s+at /); // no stack traces
    }
  }, 120_000);

  it('started while Redis is unreachable: each waits for it quietly and still exits within the bound on SIGTERM', async () => {
    const s = await site({ REDIS_URL: `redis://127.0.0.1:${await freePort()}`, SHUTDOWN_TIMEOUT_MS: '2000' });
    const apps = [spawnApp('src/main/bot.js', s.env), spawnApp('worker/main.js', s.env)];
    for (const a of apps) cleanups.push(() => killGroup(a.pid, 'SIGKILL'));
    await until(() => apps.every((a) => logLines(a.output(), /unreachable/i).length === 1), 60_000, 'both to report Redis unreachable');
    const ms = await Promise.all(apps.map((a) => stopAndWait(a, 2000)));
    for (const [i, a] of apps.entries()) {
      expect(ms[i]).toBeLessThan(2000 + EXIT_SLACK_MS);
      expect(logLines(a.output(), /unreachable/i)).toHaveLength(1);
      expect(a.output()).not.toMatch(/could not start|\n\s+at /);
    }
  }, 120_000);
});
