/**
 * GPU memory, from `nvidia-smi` when the machine has one. Workers (which own the GPUs) sample it and
 * publish the numbers in Redis next to their heartbeat; the bot reads them for `/metrics` and `/status`.
 * No nvidia-smi (CPU machines, the demo) means no samples: the figures are simply absent, never an error.
 */
import { execFile } from 'node:child_process';
import type { Redis } from 'ioredis';
import type { Deadline } from '../infra/deadline.js';
import type { Keys } from '../jobs/keys.js';
import { WORKER_TTL_MS } from '../jobs/workers.js';

export interface GpuSample {
  /** Per GPU visible to the worker. */
  gpus: Array<{ index: number; name: string; usedBytes: number; totalBytes: number }>;
  at: number;
}

const MIB = 1024 * 1024;

/** Parse `nvidia-smi --query-gpu=index,name,memory.used,memory.total --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(out: string): GpuSample['gpus'] {
  return out.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).flatMap((line) => {
    const parts = line.split(',').map((p) => p.trim());
    if (parts.length < 4) return [];
    const [index, name, used, total] = parts as [string, string, string, string];
    const u = Number(used);
    const t = Number(total);
    if (!Number.isFinite(u) || !Number.isFinite(t)) return [];
    return [{ index: Number(index) || 0, name, usedBytes: u * MIB, totalBytes: t * MIB }];
  });
}

/** One nvidia-smi reading, or null when the tool is missing or fails. */
export function readNvidiaSmi(binary = 'nvidia-smi', timeoutMs = 5000): Promise<GpuSample['gpus'] | null> {
  return new Promise((ok) => {
    execFile(binary, ['--query-gpu=index,name,memory.used,memory.total', '--format=csv,noheader,nounits'], { timeout: timeoutMs }, (err, stdout) => {
      if (err) return ok(null);
      const gpus = parseNvidiaSmi(stdout);
      ok(gpus.length ? gpus : null);
    });
  });
}

/** Worker side: sample every `intervalMs`; stops for good after the first "not installed". */
export class GpuProbe {
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly redis: Redis, private readonly keys: Keys, private readonly workerId: string,
    private readonly opts: { binary?: string; intervalMs?: number } = {},
  ) {}

  async start(): Promise<boolean> {
    const ok = await this.sample();
    if (ok) this.timer = setInterval(() => void this.sample(), this.opts.intervalMs ?? 10_000);
    return ok;
  }

  /** Stop sampling and withdraw this worker's figures (with Redis gone they simply age out). */
  async stop(deadline?: Deadline): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.redis.status !== 'ready') return;
    const withdrawn = this.redis.hdel(this.keys.gpu(), this.workerId).catch(() => undefined);
    await (deadline ? deadline.wait(withdrawn) : withdrawn);
  }

  private async sample(): Promise<boolean> {
    const gpus = await readNvidiaSmi(this.opts.binary);
    if (!gpus) return false;
    const sample: GpuSample = { gpus, at: Date.now() };
    await this.redis.hset(this.keys.gpu(), this.workerId, JSON.stringify(sample)).catch(() => undefined);
    return true;
  }
}

/** Bot side: the fresh samples of live workers (older than the worker TTL are ignored and cleaned). */
export async function readGpuSamples(redis: Redis, keys: Keys, now = Date.now()): Promise<Map<string, GpuSample>> {
  const all = await redis.hgetall(keys.gpu());
  const out = new Map<string, GpuSample>();
  const stale: string[] = [];
  for (const [worker, raw] of Object.entries(all)) {
    try {
      const s = JSON.parse(raw) as GpuSample;
      if (now - s.at <= 3 * WORKER_TTL_MS) out.set(worker, s);
      else stale.push(worker);
    } catch {
      stale.push(worker);
    }
  }
  if (stale.length) await redis.hdel(keys.gpu(), ...stale).catch(() => undefined);
  return out;
}

/** Sum over every GPU of every live worker; null when no worker reports a GPU. */
export function totalGpuMemory(samples: ReadonlyMap<string, GpuSample>): { usedBytes: number; totalBytes: number } | null {
  if (samples.size === 0) return null;
  let usedBytes = 0;
  let totalBytes = 0;
  for (const s of samples.values()) for (const g of s.gpus) { usedBytes += g.usedBytes; totalBytes += g.totalBytes; }
  return { usedBytes, totalBytes };
}
