/**
 * One redis-server per data directory. The directory holds an owner record (who supervises its server, for
 * whom, on which port) and redis-server's own pid file. Before a new server is started, whatever an earlier run
 * left there is dealt with: a supervisor that is winding down is waited for, an orphaned server (its node
 * process and supervisor were killed) is stopped with SIGTERM (it flushes its append-only file), and a server
 * still in use by a live process is never touched: the start is refused instead. Never two servers on one
 * append-only file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { ZimageError } from '../errors.js';

export const OWNER_FILE = 'owner.json';
export const PID_FILE = 'redis.pid';
/** What the supervisor's command line carries (recognised in /proc). */
export const SUPERVISOR_MARK = 'redis-supervisor';

export interface OwnerRecord {
  /** The node process the server is for (the bot, `npm start`, the test run). */
  ownerPid: number;
  supervisorPid: number;
  redisPid: number;
  port: number;
  startedAt: string;
}

export function readOwner(dir: string): OwnerRecord | null {
  try {
    const rec = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as OwnerRecord;
    return Number.isInteger(rec.supervisorPid) && Number.isInteger(rec.redisPid) ? rec : null;
  } catch {
    return null;
  }
}

export function writeOwner(dir: string, rec: OwnerRecord): void {
  writeFileSync(join(dir, OWNER_FILE), `${JSON.stringify(rec)}\n`);
}

/** Remove the owner record if it is still the one `supervisorPid` wrote. */
export function removeOwner(dir: string, supervisorPid: number): void {
  if (readOwner(dir)?.supervisorPid === supervisorPid) rmSync(join(dir, OWNER_FILE), { force: true });
}

/** True while `pid` runs (a zombie, exited but not yet reaped by its parent, does not count). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = readText(`/proc/${pid}/stat`);
  return stat === null || stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

const hasProc = existsSync('/proc/self/stat');

/**
 * The redis-server processes working in `dir`. With /proc (Linux): every redis-server whose current directory
 * is `dir` (redis chdirs to --dir), whoever started it. Elsewhere: the pid in redis-server's pid file, if alive.
 */
export function redisServersOn(dir: string): number[] {
  if (!hasProc) {
    const pid = Number(readText(join(dir, PID_FILE)));
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) && commandOf(pid).includes('redis-server') ? [pid] : [];
  }
  const want = realpathSync(dir);
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    if (readText(`/proc/${name}/comm`)?.trim() !== 'redis-server') continue;
    try {
      if (readlinkSync(`/proc/${name}/cwd`) === want) pids.push(Number(name));
    } catch { /* exited meanwhile */ }
  }
  return pids;
}

/** The supervisor of `dir` recorded in its owner record, if that process is alive and is that supervisor. */
function liveSupervisor(dir: string, rec: OwnerRecord | null): number | null {
  if (!rec || !isAlive(rec.supervisorPid)) return null;
  if (!hasProc) return rec.supervisorPid;
  const cmd = readText(`/proc/${rec.supervisorPid}/cmdline`) ?? '';
  return cmd.includes(SUPERVISOR_MARK) && cmd.includes(dir) ? rec.supervisorPid : null;
}

/** The command name of `pid` from ps(1) (no /proc), '' when it cannot be read. */
function commandOf(pid: number): string {
  try {
    return execFileSync('ps', ['-p', String(pid), '-o', 'comm='], { encoding: 'utf8', timeout: 2000 });
  } catch {
    return '';
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Hold the data directory's start lock while `work` runs (starts of one directory happen one at a time). */
export async function withDirLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const release = await lockfile.lock(dir, {
    lockfilePath: join(dir, 'start.lock'), stale: 10_000, realpath: false,
    retries: { retries: 100, minTimeout: 100, maxTimeout: 300 },
  });
  try {
    return await work();
  } finally {
    await release().catch(() => undefined);
  }
}

export interface ClearOptions {
  /** How long a winding-down supervisor or a stopping orphan may take (default 15 s). */
  timeoutMs?: number;
  /** Told about an orphan being stopped. */
  onOrphan?: (pid: number) => void;
}

/** Make `dir` free for a new server (see the file comment); call it holding the directory's start lock. */
export async function clearLeftovers(dir: string, o: ClearOptions = {}): Promise<void> {
  const until = Date.now() + (o.timeoutMs ?? 15_000);
  const signalled = new Set<number>();
  for (;;) {
    const rec = readOwner(dir);
    const supervisor = liveSupervisor(dir, rec);
    const servers = redisServersOn(dir);
    if (supervisor === null && servers.length === 0) {
      rmSync(join(dir, OWNER_FILE), { force: true });
      rmSync(join(dir, PID_FILE), { force: true });
      return;
    }
    if (supervisor !== null && servers.length > 0 && rec && isAlive(rec.ownerPid)) {
      throw new ZimageError('REDIS_DIR_IN_USE',
        `${dir} is in use: its redis-server (pid ${servers[0]}, port ${rec.port}) runs for process ${rec.ownerPid}. Stop that process, or give this one another DATA_DIR.`);
    }
    // A supervisor whose owner is gone is stopping its server now; an orphan (no supervisor) is stopped here.
    if (supervisor === null) {
      for (const pid of servers) {
        if (signalled.has(pid)) continue;
        signalled.add(pid);
        o.onOrphan?.(pid);
        try { process.kill(pid, 'SIGTERM'); } catch { /* gone already */ }
      }
    }
    if (Date.now() > until) {
      throw new ZimageError('REDIS_DIR_BUSY',
        `the redis-server left in ${dir} by an earlier run (pid ${servers.join(', ') || supervisor}) did not stop within ${Math.round((o.timeoutMs ?? 15_000) / 1000)} s; stop it and start again`);
    }
    await sleep(50);
  }
}
