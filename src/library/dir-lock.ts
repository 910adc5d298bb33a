/**
 * One process at a time on the embedded database's directory: a second PGlite on the same files would work
 * on its own copy and overwrite the first one's writes. The lock is a directory beside it (`db.lock`, made
 * atomically by proper-lockfile and kept fresh while held) with the holder's name inside (`owner-<host>-<pid>`),
 * so a holder that was killed is recognised at once on the same machine and its lock taken over; elsewhere a
 * lock nobody refreshes counts as abandoned after LOCK_STALE_MS.
 */
import { readdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { ZimageError } from '../errors.js';
import type { Logger } from '../infra/logger.js';
import { isAlive } from '../infra/redis-dir.js';

const LOCK_STALE_MS = 30_000;
/**
 * A live holder writes its name into the lock right after making it, and removes it right before removing the
 * lock: a lock without a name older than this was left by a process that died in between.
 */
const NAMELESS_MS = 3000;
const OWNER = /^owner-(.+)-(\d+)$/;

function lockedMessage(dir: string): string {
  return `The image index in ${dir} is open in another process (the embedded database serves one process). Stop that process, or set DATABASE_URL to a PostgreSQL server that several processes can share.`;
}

/** Take over the lock when its holder was a process on this machine that no longer runs; true when it did. */
function clearDeadHolder(lockDir: string, log: Logger | undefined): boolean {
  let entries: string[];
  try { entries = readdirSync(lockDir); } catch { return true; } // gone meanwhile: try again
  const me = hostname();
  if (!entries.some((name) => OWNER.test(name))) {
    let age = 0;
    try { age = Date.now() - statSync(lockDir).mtimeMs; } catch { return true; }
    if (age < NAMELESS_MS) return false;
    log?.warn({ ageMs: Math.round(age) }, 'image index: taking over a lock whose holder left without removing it');
    try { rmdirSync(lockDir); } catch { /* someone else was faster */ }
    return true;
  }
  for (const name of entries) {
    const m = OWNER.exec(name);
    if (!m || m[1] !== me || isAlive(Number(m[2]))) continue;
    log?.warn({ pid: Number(m[2]) }, 'image index: taking over the lock of a process that is gone');
    rmSync(join(lockDir, name), { force: true });
    // Not recursive: a lock that has just been made again (an empty directory, or another holder's name in it) stays.
    try { rmdirSync(lockDir); } catch { /* someone else was faster */ }
    return true;
  }
  return false;
}

/** Lock `dir` for this process; resolves to the release. Fails with DATABASE_LOCKED while another process holds it. */
export async function lockDataDir(dir: string, log?: Logger): Promise<() => Promise<void>> {
  const lockDir = `${dir}.lock`;
  const take = () => lockfile.lock(dir, {
    lockfilePath: lockDir, stale: LOCK_STALE_MS, update: LOCK_STALE_MS / 3, realpath: false, retries: 0,
    onCompromised: (err) => log?.error({ err }, 'image index: the lock on its directory was lost; another process may be using it'),
  });
  let release: () => Promise<void>;
  try {
    release = await take();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED' || !clearDeadHolder(lockDir, log)) {
      if ((err as NodeJS.ErrnoException).code === 'ELOCKED') throw new ZimageError('DATABASE_LOCKED', lockedMessage(dir));
      throw err;
    }
    try {
      release = await take();
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code === 'ELOCKED') throw new ZimageError('DATABASE_LOCKED', lockedMessage(dir));
      throw again;
    }
  }
  const owner = join(lockDir, `owner-${hostname()}-${process.pid}`);
  writeFileSync(owner, '');
  return async () => {
    rmSync(owner, { force: true });
    await release().catch(() => undefined);
  };
}
