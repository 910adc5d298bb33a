/**
 * Real OS processes for the lifecycle tests: the compiled entry points (dist/), each in a process group of its
 * own (as a terminal or systemd starts it), their output kept for assertions, and what runs on a data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface AppProcess {
  child: ChildProcess;
  pid: number;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with how long after `since` the process exited (and how). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Start `dist/<entry>` as the leader of a new process group (like a shell job); REDIS_URL only if given. */
export function spawnApp(entry: string, env: Record<string, string>): AppProcess {
  const base = { ...process.env };
  delete base.REDIS_URL;
  const child = spawn(process.execPath, [resolve('dist', entry)], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString();
    if (process.env.ZIMAGE_TEST_DEBUG) process.stderr.write(d);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((ok) => {
    child.once('exit', (code, signal) => ok({ code, signal, at: Date.now() }));
  });
  return { child, pid: child.pid!, output: () => out, exited };
}

/** Signal a whole process group, ignoring "already gone". */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pgid, signal); } catch { /* gone */ }
}

export function killPid(pid: number, signal: NodeJS.Signals): void {
  try { process.kill(pid, signal); } catch { /* gone */ }
}

/** Running (a zombie — exited, not yet reaped — is not). */
export function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Wait until `check` holds (polling), or fail with `what`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * The port the process listens on (run it with PORT=0: no other test can take a port chosen for it in between),
 * from its own "listening on" log line, once it answers /healthz there.
 */
export async function waitListening(app: AppProcess, timeoutMs = 60_000): Promise<number> {
  let port = 0;
  await until(async () => {
    if (app.child.exitCode !== null) throw new Error(`process exited (${app.child.exitCode}) before answering:\n${app.output()}`);
    port ||= Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(app.output())?.[1] ?? 0);
    return port > 0 && fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
  }, timeoutMs, 'the process to listen and answer /healthz');
  return port;
}

/** pids of the redis-server processes working in `dir` (their current directory: redis chdirs to --dir). Linux /proc. */
export function redisServersOn(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const want = realpathSync(dir);
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() !== 'redis-server') continue;
      if (readlinkSync(`/proc/${name}/cwd`) === want) pids.push(Number(name));
    } catch { /* exited meanwhile, or not ours to read */ }
  }
  return pids;
}

/** pids of every process in process group `pgid` (Linux /proc). */
export function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid pgrp …: comm may hold spaces, so read after its closing parenthesis.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) pids.push(Number(name));
    } catch { /* gone */ }
  }
  return pids;
}

/** Lines of pino JSON output whose `msg` matches. */
export function logLines(output: string, msg: RegExp): string[] {
  return output.split('\n').filter((l) => {
    try { return msg.test(String((JSON.parse(l) as { msg?: unknown }).msg ?? '')); } catch { return false; }
  });
}
