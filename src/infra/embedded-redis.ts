/**
 * A private redis-server for the no-configuration default (and for tests when REDIS_URL is unset):
 * a free loopback port, data in its own directory, append-only file on so queued work survives a restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZimageError } from '../errors.js';

export interface EmbeddedRedis {
  url: string;
  port: number;
  dir: string;
  /** Stop the server (SHUTDOWN with the AOF flushed). Safe to call twice. */
  stop(): Promise<void>;
  /** Kill -9 (fault-injection in tests). */
  kill(): void;
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

function ping(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const sock = connect({ port, host: '127.0.0.1' });
    let buf = '';
    sock.setTimeout(500, () => { sock.destroy(); ok(false); });
    sock.on('error', () => ok(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) { sock.end(); ok(buf.startsWith('+PONG')); }
    });
  });
}

export interface EmbeddedRedisOptions {
  dir: string;
  port?: number;
  binary?: string;
}

export async function startEmbeddedRedis(opts: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const binary = opts.binary ?? 'redis-server';
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
    '--daemonize', 'no', '--protected-mode', 'yes', '--logfile', 'redis.log',
  ];
  let child: ChildProcess;
  try {
    child = await new Promise<ChildProcess>((ok, fail) => {
      const c = spawn(binary, args, { stdio: 'ignore' });
      c.once('spawn', () => ok(c));
      c.once('error', fail);
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ZimageError('REDIS_SERVER_MISSING',
        'redis-server was not found on PATH. Install it (Debian/Ubuntu: `sudo apt-get install -y redis-server`, macOS: `brew install redis`) or set REDIS_URL to an existing Redis.');
    }
    throw err;
  }
  let exited = false;
  child.once('exit', () => { exited = true; });
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (exited) throw new ZimageError('REDIS_START_FAILED', `redis-server exited at start; see ${resolve(dir, 'redis.log')}`);
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new ZimageError('REDIS_START_FAILED', `redis-server did not answer on port ${port} within 10 s`); }
    await sleep(50);
  }
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM'); // redis-server flushes the AOF on SIGTERM
    const until = Date.now() + 5000;
    while (!exited && Date.now() < until) await sleep(25);
    if (!exited) child.kill('SIGKILL');
  };
  const onExit = (): void => { if (!exited) child.kill('SIGTERM'); };
  process.once('exit', onExit);
  return { url: `redis://127.0.0.1:${port}`, port, dir, stop, kill: () => { if (!exited) child.kill('SIGKILL'); } };
}
