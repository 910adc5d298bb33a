import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/infra/embedded-redis.js';

/** Tests use REDIS_URL when set; otherwise a private redis-server on a free port for the whole run. */
let redis: EmbeddedRedis | undefined;
let dir: string | undefined;

export async function setup(): Promise<void> {
  if (process.env.REDIS_URL) { process.env.ZIMAGE_TEST_REDIS_URL = process.env.REDIS_URL; return; }
  dir = mkdtempSync(join(tmpdir(), 'zimage-test-redis-'));
  redis = await startEmbeddedRedis({ dir });
  process.env.ZIMAGE_TEST_REDIS_URL = redis.url;
}

export async function teardown(): Promise<void> {
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
