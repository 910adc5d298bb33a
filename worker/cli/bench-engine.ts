/**
 * Engine benchmark (prints figures; not a test). `npm run build && node dist/worker/cli/bench-engine.js [flags]`
 * On the demo model, and on ZIMAGE_MODEL_DIR when set:
 *  1. stage times (tokenize, encode, each step, VAE, RGB, PNG, store) and pipeline overhead =
 *     wall − Σ session.run, in-process, one request at a time;
 *  2. text-feature cache: the same prompt again (hit) vs a new prompt (miss);
 *  3. throughput: N jobs queued at once on the two-thread engine (each job's PNG + store on the caller's thread,
 *     like the worker), transformer busy fraction; and the same jobs one at a time for comparison.
 * Writes JSON and a markdown table into --out-dir.
 * With `--model DIR` (e.g. the full-size replica): memory and time per stage of that model instead
 * (bench-memory.ts): peak RSS at load and per stage, time per denoising step at 256², 512², 1024².
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { createEngine } from '../engine/create-engine.js';
import { ensureDemoModel } from '../engine/demo-model/build.js';
import type { EngineImage, EngineRequest } from '../engine/engine.js';
import type { StageStatsSnapshot } from '../engine/stage-stats.js';
import { ZimagePipeline } from '../engine/zimage-pipeline.js';
import { loadConfig, loadDotEnv } from '../../src/config.js';
import { intFlag, parseFlags, runCli, sizeFlag, UsageError } from './args.js';
import { benchFullModel, fullBenchMarkdown } from './bench-memory.js';

const USAGE = `usage: node dist/worker/cli/bench-engine.js [--size 512x512] [--steps 8] [--jobs 20] [--repeat 5]
                                           [--out-dir data/bench] [--threads N]
       node dist/worker/cli/bench-engine.js --model DIR [--sizes 256,512,1024] [--steps 1]
                                           [--max-step-s 300] [--max-decode-s 300] [--out-dir data/bench] [--threads N]
env: ZIMAGE_MODEL_DIR (also benchmark this model), DATA_DIR, ZIMAGE_EP`;

interface Settings { width: number; height: number; steps: number; jobs: number; repeat: number; threads: number; outDir: string; ep: 'cpu' | 'cuda' | 'auto' }

const avg = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

async function pngAndStore(img: EngineImage, dir: string, name: string): Promise<{ pngMs: number; storeMs: number }> {
  let t0 = performance.now();
  const png = await sharp(Buffer.from(img.rgb.buffer, img.rgb.byteOffset, img.rgb.byteLength), { raw: { width: img.width, height: img.height, channels: 3 } }).png().toBuffer();
  const pngMs = performance.now() - t0;
  t0 = performance.now();
  await writeFile(join(dir, name), png);
  return { pngMs, storeMs: performance.now() - t0 };
}

function stageAvg(s: StageStatsSnapshot, stage: keyof StageStatsSnapshot['stages']): number {
  const t = s.stages[stage];
  return t && t.count ? t.totalMs / t.count : 0;
}

async function benchModel(label: string, modelDir: string, o: Settings): Promise<Record<string, unknown>> {
  const dir = join(o.outDir, label);
  await mkdir(dir, { recursive: true });
  const base = { width: o.width, height: o.height, steps: o.steps };
  const request = (prompt: string, seed: number): EngineRequest => ({ ...base, prompt, seeds: [seed] });

  // 1. Stage times and overhead, in-process.
  const t0 = performance.now();
  const pipeline = await ZimagePipeline.load({ modelDir, executionProvider: o.ep, ...(o.threads ? { intraOpThreads: o.threads } : {}) });
  const loadMs = performance.now() - t0;
  await pipeline.generate(request('warm-up', 1), () => undefined);
  pipeline.resetStats();
  let wall = 0;
  const png: number[] = [];
  const store: number[] = [];
  for (let i = 0; i < o.repeat; i++) {
    const t = performance.now();
    const [img] = await pipeline.generate(request(`stage timing prompt ${i}: a quiet harbour at dawn`, 100 + i), () => undefined);
    wall += performance.now() - t;
    const r = await pngAndStore(img!, dir, `stage-${i}.png`);
    png.push(r.pngMs);
    store.push(r.storeMs);
  }
  const stages = pipeline.stats();
  const overheadPct = wall > 0 ? ((wall - stages.sessionRunMs) / wall) * 100 : 0;

  // 2. Text-feature cache: a repeated prompt vs new prompts (in-process, one at a time).
  const missWall: number[] = [];
  const hitWall: number[] = [];
  for (let i = 0; i < o.repeat; i++) {
    let t = performance.now();
    await pipeline.generate(request(`cache miss prompt ${i}: neon koi in a night pond`, 7), () => undefined);
    missWall.push(performance.now() - t);
    t = performance.now();
    await pipeline.generate(request(`cache miss prompt ${i}: neon koi in a night pond`, 8), () => undefined);
    hitWall.push(performance.now() - t);
  }
  const cache = pipeline.stats().textCache;
  await pipeline.dispose();

  // 3. Throughput on the two-thread engine: N jobs queued at once vs one at a time.
  const engine = createEngine({ modelDir, dataDir: o.outDir, executionProvider: o.ep, ...(o.threads ? { threads: o.threads } : {}) });
  await engine.load();
  await engine.generate(request('warm-up', 1), () => undefined);
  const runJobs = async (queued: boolean): Promise<{ wallMs: number; busy: number; runBusy: number }> => {
    await engine.stats(true);
    const t = performance.now();
    const job = async (i: number): Promise<void> => {
      const [img] = await engine.generate(request(`${queued ? 'queued' : 'serial'} job ${i}: paper lanterns over a river`, 1000 + i), () => undefined);
      await pngAndStore(img!, dir, `${queued ? 'queued' : 'serial'}-${i}.png`);
    };
    if (queued) await Promise.all(Array.from({ length: o.jobs }, (_, i) => job(i)));
    else for (let i = 0; i < o.jobs; i++) await job(i);
    const wallMs = performance.now() - t;
    const s = await engine.stats();
    return { wallMs, busy: s.transformerSpanMs > 0 ? s.transformerBusyMs / s.transformerSpanMs : 0, runBusy: s.transformerSpanMs > 0 ? stageRun(s) / s.transformerSpanMs : 0 };
  };
  const stageRun = (s: StageStatsSnapshot): number => s.transformerBusyMs; // step = run + fp16 conversion + Euler update
  const serial = await runJobs(false);
  const queued = await runJobs(true);
  await engine.dispose();

  return {
    model: label, modelDir, provider: pipeline.model.provider, info: pipeline.info, ...base, loadMs,
    stageMs: {
      tokenize: stageAvg(stages, 'tokenize'), encode: stageAvg(stages, 'encode'), step: stageAvg(stages, 'step'),
      vaePreProcess: stageAvg(stages, 'preprocess'), vaeDecode: stageAvg(stages, 'decode'), toRgb: stageAvg(stages, 'convert'),
      png: avg(png), store: avg(store),
    },
    perImageMs: wall / o.repeat,
    overhead: { wallMs: wall, sessionRunMs: stages.sessionRunMs, percent: overheadPct },
    cache: { missMs: avg(missWall), hitMs: avg(hitWall), speedup: avg(hitWall) > 0 ? avg(missWall) / avg(hitWall) : 0, ...cache },
    throughput: {
      jobs: o.jobs,
      serial: { wallMs: serial.wallMs, imagesPerMin: (o.jobs / serial.wallMs) * 60_000, transformerBusy: serial.busy },
      queued: { wallMs: queued.wallMs, imagesPerMin: (o.jobs / queued.wallMs) * 60_000, transformerBusy: queued.busy },
    },
  };
}

function markdown(results: Array<Record<string, any>>): string {
  const rows: string[] = ['| | ' + results.map((r) => `${r.model} (${r.provider}, ${r.width}x${r.height}, ${r.steps} steps)`).join(' | ') + ' |',
    '|---|' + results.map(() => '---:').join('|') + '|'];
  const row = (name: string, f: (r: Record<string, any>) => string): void => { rows.push(`| ${name} | ${results.map(f).join(' | ')} |`); };
  row('load (ms)', (r) => ms(r.loadMs));
  for (const k of ['tokenize', 'encode', 'step', 'vaePreProcess', 'vaeDecode', 'toRgb', 'png', 'store']) row(`${k} (ms, mean)`, (r) => ms(r.stageMs[k]));
  row('per image, in-process (ms)', (r) => ms(r.perImageMs));
  row('pipeline overhead: wall − Σ session.run', (r) => `${r.overhead.percent.toFixed(1)} %`);
  row('repeated prompt (cache hit) vs new prompt (ms)', (r) => `${ms(r.cache.hitMs)} vs ${ms(r.cache.missMs)} (×${r.cache.speedup.toFixed(2)})`);
  row(`${results[0]?.throughput.jobs} jobs one at a time: images/min, transformer busy`, (r) => `${r.throughput.serial.imagesPerMin.toFixed(1)}, ${(r.throughput.serial.transformerBusy * 100).toFixed(1)} %`);
  row(`${results[0]?.throughput.jobs} jobs queued at once: images/min, transformer busy`, (r) => `${r.throughput.queued.imagesPerMin.toFixed(1)}, ${(r.throughput.queued.transformerBusy * 100).toFixed(1)} %`);
  return rows.join('\n');
}

runCli(USAGE, async () => {
  const f = parseFlags({ size: { type: 'string' }, steps: { type: 'string' }, jobs: { type: 'string' }, repeat: { type: 'string' },
    'out-dir': { type: 'string' }, threads: { type: 'string' }, model: { type: 'string' }, sizes: { type: 'string' },
    'max-step-s': { type: 'string' }, 'max-decode-s': { type: 'string' }, help: { type: 'boolean' } }, process.argv.slice(2));
  if (f.help) { process.stdout.write(`${USAGE}\n`); return; }
  loadDotEnv();
  const { env, dataDir } = loadConfig();
  if (f.model) { await benchModelDir(f, env.ZIMAGE_EP, dataDir); return; }
  const [width, height] = sizeFlag(f.size, [512, 512]);
  const ep: Settings['ep'] = env.ZIMAGE_EP;
  const o: Settings = {
    width, height, steps: intFlag('steps', f.steps, 8, 1, 16), jobs: intFlag('jobs', f.jobs, 20, 1, 1000),
    repeat: intFlag('repeat', f.repeat, 5, 1, 1000), threads: intFlag('threads', f.threads, 0, 0, 256),
    outDir: resolve(f['out-dir'] ?? join(dataDir, 'bench')), ep,
  };
  await mkdir(o.outDir, { recursive: true });
  const models: Array<[string, string]> = [['demo', await ensureDemoModel(dataDir)]];
  if (env.ZIMAGE_MODEL_DIR) models.push(['z-image-turbo', resolve(env.ZIMAGE_MODEL_DIR)]);
  const results: Array<Record<string, unknown>> = [];
  for (const [label, dir] of models) {
    process.stderr.write(`benchmarking ${label} (${dir}) …\n`);
    results.push(await benchModel(label, dir, o));
  }
  const md = markdown(results);
  const stamp = new Date().toISOString();
  await writeFile(join(o.outDir, 'bench.json'), JSON.stringify({ at: stamp, node: process.version, results }, null, 2));
  await writeFile(join(o.outDir, 'bench.md'), `# Engine benchmark ${stamp}\n\n${md}\n`);
  process.stdout.write(`${md}\n\nwritten: ${join(o.outDir, 'bench.json')}, ${join(o.outDir, 'bench.md')}\n`);
});

/** `--model DIR`: memory and per-stage time of one (full-size) model. */
async function benchModelDir(f: Record<string, string | boolean | undefined>, ep: Settings['ep'], dataDir: string): Promise<void> {
  const str = (k: string): string | undefined => (typeof f[k] === 'string' ? f[k] : undefined);
  const sizes = (str('sizes') ?? '256,512,1024').split(',').map((v) => {
    if (!/^\d+$/.test(v) || Number(v) % 16 !== 0 || Number(v) < 16) throw new UsageError(`--sizes takes multiples of 16, e.g. 256,512,1024; got "${v}"`);
    return Number(v);
  });
  const threads = intFlag('threads', str('threads'), 0, 0, 256);
  const outDir = resolve(str('out-dir') ?? join(dataDir, 'bench'));
  const result = await benchFullModel({
    modelDir: resolve(str('model')!), sizes, steps: intFlag('steps', str('steps'), 1, 1, 16),
    maxStepS: intFlag('max-step-s', str('max-step-s'), 300, 1, 86_400), maxDecodeS: intFlag('max-decode-s', str('max-decode-s'), 300, 1, 86_400),
    settings: { executionProvider: ep, ...(threads ? { intraOpThreads: threads } : {}) },
    log: (line) => process.stderr.write(`${line}\n`),
  });
  await mkdir(outDir, { recursive: true });
  const md = fullBenchMarkdown(result);
  const stamp = new Date().toISOString();
  await writeFile(join(outDir, 'bench-model.json'), JSON.stringify({ at: stamp, node: process.version, cpus: cpus().length, result }, null, 2));
  await writeFile(join(outDir, 'bench-model.md'), `# Model benchmark ${stamp}\n\n${md}\n`);
  process.stdout.write(`${md}\n\nwritten: ${join(outDir, 'bench-model.json')}, ${join(outDir, 'bench-model.md')}\n`);
}
