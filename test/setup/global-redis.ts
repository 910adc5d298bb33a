import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/infra/embedded-redis.js';

/** Tests use REDIS_URL when set; otherwise a private redis-server on a free port for the whole run (built first if need be). */
let redis: EmbeddedRedis | undefined;
let dir: string | undefined;

export async function setup(): Promise<void> {
  if (process.env.REDIS_URL) { process.env.ZIMAGE_TEST_REDIS_URL = process.env.REDIS_URL; return; }
  // The private Redis runs under a supervisor process started from the build (as the engine thread is).
  if (!existsSync(join('dist', 'src', 'infra', 'redis-supervisor.js'))) {
    execFileSync(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  }
  dir = mkdtempSync(join(tmpdir(), 'zimage-test-redis-'));
  redis = await startEmbeddedRedis({ dir });
  process.env.ZIMAGE_TEST_REDIS_URL = redis.url;
}

export async function teardown(): Promise<void> {
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
