/**
 * The private Redis's supervisor: a tiny process of its own (started detached by embedded-redis.ts, in a session
 * and process group of its own), which runs redis-server as its child and stops it (SIGTERM: the append-only
 * file is flushed) as soon as the node process it serves is gone — whether that process exited, crashed or was
 * SIGKILLed (its IPC channel closes; its pid is checked every second as well). A terminal's Ctrl+C or systemd's
 * SIGTERM to the bot's process group does not reach it, so the bot stops first and tells it to stop Redis last.
 *
 * Messages to the parent: `ready` {redisPid}, `failed` {code, message}, `exited` {code, signal} (Redis died).
 * From the parent: `stop`.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeOwner, writeOwner } from './redis-dir.js';

export interface SupervisorConfig {
  dir: string;
  port: number;
  binary: string;
  args: string[];
  parentPid: number;
}

export type SupervisorMessage =
  | { type: 'ready'; redisPid: number }
  | { type: 'failed'; code: string; message: string }
  | { type: 'exited'; code: number | null; signal: string | null };

/** How long redis-server may take to stop on SIGTERM before it is killed. */
const STOP_MS = 10_000;
const START_MS = 10_000;

/** PING over a raw socket: true when the server answers +PONG. */
export function ping(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((ok) => {
    const sock = connect({ port, host: '127.0.0.1' });
    let buf = '';
    sock.setTimeout(timeoutMs, () => { sock.destroy(); ok(false); });
    sock.on('error', () => ok(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) { sock.end(); ok(buf.startsWith('+PONG')); }
    });
  });
}

function supervise(cfg: SupervisorConfig): void {
  const send = (m: SupervisorMessage): void => { if (process.connected) process.send?.(m); };
  let ready = false;
  let stopping = false;
  let exited = false;
  const redis = spawn(cfg.binary, cfg.args, { cwd: cfg.dir, stdio: 'ignore' });
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    if (exited) return finish(0);
    redis.kill('SIGTERM');
    setTimeout(() => redis.kill('SIGKILL'), STOP_MS).unref();
  };
  const finish = (code: number): never => {
    removeOwner(cfg.dir, process.pid);
    process.exit(code);
  };
  redis.once('error', (err: NodeJS.ErrnoException) => {
    exited = true;
    send(err.code === 'ENOENT'
      ? { type: 'failed', code: 'REDIS_SERVER_MISSING', message: `${cfg.binary} was not found on PATH` }
      : { type: 'failed', code: 'REDIS_START_FAILED', message: err.message });
    finish(1);
  });
  redis.once('exit', (code, signal) => {
    exited = true;
    if (!ready) send({ type: 'failed', code: 'REDIS_START_FAILED', message: `redis-server exited at start (${signal ?? `code ${code}`})` });
    else if (!stopping) send({ type: 'exited', code, signal });
    finish(stopping || code === 0 ? 0 : 1);
  });
  process.on('disconnect', stop);
  process.on('message', (m: { type?: string }) => { if (m?.type === 'stop') stop(); });
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, stop);
  // The IPC channel closes when the parent dies; its pid is checked too, in case the channel is shared.
  setInterval(() => { if (process.ppid !== cfg.parentPid) stop(); }, 1000).unref();

  void (async () => {
    const until = Date.now() + START_MS;
    while (!exited && !stopping && !(await ping(cfg.port))) {
      if (Date.now() > until) {
        send({ type: 'failed', code: 'REDIS_START_FAILED', message: `redis-server did not answer on port ${cfg.port} within ${START_MS / 1000} s` });
        stop();
        return;
      }
      await sleep(25);
    }
    if (exited || stopping) return;
    ready = true;
    writeOwner(cfg.dir, { ownerPid: cfg.parentPid, supervisorPid: process.pid, redisPid: redis.pid!, port: cfg.port, startedAt: new Date().toISOString() });
    send({ type: 'ready', redisPid: redis.pid! });
  })();
}

// Run only as the supervisor process (the parent passes the configuration as the one argument).
if (process.send && process.argv[2]?.startsWith('{')) supervise(JSON.parse(process.argv[2]) as SupervisorConfig);
