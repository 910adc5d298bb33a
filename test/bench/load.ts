/**
 * `npm run bench:load` — the load benchmark (prints figures; not a timed test).
 *
 * Starts a private redis-server, the bot (`dist/src/main/bot.js`, Playground on 127.0.0.1) and a process of
 * generation workers, then drives the real HTTP entry (the Playground API) with N virtual users. Each user
 * sends a command, waits for its image (seen on the Playground's event stream), thinks, and sends again,
 * until the run's time is up; then every outstanding job gets a bounded time to finish.
 *
 * Scenarios: 20 / 100 / 500 users on the SYNTHETIC engine (fixed 1 s per image, like a GPU; see
 * worker/engine/synthetic-engine.ts) and 20 users on the demo model (real ONNX Runtime on the CPU).
 * Plus two bursts (test/bench/burst.ts): 500 people send a command at the same instant, through the Playground API and
 * as signed Slack slash commands.
 * Writes data/bench/load-<time>.json and .md. Options: --only 20,100,500,demo,burst-playground,burst-slack  --duration <s>
 * --warmup <s>  --out <dir>.
 */
import { PLAYGROUND_PACING } from '../../adapters/playground/playground-adapter.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startEmbeddedRedis } from '../../src/infra/embedded-redis.js';
import { ensureDemoModel } from '../../worker/engine/demo-model/build.js';
import { httpJson, metricValue, openSession, type Json } from './bench-http.js';
import { spawnNode, stopChild } from './bench-processes.js';
import { BURSTS, runBurst, type BurstResult } from './burst.js';
import { renderMarkdown } from './report.js';
import { busyFraction, jain, mean, percentile } from './stats.js';

export interface Scenario {
  name: string;
  users: number;
  workers: number;
  engine: 'synthetic' | 'demo';
  serviceMs: number;
  durationMs: number;
  thinkMs: [number, number];
  size: string;
  steps: number;
  drainMs: number;
}

const SCENARIOS: Record<string, Scenario> = {
  '20': { name: '20 users, synthetic 1 s engine, 4 workers', users: 20, workers: 4, engine: 'synthetic', serviceMs: 1000, durationMs: 60_000, thinkMs: [2000, 8000], size: '512x512', steps: 8, drainMs: 60_000 },
  '100': { name: '100 users, synthetic 1 s engine, 8 workers', users: 100, workers: 8, engine: 'synthetic', serviceMs: 1000, durationMs: 60_000, thinkMs: [2000, 8000], size: '512x512', steps: 8, drainMs: 120_000 },
  '500': { name: '500 users, synthetic 1 s engine, 8 workers (backlog)', users: 500, workers: 8, engine: 'synthetic', serviceMs: 1000, durationMs: 45_000, thinkMs: [2000, 8000], size: '512x512', steps: 8, drainMs: 180_000 },
  demo: { name: '20 users, demo model (ONNX Runtime, CPU), 1 worker', users: 20, workers: 1, engine: 'demo', serviceMs: 0, durationMs: 45_000, thinkMs: [2000, 8000], size: '256x256', steps: 4, drainMs: 120_000 },
};

interface Sample {
  user: number;
  sentAt: number;
  ackMs: number | null;
  ok: boolean;
  error?: string;
  e2eMs?: number;
  waitMs?: number;
  engineMs?: number;
  engineStart?: number;
  engineEnd?: number;
}

export interface ScenarioResult {
  scenario: Scenario;
  requests: number;
  completed: number;
  failures: number;
  failureRate: number;
  ackMs: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  e2eMs: { mean: number | null; p50: number | null; p95: number | null };
  waitMs: { mean: number | null; p95: number | null };
  overheadMs: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  engineMs: { mean: number | null };
  maxInFlight: number;
  maxQueueLength: number;
  engineBusy: number | null;
  engineBusyWindowS: number | null;
  /** Busy share over the whole run (first start → last end). */
  engineUtilization: number | null;
  fairnessJain: number | null;
  statusEditsPerMin: number;
  /** Edits in the busiest 60 s window. */
  statusEditsMaxMinute: number;
  statusEditsPerMinLimit: number;
  rateLimited: number;
  botRssMaxMb: number | null;
  botHeapMaxMb: number | null;
  wallS: number;
  errors: string[];
}

interface PgMsg { id: string; threadId: string; user: string; text: string; imageUrl?: string; metadata?: Json; status?: { phase: string } }

/** The Playground's server-sent events: calls `onMessage` for new messages and edits. */
function openEvents(base: string, onEvent: (type: string, m: PgMsg) => void): () => void {
  const req = request(`${base}/api/playground/events`, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let type = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) type = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (data) { try { onEvent(type, JSON.parse(data) as PgMsg); } catch { /* keep-alive or partial */ } }
      }
    });
  });
  req.end();
  return () => req.destroy();
}

