/**
 * The burst scenario of `npm run bench:load`: many people send a command at the same instant — a big channel's
 * morning — through the Playground API or as signed Slack slash commands (Slack's Web API answered by a local
 * fake). Measures how fast each person gets the ack (HTTP answer) and how fast the bot admits the whole burst
 * (quota, grammar, fair-share place, job in Redis): commands accepted and queued per second, from the instant
 * of the burst to the last job written. No workers run, so every admitted job stays in line to be counted;
 * the bot is warmed first by a smaller burst of other people.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../src/infra/embedded-redis.js';
import { GENERATE_QUEUE } from '../../src/jobs/queues.js';
import type { GenerateJobData } from '../../src/jobs/types.js';
import { SIGNING_SECRET, signedHeaders, slashCommand } from '../helpers/slack-requests.js';
import { httpJson, metricValue, openSession, send, type HttpAnswer } from './bench-http.js';
import { processCpuSeconds, spawnNode, stopChild } from './bench-processes.js';
import { percentile } from './stats.js';

export type BurstEntry = 'playground' | 'slack';

export interface BurstScenario { name: string; entry: BurstEntry; people: number; warmupPeople: number }

export const BURSTS: Record<string, BurstScenario> = {
  'burst-playground': { name: 'burst: 500 people at once, Playground API', entry: 'playground', people: 500, warmupPeople: 200 },
  'burst-slack': { name: 'burst: 500 people at once, signed Slack slash commands', entry: 'slack', people: 500, warmupPeople: 200 },
};

export interface BurstResult {
  scenario: BurstScenario;
  sent: number;
  acked: number;
  queued: number;
  ackMs: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  /** Per person: sent → their job written to the queue. */
  admitMs: { p50: number | null; p99: number | null; max: number | null };
  /** The burst's instant → its last job in the queue. */
  spanMs: number | null;
  admissionPerS: number | null;
  /** How long the load generator itself took to hand all requests to the socket layer. */
  sendSpanMs: number;
  botRssMb: number | null;
  /** The bot's CPU time (user + system) from the burst's instant until its last job was queued, per command. */
  botCpuMsPerCommand: number | null;
  /** Redis commands served per command over the burst (INFO commandstats: the scripts' own calls included), and by whom: the client's round trips. */
  redisCallsPerCommand: number;
  redisTopCalls: string;
  /** Redis's own CPU time (user + system) over the burst, per command: it shares the machine with the bot. */
  redisCpuMsPerCommand: number;
  /** The load generator's own CPU time over the burst, per command (it runs on the same machine). */
  clientCpuMsPerCommand: number;
  /** The fake Slack Web API's CPU time over the burst, per command (a process of its own; 0 for the Playground). */
  fakeApiCpuMsPerCommand: number;
  errors: string[];
}

interface Person { id: string; sentAt: number; answer?: HttpAnswer; error?: string; ackMs?: number }

