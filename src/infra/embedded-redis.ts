/**
 * A private redis-server for the no-configuration default (and for tests when REDIS_URL is unset): a free
 * loopback port, data in its own directory, append-only file on so queued work survives a restart.
 *
 * - One server per data directory (redis-dir.ts): starts take the directory's lock, and a server left by a
 *   killed run is stopped first; a directory in use by a live process is refused.
 * - The server never outlives this process: it runs under a supervisor (redis-supervisor.ts) that stops it when
 *   this process is gone, however it ended.
 * - It runs outside this process's group and session, so a terminal's Ctrl+C or a group SIGTERM reaches the bot
 *   only; the bot stops the server itself, last, with `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { isErrorCode, ZimageError } from '../errors.js';
import { compiledSibling } from './paths.js';
import { clearLeftovers, PID_FILE, withDirLock } from './redis-dir.js';
import type { SupervisorConfig, SupervisorMessage } from './redis-supervisor.js';

export interface EmbeddedRedis {
  url: string;
  port: number;
  dir: string;
  /** The redis-server's pid. */
  pid: number;
  /** Stop the server (SIGTERM: the append-only file is flushed), waiting at most `timeoutMs`. Safe to call twice. */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL the server (fault injection in tests); its supervisor then exits too. */
  kill(): void;
  /** Called once if the server exits without being asked to (crashed, killed). */
  onUnexpectedExit(listener: (how: string) => void): void;
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => ok(port));
    });
  });
}

export interface EmbeddedRedisOptions {
  dir: string;
  port?: number;
  binary?: string;
  /** Told when a server left by a killed run is stopped. */
  onOrphan?: (pid: number) => void;
}

const READY_MS = 20_000;
const STOP_MS = 10_000;

export async function startEmbeddedRedis(opts: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const supervisorJs = compiledSibling(import.meta.url, 'redis-supervisor.js', 'REDIS_SUPERVISOR_NOT_BUILT');
  const { child, redisPid, port } = await withDirLock(dir, async () => {
    await clearLeftovers(dir, opts.onOrphan ? { onOrphan: opts.onOrphan } : {});
    const port = opts.port ?? (await freePort());
    const cfg: SupervisorConfig = {
      dir, port, binary: opts.binary ?? 'redis-server', parentPid: process.pid,
      args: [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--pidfile', join(dir, PID_FILE),
        '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
        '--daemonize', 'no', '--protected-mode', 'yes', '--logfile', 'redis.log',
      ],
    };
    const log = openSync(join(dir, 'supervisor.log'), 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [supervisorJs, JSON.stringify(cfg)], { detached: true, stdio: ['ignore', 'ignore', log, 'ipc'] });
    } finally {
      closeSync(log);
    }
    const redisPid = await readyOf(child, port, dir);
    return { child, redisPid, port };
  });
  return handle(child, redisPid, port, dir);
}

/** Wait for the supervisor's `ready` (or its reason for failing). */
function readyOf(child: ChildProcess, port: number, dir: string): Promise<number> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => { child.kill('SIGTERM'); done(new ZimageError('REDIS_START_FAILED', `redis-server did not answer on port ${port} within ${READY_MS / 1000} s; see ${join(dir, 'redis.log')}`)); }, READY_MS);
    const onMessage = (m: SupervisorMessage): void => {
      if (m.type === 'ready') done(null, m.redisPid);
      else if (m.type === 'failed') done(startError(m.code, m.message, dir));
    };
    const onExit = (code: number | null): void => done(new ZimageError('REDIS_START_FAILED', `the Redis supervisor exited at start (code ${code}); see ${join(dir, 'supervisor.log')}`));
    const done = (err: Error | null, pid?: number): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) fail(err);
      else ok(pid!);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.once('error', (err) => done(err));
  });
}

function startError(code: string, message: string, dir: string): ZimageError {
  const known = isErrorCode(code) ? code : 'REDIS_START_FAILED';
  if (code === 'REDIS_SERVER_MISSING') {
    return new ZimageError(code, 'redis-server was not found on PATH. Install it (Debian/Ubuntu: `sudo apt-get install -y redis-server`, macOS: `brew install redis`) or set REDIS_URL to an existing Redis.');
  }
  return new ZimageError(known, `${message}; see ${join(dir, 'redis.log')}`);
}

function killQuietly(pid: number): void {
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ }
}

function handle(child: ChildProcess, pid: number, port: number, dir: string): EmbeddedRedis {
  // This process must not stay alive for the supervisor's sake (nor it for ours: it watches our pid).
  child.unref();
  child.channel?.unref();
  let asked = false;
  const listeners: Array<(how: string) => void> = [];
  const gone = new Promise<void>((ok) => child.once('exit', () => ok()));
  child.on('message', (m: SupervisorMessage) => {
    if (m.type !== 'exited' || asked) return;
    const how = m.signal ? `killed by ${m.signal}` : `exit code ${m.code}`;
    for (const l of listeners.splice(0)) l(how);
  });
  child.on('error', () => undefined);
  return {
    url: `redis://127.0.0.1:${port}`, port, dir, pid,
    async stop(timeoutMs = STOP_MS) {
      asked = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'stop' }, () => undefined);
      else child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([gone, new Promise<void>((ok) => { timer = setTimeout(ok, timeoutMs); })]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) {
        // The last resort: neither stopped in time.
        for (const p of [pid, child.pid!]) killQuietly(p);
      }
    },
    kill() {
      killQuietly(pid);
    },
    onUnexpectedExit(listener) {
      listeners.push(listener);
    },
  };
}

