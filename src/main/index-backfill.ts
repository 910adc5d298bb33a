/**
 * `npm run index:backfill [-- --no-thumbnails]`: build the image index from the sidecars in the asset store
 * (ASSET_STORE local or s3), into DATABASE_URL or the embedded database under DATA_DIR/db. Safe to repeat.
 * With the embedded database, stop the bot first: that database serves one process at a time.
 */
import { createAssetStore } from '../assets/create-store.js';
import { environmentSecrets, loadConfig, loadDotEnv } from '../config.js';
import { createLogger } from '../infra/logger.js';
import { exitOnStartupError } from '../app/runtime.js';
import { backfillIndex } from '../library/backfill.js';
import { openLibraryDb } from '../library/db.js';
import { migrate } from '../library/migrations.js';
import type { Kysely } from 'kysely';

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const log = createLogger(config.env.LOG_LEVEL === 'info' ? 'warn' : config.env.LOG_LEVEL, { process: 'index-backfill' }, { secrets: environmentSecrets() });
  const db = await openLibraryDb({ dataDir: config.dataDir, log, ...(config.env.DATABASE_URL ? { url: config.env.DATABASE_URL } : {}) });
  try {
    await migrate(db.kysely as Kysely<unknown>);
    const started = Date.now();
    const stats = await backfillIndex({
      assets: createAssetStore(config), db: db.kysely, log, thumbnails: !process.argv.includes('--no-thumbnails'),
      onProgress: (s) => { if (process.stderr.isTTY) process.stderr.write(`\r${s.scanned} images looked at, ${s.indexed} indexed…`); },
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    process.stdout.write(`index:backfill (${db.kind}): ${stats.scanned} images found, ${stats.indexed} indexed, ${stats.skipped} skipped, `
      + `${stats.thumbnails} previews made, in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    await db.close();
  }
}

main().catch(exitOnStartupError);