export async function runBurst(s: BurstScenario, redisUrl: string, modelDir: string, index: number): Promise<BurstResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'zimage-burst-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const prefix = `burst${index}x${Date.now().toString(36)}`;
  const fake = s.entry === 'slack' ? await startFakeApis() : null;
  const env: NodeJS.ProcessEnv = {
    ...process.env, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port),
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', ZIMAGE_MODEL_DIR: modelDir, CONFIG_FILE: '',
    ...(fake
      ? { PLAYGROUND: 'false', SLACK_MODE: 'http', SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: `${fake.url}/api/` }
      : { PLAYGROUND: 'true' }),
  };
  const bot = spawnNode('dist/src/main/bot.js', env, 'bot');
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<GenerateJobData>(GENERATE_QUEUE, { connection: redis, prefix });
  const errors: string[] = [];
  try {
    for (const readyBy = Date.now() + 60_000; ;) {
      const r = await httpJson(base, 'GET', '/healthz').catch(() => null);
      if (r?.status === 200) break;
      if (bot.exitCode !== null) throw new Error('the bot exited at start (BENCH_DEBUG=1 shows its output)');
      if (Date.now() > readyBy) throw new Error(`the bot is not ready on ${base}`);
      await sleep(200);
    }
    const warm = Array.from({ length: s.warmupPeople }, (_, i) => `warm${i}`);
    const people = Array.from({ length: s.people }, (_, i) => `p${i}`);
    if (s.entry === 'playground') for (const id of [...warm, ...people]) await openSession(base, id);

    // A smaller burst by other people first (a bot in service is warm), then the measured one.
    await fire(s.entry, base, warm);
    await untilQueued(queue, warm.length);
    await sleep(1000);
    const cpu0 = await botCpuSeconds(base);
    const calls0 = await redisCalls(redis);
    const redisCpu0 = await redisCpuSeconds(redis);
    const client0 = process.cpuUsage();
    const fake0 = fake ? processCpuSeconds(fake.child.pid!) : 0;
    const t0 = Date.now();
    const { persons, sendSpanMs } = await fire(s.entry, base, people);
    const queued = await untilQueued(queue, warm.length + people.length);
    const cpu1 = await botCpuSeconds(base);
    const calls1 = await redisCalls(redis);
    const redisCpu1 = await redisCpuSeconds(redis);
    const client = process.cpuUsage(client0);
    const fakeCpu = fake ? processCpuSeconds(fake.child.pid!) - fake0 : 0;
    const calls = [...calls1].map(([k, v]) => [k, (v - (calls0.get(k) ?? 0)) / people.length] as const)
      .filter(([k, v]) => v > 0 && k !== 'info').sort((a, b) => b[1] - a[1]);

    const jobs = await queue.getJobs(['prioritized', 'waiting', 'delayed'], 0, -1);
    const byPerson = new Map(persons.map((p) => [p.id, p]));
    const admit: number[] = [];
    let last = 0;
    for (const job of jobs) {
      const who = personOf(s.entry, job.data.origin.user);
      const p = who ? byPerson.get(who) : undefined;
      if (!p) continue;
      admit.push(job.timestamp - p.sentAt);
      last = Math.max(last, job.timestamp);
    }
    const acks = persons.flatMap((p) => (p.ackMs === undefined ? [] : [p.ackMs]));
    const good = persons.filter((p) => p.answer && p.answer.status >= 200 && p.answer.status < 300);
    for (const p of persons) if (!good.includes(p) && errors.length < 10) errors.push(p.error ?? `HTTP ${p.answer?.status}: ${p.answer?.text.slice(0, 120)}`);
    if (admit.length < people.length && errors.length < 10) errors.push(`${people.length - admit.length} commands were not queued within the wait`);
    const spanMs = admit.length ? last - t0 : null;
    const metrics = await httpJson(base, 'GET', '/metrics').catch(() => null);
    const rss = metrics ? metricValue(metrics.text, 'process_resident_memory_bytes') : 0;
    return {
      scenario: s, sent: persons.length, acked: good.length, queued: Math.max(0, queued - warm.length),
      ackMs: { p50: percentile(acks, 50), p95: percentile(acks, 95), p99: percentile(acks, 99), max: percentile(acks, 100) },
      admitMs: { p50: percentile(admit, 50), p99: percentile(admit, 99), max: percentile(admit, 100) },
      spanMs, admissionPerS: spanMs ? Math.round((admit.length / spanMs) * 1000) : null, sendSpanMs,
      botRssMb: rss ? Math.round(rss / 1048576) : null,
      botCpuMsPerCommand: cpu0 !== null && cpu1 !== null ? Math.round(((cpu1 - cpu0) * 1000 / people.length) * 100) / 100 : null,
      redisCallsPerCommand: Math.round(calls.reduce((a, [, v]) => a + v, 0)),
      redisTopCalls: calls.slice(0, 6).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', '),
      redisCpuMsPerCommand: Math.round(((redisCpu1 - redisCpu0) * 1000 / people.length) * 100) / 100,
      clientCpuMsPerCommand: Math.round(((client.user + client.system) / 1000 / people.length) * 100) / 100,
      fakeApiCpuMsPerCommand: Math.round((fakeCpu * 1000 / people.length) * 100) / 100, errors,
    };
  } finally {
    await queue.close();
    redis.disconnect();
    await stopChild(bot);
    if (fake) await stopChild(fake.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Everyone's command at once: every request handed to the socket layer in one go, then all answers awaited. */
async function fire(entry: BurstEntry, base: string, ids: string[]): Promise<{ persons: Person[]; sendSpanMs: number }> {
  // Bodies (and Slack's signatures) are made before the instant, as each person's client would have them ready.
  const requests = ids.map((id, i) => {
    const text = `a lighthouse at dusk, picture of ${id} --size 512x512 --steps 8 --seed ${i + 1}`;
    if (entry === 'playground') {
      return { id, path: '/api/playground/messages', body: Buffer.from(JSON.stringify({ user: id, text: `/zimage ${text}` })), headers: { 'content-type': 'application/json' } };
    }
    const body = slashCommand(text, { user: slackUser(id), channel: 'C0MORNING' });
    return { id, path: '/slack/events', body: Buffer.from(body), headers: signedHeaders(body, 'application/x-www-form-urlencoded') };
  });
  const start = Date.now();
  const persons: Person[] = [];
  const pending = requests.map((r) => {
    const p: Person = { id: r.id, sentAt: Date.now() };
    persons.push(p);
    return send(base, 'POST', r.path, { body: r.body, headers: r.headers, ...(entry === 'playground' ? { as: r.id } : {}) }).then(
      (answer) => { p.answer = answer; p.ackMs = Date.now() - p.sentAt; },
      (err: unknown) => { p.error = String(err); },
    );
  });
  const sendSpanMs = Date.now() - start;
  await Promise.all(pending);
  return { persons, sendSpanMs };
}

const slackUser = (id: string): string => `U${id.toUpperCase()}`;
const personOf = (entry: BurstEntry, user: string): string | null =>
  entry === 'slack' ? (user.startsWith('UP') ? user.slice(1).toLowerCase() : null) : user;

/** Redis's own count of the calls it has served, per command name (INFO commandstats). */
async function redisCalls(redis: Redis): Promise<Map<string, number>> {
  const text = await redis.info('commandstats');
  const calls = new Map<string, number>();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1]!, Number(m[2]));
  return calls;
}