/** Not measured at the start of each scenario by default (see `measureFrom`; `--warmup 0` counts everything). */
export const WARMUP_MS = 10_000;

const rand = (a: number, b: number): number => a + Math.random() * (b - a);

export async function runScenario(s: Scenario, redisUrl: string, modelDir: string, index: number, warmupMs = WARMUP_MS): Promise<ScenarioResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'zimage-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env, REDIS_URL: redisUrl, QUEUE_PREFIX: `bench${index}x${Date.now().toString(36)}`, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port),
    LOG_LEVEL: 'warn', ZIMAGE_MODEL_DIR: modelDir, DEMO_STEP_DELAY_MS: '0', PLAYGROUND: 'true',
  };
  const bot = spawnNode('dist/src/main/bot.js', env, 'bot');
  // One process per worker, as in production (one per GPU). A synthetic "GPU" serves one image at a time;
  // the demo model keeps the configured concurrency.
  const procs = Number(process.env.BENCH_WORKER_PROCS ?? s.workers);
  const workerProcs = Array.from({ length: procs }, () => spawnNode('dist/test/bench/bench-workers.js', {
    ...env, ...(s.engine === 'synthetic' ? { WORKER_CONCURRENCY: '1' } : {}), BENCH_WORKERS: String(s.workers / procs), BENCH_ENGINE: s.engine === 'synthetic' ? 'synthetic' : 'model', BENCH_SERVICE_MS: String(s.serviceMs),
  }, 'workers'));
  const errors: string[] = [];
  try {
    const readyBy = Date.now() + 120_000;
    for (;;) {
      const st = await httpJson(base, 'GET', '/status').catch(() => null);
      if (st?.json && Number(st.json.live_workers) >= s.workers) break;
      if (Date.now() > readyBy) throw new Error(`bot/workers not ready on ${base}`);
      if (bot.exitCode !== null || workerProcs.some((w) => w.exitCode !== null)) throw new Error('bot or workers exited at start (BENCH_DEBUG=1 shows their output)');
      await sleep(250);
    }

    // Completion is observed on the event stream; the first event may beat the POST's response.
    const waiting = new Map<string, (m: PgMsg, at: number) => void>();
    const early = new Map<string, { m: PgMsg; at: number }>();
    const closeEvents = openEvents(base, (type, m) => {
      const at = Date.now();
      const done = (type === 'message' && m.user === 'zimage' && (m.imageUrl || !m.status))
        || (type === 'update' && (m.status?.phase === 'failed' || m.status?.phase === 'cancelled'));
      if (!done) return;
      const cb = waiting.get(m.threadId);
      if (cb) { waiting.delete(m.threadId); cb(m, at); } else early.set(m.threadId, { m, at });
    });
    await sleep(200);

    const metricsText = async (): Promise<string> => (await httpJson(base, 'GET', '/metrics')).text;
    const editsAt = async (): Promise<{ ok: number; limited: number }> => {
      const t = await metricsText();
      return { ok: metricValue(t, 'zimage_status_edits_total', 'result="ok"'), limited: metricValue(t, 'zimage_platform_rate_limited_total') };
    };
    const edits0 = await editsAt();
    let rssMax = 0;
    let heapMax = 0;
    let maxQueue = 0;
    const queueSamples: Array<{ at: number; queue: number }> = [];
    const editSamples: Array<{ at: number; edits: number }> = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try {
          const t = await metricsText();
          rssMax = Math.max(rssMax, metricValue(t, 'process_resident_memory_bytes'));
          editSamples.push({ at: Date.now(), edits: metricValue(t, 'zimage_status_edits_total', 'result="ok"') });
          heapMax = Math.max(heapMax, metricValue(t, 'nodejs_heap_size_used_bytes'));
          const st = await httpJson(base, 'GET', '/status');
          const queue = Number(st.json?.queue_length ?? 0);
          maxQueue = Math.max(maxQueue, queue);
          queueSamples.push({ at: Date.now(), queue });
        } catch { /* the run goes on */ }
        await sleep(2000);
      }
    })();

    const samples: Sample[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const t0 = Date.now();
    // Fresh processes run cold code for their first seconds (a bot in service has long been warm): ack latency
    // and overhead are measured on commands sent after the warm-up; failures and everything else count all.
    const measureFrom = t0 + warmupMs;
    const endAt = measureFrom + s.durationMs;
    const drainBy = endAt + s.drainMs;

    const oneCommand = async (user: number, n: number): Promise<void> => {
      const sample: Sample = { user, sentAt: Date.now(), ackMs: null, ok: false };
      samples.push(sample);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const text = `/zimage user ${user} picture ${n}, a lighthouse at dusk --size ${s.size} --steps ${s.steps} --seed ${user * 1000 + n}`;
        await openSession(base, `vu${user}`);
        const res = await httpJson(base, 'POST', '/api/playground/messages', { user: `vu${user}`, text }, `vu${user}`);
        sample.ackMs = Date.now() - sample.sentAt;
        if (res.status !== 201 || !res.json) { sample.error = `HTTP ${res.status}`; return; }
        const threadId = String(res.json.threadId);
        const got = await new Promise<{ m: PgMsg; at: number } | null>((ok) => {
          const e = early.get(threadId);
          if (e) { early.delete(threadId); ok(e); return; }
          const timer = setTimeout(() => { waiting.delete(threadId); ok(null); }, Math.max(1000, drainBy - Date.now()));
          waiting.set(threadId, (m, at) => { clearTimeout(timer); ok({ m, at }); });
        });
        if (!got) { sample.error = 'no result before the drain deadline'; return; }
        if (!got.m.imageUrl || !got.m.metadata) { sample.error = `reply: ${got.m.status?.phase ?? got.m.text.slice(0, 80)}`; return; }
        const md = got.m.metadata;
        sample.ok = true;
        sample.e2eMs = got.at - sample.sentAt;
        sample.waitMs = Number(md.queueWaitMs);
        sample.engineMs = Number(md.generationMs);
        sample.engineEnd = Date.parse(String(md.createdAt));
        sample.engineStart = sample.engineEnd - sample.engineMs;
      } catch (err) {
        sample.error = String(err);
      } finally {
        inFlight--;
      }
    };

    const userLoop = async (user: number): Promise<void> => {
      await sleep(rand(0, s.thinkMs[1]));
      for (let n = 1; Date.now() < endAt; n++) {
        await oneCommand(user, n);
        await sleep(rand(s.thinkMs[0], s.thinkMs[1]));
      }
    };
    await Promise.all(Array.from({ length: s.users }, (_, u) => userLoop(u)));
    const wallS = (Date.now() - t0) / 1000;
    sampling = false;
    await sampler;
    const edits1 = await editsAt();
    closeEvents();

    const ok = samples.filter((x) => x.ok);
    for (const x of samples) if (!x.ok && errors.length < 10) errors.push(x.error ?? 'unknown');
    const warm = samples.filter((x) => x.sentAt >= measureFrom);
    const overhead = warm.filter((x) => x.ok).map((x) => x.e2eMs! - x.waitMs! - x.engineMs!);
    const acks = warm.flatMap((x) => (x.ackMs === null ? [] : [x.ackMs]));
    const perUser = new Map<number, number[]>();
    for (const x of ok) perUser.set(x.user, [...(perUser.get(x.user) ?? []), x.e2eMs!]);
    // Engine busy under backlog: over the span in which at least as many jobs waited as there are workers.
    const backlog = queueSamples.filter((q) => q.queue >= s.workers);
    const from = backlog[0]?.at;
    const to = backlog[backlog.length - 1]?.at;
    const intervals = ok.map((x) => [x.engineStart!, x.engineEnd!] as [number, number]);
    const busy = from !== undefined && to !== undefined && to - from >= 10_000 ? busyFraction(intervals, from, to, s.workers) : null;
    const starts = intervals.map((i) => i[0]);
    const ends = intervals.map((i) => i[1]);
    const utilization = starts.length ? busyFraction(intervals, Math.min(...starts), Math.max(...ends), s.workers) : null;
    // Status edits: the busiest 60 s (the platform limits are per minute), from the /metrics samples.
    let editsMaxMinute = 0;
    for (let i = 0; i < editSamples.length; i++) {
      for (let j = i + 1; j < editSamples.length && editSamples[j]!.at - editSamples[i]!.at <= 61_000; j++) {
        editsMaxMinute = Math.max(editsMaxMinute, Math.round((editSamples[j]!.edits - editSamples[i]!.edits) * 60_000 / Math.max(60_000, editSamples[j]!.at - editSamples[i]!.at)));
      }
    }
    const minutes = wallS / 60;
    const fairness = jain([...perUser.values()].map((v) => mean(v)!));
    const r1 = (x: number | null): number | null => (x === null ? null : Math.round(x * 10) / 10);
    return {
      scenario: s,
      requests: samples.length,
      completed: ok.length,
      failures: samples.length - ok.length,
      failureRate: samples.length ? (samples.length - ok.length) / samples.length : 0,
      ackMs: { p50: percentile(acks, 50), p95: percentile(acks, 95), p99: percentile(acks, 99), max: percentile(acks, 100) },
      e2eMs: { mean: r1(mean(ok.map((x) => x.e2eMs!))), p50: percentile(ok.map((x) => x.e2eMs!), 50), p95: percentile(ok.map((x) => x.e2eMs!), 95) },
      waitMs: { mean: r1(mean(ok.map((x) => x.waitMs!))), p95: percentile(ok.map((x) => x.waitMs!), 95) },
      overheadMs: { p50: percentile(overhead, 50), p95: percentile(overhead, 95), p99: percentile(overhead, 99), max: percentile(overhead, 100) },
      engineMs: { mean: r1(mean(ok.map((x) => x.engineMs!))) },
      maxInFlight,
      maxQueueLength: maxQueue,
      engineBusy: busy === null ? null : Math.round(busy * 1000) / 1000,
      engineBusyWindowS: busy === null ? null : Math.round((to! - from!) / 100) / 10,
      engineUtilization: utilization === null ? null : Math.round(utilization * 1000) / 1000,
      fairnessJain: fairness === null ? null : Math.round(fairness * 1000) / 1000,
      statusEditsPerMin: Math.round((edits1.ok - edits0.ok) / minutes),
      statusEditsMaxMinute: editsMaxMinute,
      statusEditsPerMinLimit: PLAYGROUND_PACING.perWorkspacePerMinute,
      rateLimited: edits1.limited - edits0.limited,
      botRssMaxMb: rssMax ? Math.round(rssMax / 1048576) : null,
      botHeapMaxMb: heapMax ? Math.round(heapMax / 1048576) : null,
      wallS: Math.round(wallS),
      errors,
    };
  } finally {
    await Promise.all(workerProcs.map((w) => stopChild(w)));
    await stopChild(bot);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined; };
  const only = (opt('only') ?? `20,100,500,demo,${Object.keys(BURSTS).join(',')}`).split(',').map((x) => x.trim()).filter(Boolean);
  const outDir = resolve(opt('out') ?? 'data/bench');
  const duration = opt('duration');
  const warmupMs = opt('warmup') === undefined ? WARMUP_MS : Number(opt('warmup')) * 1000;
  if (!(warmupMs >= 0)) throw new Error('--warmup takes a number of seconds (0 counts every command)');
  for (const k of only) if (!SCENARIOS[k] && !BURSTS[k]) throw new Error(`unknown scenario ${k}; choose from ${[...Object.keys(SCENARIOS), ...Object.keys(BURSTS)].join(', ')}`);
  const modelDir = await ensureDemoModel(join(tmpdir(), 'zimage-bench-model'));
  const results: ScenarioResult[] = [];
  const bursts: BurstResult[] = [];
  for (const [i, k] of only.entries()) {
    const burst = BURSTS[k];
    const s = burst ? undefined : { ...SCENARIOS[k]!, ...(duration ? { durationMs: Number(duration) * 1000 } : {}) };
    process.stderr.write(`running: ${burst ? burst.name : `${s!.name} for ${s!.durationMs / 1000} s`} …\n`);
    // Each scenario on a fresh Redis: one run's data (and its append-only-file rewrite) must not slow the next.
    const redisDir = mkdtempSync(join(tmpdir(), 'zimage-bench-redis-'));
    const redis = await startEmbeddedRedis({ dir: redisDir });
    try {
      if (burst) {
        const b = await runBurst(burst, redis.url, modelDir, i);
        bursts.push(b);
        process.stderr.write(`  ${b.queued}/${b.sent} queued, ack p99 ${b.ackMs.p99} ms, admission ${b.admissionPerS ?? '–'} commands/s\n`);
      } else {
        const r = await runScenario(s!, redis.url, modelDir, i, warmupMs);
        results.push(r);
        process.stderr.write(`  ${r.completed}/${r.requests} ok, ack p99 ${r.ackMs.p99} ms, overhead p50 ${r.overheadMs.p50} ms p99 ${r.overheadMs.p99} ms, busy ${r.engineBusy ?? '–'}\n`);
      }
    } finally {
      await redis.stop();
      rmSync(redisDir, { recursive: true, force: true });
    }
  }
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '?', memGb: Math.round(totalmem() / 1024 ** 3), node: process.version };
  const report = { at: new Date().toISOString(), machine, warmupS: warmupMs / 1000, results, bursts };
  mkdirSync(outDir, { recursive: true });
  const stamp = report.at.replace(/[:.]/g, '-');
  writeFileSync(join(outDir, `load-${stamp}.json`), JSON.stringify(report, null, 2));
  const md = renderMarkdown(report);
  writeFileSync(join(outDir, `load-${stamp}.md`), md);
  process.stdout.write(`${md}\nwritten: ${join(outDir, `load-${stamp}.json`)} and .md\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(() => process.exit(0), (err: unknown) => { process.stderr.write(`bench:load failed: ${err instanceof Error ? err.stack : String(err)}\n`); process.exit(1); });
}
