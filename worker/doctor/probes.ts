/**
 * What the doctor asks the machine, behind one interface so tests can stand in for a GPU machine (or a broken
 * one): Node version, Redis, binaries on PATH, free disk and memory, onnxruntime-node's provider libraries,
 * shared libraries the dynamic loader would find (LD_LIBRARY_PATH, the ldconfig cache, the usual CUDA
 * directories), nvidia-smi, and a real smoke generation.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readdir, statfs } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { freemem, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { redisVersionOf } from '../../src/infra/redis-version.js';
import { systemSearchPaths } from '../../src/config.js';

const run = promisify(execFile);

export interface GpuInfo { name: string; totalMiB: number; freeMiB: number; driver: string }

export interface SmokeResult { loadMs: number; generateMs: number; width: number; height: number; provider: string }

export interface DoctorProbes {
  nodeVersion(): string;
  /** `version`: the server's `redis_version`, when it says. */
  redisPing(url: string): Promise<{ ok: true; ms: number; version?: string } | { ok: false; error: string }>;
  which(binary: string): Promise<string | undefined>;
  freeDisk(path: string): Promise<number>;
  memory(): { total: number; available: number };
  /** File names in onnxruntime-node's native binary directory. */
  ortBinaries(): Promise<{ dir: string; files: string[] }>;
  /** Where the dynamic loader would find `soname`, if anywhere. */
  findLibrary(soname: string): Promise<string | undefined>;
  /** undefined: nvidia-smi not installed; { error }: it ran and failed. */
  nvidiaSmi(): Promise<GpuInfo[] | { error: string } | undefined>;
  smoke(modelDir: string, executionProvider: 'cpu' | 'cuda' | 'auto'): Promise<SmokeResult>;
}

async function exists(path: string): Promise<boolean> {
  return access(path, constants.R_OK).then(() => true, () => false);
}

async function ldconfigCache(): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (const bin of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      const { stdout } = await run(bin, ['-p'], { timeout: 5000, maxBuffer: 16 << 20 });
      for (const m of stdout.matchAll(/^\s*(\S+) \(([^)]*)\) => (\S+)$/gm)) if (!map.has(m[1]!) && /x86-64|aarch64|AArch64/.test(m[2]!)) map.set(m[1]!, m[3]!);
      return map;
    } catch { /* try the next location */ }
  }
  return map;
}

const CUDA_DIRS = ['/usr/local/cuda/lib64', '/usr/local/cuda/targets/x86_64-linux/lib', '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/lib/x86_64-linux-gnu', '/usr/lib/wsl/lib'];

export function systemProbes(): DoctorProbes {
  let cache: Promise<Map<string, string>> | undefined;
  return {
    nodeVersion: () => process.versions.node,
    async redisPing(url) {
      const redis = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
      redis.on('error', () => undefined);
      const t0 = performance.now();
      try {
        await redis.connect();
        await redis.ping();
        const ms = performance.now() - t0;
        const version = redisVersionOf(await redis.info('server').catch(() => ''));
        return { ok: true, ms, ...(version ? { version } : {}) };
      } catch (err) {
        return { ok: false, error: (err as Error).message.split('\n')[0]! };
      } finally {
        redis.disconnect();
      }
    },
    async which(binary) {
      for (const dir of systemSearchPaths().path) if (await exists(join(dir, binary))) return join(dir, binary);
      return undefined;
    },
    async freeDisk(path) {
      let p = path;
      for (;;) {
        try { const s = await statfs(p); return s.bavail * s.bsize; } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) throw err;
          p = dirname(p);
        }
      }
    },
    memory: () => ({ total: totalmem(), available: freemem() }),
    async ortBinaries() {
      const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
      const dir = join(dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
      return { dir, files: await readdir(dir).catch(() => []) };
    },
    async findLibrary(soname) {
      for (const dir of systemSearchPaths().libraryPath) if (await exists(join(dir, soname))) return join(dir, soname);
      const hit = (await (cache ??= ldconfigCache())).get(soname);
      if (hit) return hit;
      for (const dir of CUDA_DIRS) if (await exists(join(dir, soname))) return join(dir, soname);
      return undefined;
    },
    async nvidiaSmi() {
      try {
        const { stdout } = await run('nvidia-smi', ['--query-gpu=name,memory.total,memory.free,driver_version', '--format=csv,noheader,nounits'], { timeout: 10_000 });
        return stdout.trim().split('\n').filter(Boolean).map((line) => {
          const [name, total, free, driver] = line.split(',').map((s) => s.trim());
          return { name: name!, totalMiB: Number(total), freeMiB: Number(free), driver: driver! };
        });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        return { error: ((err as { stderr?: string }).stderr || (err as Error).message).trim().split('\n')[0]! };
      }
    },
    async smoke(modelDir, executionProvider) {
      const { ZimagePipeline } = await import('../engine/zimage-pipeline.js');
      const t0 = performance.now();
      const pipeline = await ZimagePipeline.load({ modelDir, executionProvider });
      const loadMs = performance.now() - t0;
      try {
        const side = pipeline.model.sizeMultiple;
        const t1 = performance.now();
        await pipeline.generate({ prompt: 'doctor smoke test', width: side, height: side, steps: 1, seeds: [1] }, () => undefined);
        return { loadMs, generateMs: performance.now() - t1, width: side, height: side, provider: pipeline.model.provider };
      } finally {
        await pipeline.dispose();
      }
    },
  };
}