/** Redis's CPU seconds so far (INFO cpu: its main thread and the others, user + system). */
async function redisCpuSeconds(redis: Redis): Promise<number> {
  const text = await redis.info('cpu');
  const of = (name: string): number => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(text)?.[1] ?? 0);
  return of('used_cpu_user') + of('used_cpu_sys');
}

async function botCpuSeconds(base: string): Promise<number | null> {
  const m = await httpJson(base, 'GET', '/metrics').catch(() => null);
  return m ? metricValue(m.text, 'process_cpu_seconds_total') : null;
}

/** Wait until `n` jobs are in line (or 60 s pass); returns how many are. */
async function untilQueued(queue: Queue, n: number): Promise<number> {
  let count = 0;
  for (const until = Date.now() + 60_000; Date.now() < until; await sleep(20)) {
    count = await queue.count();
    if (count >= n) break;
  }
  return count;
}

/** The fake Slack Web API in its own process (fake-apis-process.ts): its URL once it listens. */
async function startFakeApis(): Promise<{ url: string; child: ReturnType<typeof spawnNode> }> {
  const child = spawnNode('dist/test/bench/fake-apis-process.js', process.env, 'fake-api');
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0]!;
      if (out.includes('\n')) ok((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => fail(new Error(`the fake Slack API exited (${code})`)));
  });
  return { url, child };
}
