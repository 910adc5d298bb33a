/**
 * `npm run generate -- --prompt "a cat" --seed 7 --size 512x512 --steps 8 --count 1 --out out.png`
 * Uses ZIMAGE_MODEL_DIR, else a verified download in DATA_DIR/models/z-image-turbo, else the demo model. Data dir = DATA_DIR or ./data.
 */
import { extname, resolve } from 'node:path';
import sharp from 'sharp';
import { loadConfig, loadDotEnv } from '../../src/config.js';
import { findDefaultModel } from '../../src/model/manifest.js';
import { createEngine } from '../engine/create-engine.js';
import { intFlag, parseFlags, runCli, sizeFlag, UsageError } from './args.js';

const USAGE = `usage: npm run generate -- --prompt "a cat" [--seed 7] [--size 512x512] [--steps 8] [--count 1]
                           [--out out.png] [--schedule reference|webnn] [--threads N]
env: ZIMAGE_MODEL_DIR (default: DATA_DIR/models/z-image-turbo when downloaded, else the demo model), DATA_DIR (default ./data), ZIMAGE_EP cpu|cuda|auto,
     ZIMAGE_SAFETY_CHECKER=1, ZIMAGE_SCHEDULE reference|webnn (--schedule wins), ZIMAGE_THREADS`;

function outPath(out: string, index: number, count: number): string {
  if (count === 1) return resolve(out);
  const ext = extname(out) || '.png';
  return resolve(`${out.slice(0, out.length - extname(out).length)}-${index + 1}${ext}`);
}

runCli(USAGE, async () => {
  const flags = parseFlags({
    prompt: { type: 'string' }, seed: { type: 'string' }, size: { type: 'string' }, steps: { type: 'string' },
    count: { type: 'string' }, out: { type: 'string' }, schedule: { type: 'string' }, threads: { type: 'string' },
    help: { type: 'boolean' },
  }, process.argv.slice(2));
  if (flags.help) { process.stdout.write(`${USAGE}\n`); return; }
  if (!flags.prompt || !flags.prompt.trim()) throw new UsageError('--prompt is required');
  const seed = intFlag('seed', flags.seed, Math.floor(Math.random() * 2 ** 31), 0, 2 ** 32 - 1);
  const [width, height] = sizeFlag(flags.size, [512, 512]);
  const steps = intFlag('steps', flags.steps, 8, 1, 16);
  const count = intFlag('count', flags.count, 1, 1, 16);
  loadDotEnv();
  const { env, dataDir } = loadConfig();
  const threads = intFlag('threads', flags.threads, env.ZIMAGE_THREADS, 0, 256);
  const schedule = flags.schedule ?? env.ZIMAGE_SCHEDULE;
  if (schedule !== 'reference' && schedule !== 'webnn') throw new UsageError(`--schedule must be reference or webnn, got "${schedule}"`);
  const modelDir = env.ZIMAGE_MODEL_DIR ? resolve(env.ZIMAGE_MODEL_DIR) : (await findDefaultModel(dataDir))?.dir;
  const engine = createEngine({
    dataDir,
    ...(modelDir ? { modelDir } : {}),
    executionProvider: env.ZIMAGE_EP, threads, schedule, safetyChecker: env.ZIMAGE_SAFETY_CHECKER,
  });
  try {
    const t0 = performance.now();
    const info = await engine.load();
    const loadMs = performance.now() - t0;
    process.stderr.write(`model: ${info.name} (${info.id} ${info.version}) on ${engine.provider}, loaded in ${loadMs.toFixed(0)} ms\n`);
    const seeds = Array.from({ length: count }, (_, i) => (seed + i) % 2 ** 32);
    const t1 = performance.now();
    const images = await engine.generate({ prompt: flags.prompt, width, height, steps, seeds }, (image, step, total) => {
      process.stderr.write(`\rimage ${image}/${count} step ${step}/${total}   `);
    });
    process.stderr.write('\n');
    for (const [i, img] of images.entries()) {
      const file = outPath(flags.out ?? 'out.png', i, count);
      await sharp(Buffer.from(img.rgb.buffer, img.rgb.byteOffset, img.rgb.byteLength), { raw: { width: img.width, height: img.height, channels: 3 } })
        .png().toFile(file);
      process.stdout.write(`${file}  seed ${img.seed}  ${img.width}x${img.height}  ${steps} steps  ${img.ms} ms\n`);
    }
    process.stderr.write(`total ${(performance.now() - t1).toFixed(0)} ms for ${count} image(s) (+ ${loadMs.toFixed(0)} ms load)\n`);
  } finally {
    await engine.dispose();
  }
});
