/** The load benchmarks' child processes: the bot and the workers as separate Node processes (BENCH_DEBUG=1 shows their output). */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export function spawnNode(script: string, env: NodeJS.ProcessEnv, tag: string): ChildProcess {
  // BENCH_BOT_NODE_ARGS / BENCH_WORKER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profile the bot / the workers.
  const extra = ((tag === 'bot' ? process.env.BENCH_BOT_NODE_ARGS : process.env.BENCH_WORKER_NODE_ARGS) ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...extra, resolve(script)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.on('data', (d: Buffer) => { if (process.env.BENCH_DEBUG) process.stderr.write(`[${tag}] ${d.toString()}`); });
  child.stdout?.on('data', (d: Buffer) => { if (process.env.BENCH_DEBUG) process.stderr.write(`[${tag}] ${d.toString()}`); });
  return child;
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** A process's CPU time so far (user + system, seconds), from /proc (Linux; 0 elsewhere). */
export function processCpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces, inside parentheses): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}
