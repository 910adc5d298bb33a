/**
 * One process at a time on the embedded database's directory: a second PGlite on the same files would work
 * on its own copy and overwrite the first one's writes. The lock is a directory beside it (`db.lock`, made
 * atomically by proper-lockfile and kept fresh while held); the holder's name (`<host> <pid>`) is in a file
 * next to it (`db.lock.owner`), so a holder that was killed is recognised at once on the same machine and its
 * lock taken over; elsewhere a lock nobody refreshes counts as abandoned after LOCK_STALE_MS.
 *
 * The name is not written inside the lock directory: that would change the directory's modification time,
 * which proper-lockfile takes for another process touching its lock (it then gives the lock up as
 * compromised, and the lock directory is left behind at close).
 */
import { readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import lockfile from 'proper-lockfile';
import { ZimageError } from '../errors.js';
import type { Logger } from '../infra/logger.js';
import { isAlive } from '../infra/redis-dir.js';

const LOCK_STALE_MS = 30_000;
/**
 * A live holder writes its name right after making the lock, and removes the lock before its name: a lock
 * without a name older than this was left by a process that died in between.
 */
const NAMELESS_MS = 3000;

function lockedMessage(dir: string): string {
  return `The image index in ${dir} is open in another process (the embedded database serves one process). Stop that process, or set DATABASE_URL to a PostgreSQL server that several processes can share.`;
}

function ownerOf(ownerFile: string): { host: string; pid: number } | null {
  try {
    const m = /^(\S+) (\d+)$/.exec(readFileSync(ownerFile, 'utf8').trim());
    return m ? { host: m[1]!, pid: Number(m[2]) } : null;
  } catch {
    return null;
  }
}

/** Take over the lock when its holder was a process on this machine that no longer runs; true when it did. */
function clearDeadHolder(lockDir: string, ownerFile: string, log: Logger | undefined): boolean {
  const owner = ownerOf(ownerFile);
  if (owner) {
    if (owner.host !== hostname() || isAlive(owner.pid)) return false;
    log?.warn({ pid: owner.pid }, 'image index: taking over the lock of a process that is gone');
  } else {
    let age: number;
    try { age = Date.now() - statSync(lockDir).mtimeMs; } catch { return true; } // gone meanwhile: try again
    if (age < NAMELESS_MS) return false;
    log?.warn({ ageMs: Math.round(age) }, 'image index: taking over a lock whose holder left without naming itself');
  }
  rmSync(ownerFile, { force: true });
  try { rmdirSync(lockDir); } catch { /* someone else was faster */ }
  return true;
}

/** Lock `dir` for this process; resolves to the release. Fails with DATABASE_LOCKED while another process holds it. */
export async function lockDataDir(dir: string, log?: Logger, o: { refreshMs?: number } = {}): Promise<() => Promise<void>> {
  const lockDir = `${dir}.lock`;
  const ownerFile = `${dir}.lock.owner`;
  const take = () => lockfile.lock(dir, {
    lockfilePath: lockDir, stale: LOCK_STALE_MS, update: o.refreshMs ?? LOCK_STALE_MS / 3, realpath: false, retries: 0,
    onCompromised: (err) => log?.error({ err }, 'image index: the lock on its directory was lost; another process may be using it'),
  });
  const locked = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ELOCKED';
  let release: () => Promise<void>;
  try {
    release = await take();
  } catch (err) {
    if (!locked(err)) throw err;
    if (!clearDeadHolder(lockDir, ownerFile, log)) throw new ZimageError('DATABASE_LOCKED', lockedMessage(dir));
    try {
      release = await take();
    } catch (again) {
      if (locked(again)) throw new ZimageError('DATABASE_LOCKED', lockedMessage(dir));
      throw again;
    }
  }
  const me = `${hostname()} ${process.pid}`;
  writeFileSync(ownerFile, me);
  return async () => {
    await release().catch((err: unknown) => log?.warn({ err }, 'image index: could not release the lock on its directory'));
    if (readFileSafe(ownerFile) === me) rmSync(ownerFile, { force: true });
  };
}

function readFileSafe(file: string): string | null {
  try { return readFileSync(file, 'utf8'); } catch { return null; }
}
