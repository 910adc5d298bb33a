/** A private redis-server (append-only file in a temporary directory) that a test can stop, kill and start again on the same port. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/infra/embedded-redis.js';

export interface RestartableRedis {
  /** The server running now (a new one after each restart). */
  redis: () => EmbeddedRedis;
  /** Start it again on its port, with what its append-only file kept. */
  restart: () => Promise<void>;
  /** Stop it and remove its directory. */
  cleanup: () => Promise<void>;
}

export async function restartableRedis(): Promise<RestartableRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'zimage-redis-'));
  let current = await startEmbeddedRedis({ dir });
  const port = current.port;
  return {
    redis: () => current,
    restart: async () => { current = await startEmbeddedRedis({ dir, port }); },
    cleanup: async () => { await current.stop(); rmSync(dir, { recursive: true, force: true }); },
  };
}
