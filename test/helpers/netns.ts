/**
 * A second host for tests that must prove what another machine can (not) reach: a network namespace of the
 * test's own with a veth pair to this machine (10.x.y.1 here, 10.x.y.2 there). Traffic goes only between the
 * two ends. Needs root or password-less sudo for `ip` (CI runs as root).
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SecondHost {
  /** This machine's address on the link (where the other host reaches us). */
  hostIp: string;
  /** The other host's address. */
  peerIp: string;
  /** Run a Node.js script on the other host; its stdout (trimmed). */
  node(script: string, timeoutMs?: number): Promise<string>;
  destroy(): Promise<void>;
}

const sudo = (): string[] => (process.getuid?.() === 0 ? [] : ['sudo', '-n']);

async function ip(...args: string[]): Promise<void> {
  const [cmd, ...rest] = [...sudo(), 'ip', ...args];
  await run(cmd!, rest);
}

export async function secondHost(): Promise<SecondHost> {
  const id = randomBytes(3).toString('hex');
  const ns = `zt${id}`;
  const here = `zh${id}`;
  const there = `zp${id}`;
  const net = `10.${randomInt(100, 250)}.${randomInt(0, 255)}`;
  const hostIp = `${net}.1`;
  const peerIp = `${net}.2`;
  try {
    await ip('netns', 'add', ns);
    await ip('link', 'add', here, 'type', 'veth', 'peer', 'name', there);
    await ip('link', 'set', there, 'netns', ns);
    await ip('addr', 'add', `${hostIp}/30`, 'dev', here);
    await ip('link', 'set', here, 'up');
    await ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${peerIp}/30`, 'dev', there);
    await ip('netns', 'exec', ns, 'ip', 'link', 'set', there, 'up');
    await ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    await ip('link', 'del', here).catch(() => undefined);
    await ip('netns', 'del', ns).catch(() => undefined);
    throw new Error(`could not create a network namespace for a second host (needs root or sudo for ip): ${(err as Error).message}`);
  }
  return {
    hostIp, peerIp,
    async node(script, timeoutMs = 15_000) {
      const [cmd, ...rest] = [...sudo(), 'ip', 'netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script];
      const { stdout } = await run(cmd!, rest, { timeout: timeoutMs });
      return stdout.trim();
    },
    async destroy() {
      await ip('link', 'del', here).catch(() => undefined);
      await ip('netns', 'del', ns).catch(() => undefined);
    },
  };
}

/** A script for SecondHost.node: fetch each request in turn and print [{status, setCookie, location, body}]. */
export function fetchScript(requests: Array<{ url: string; method?: string; headers?: Record<string, string>; body?: string }>): string {
  return `
const out = [];
for (const r of ${JSON.stringify(requests)}) {
  try {
    const res = await fetch(r.url, { method: r.method ?? 'GET', headers: r.headers, body: r.body, redirect: 'manual', signal: AbortSignal.timeout(5000) });
    const stream = res.headers.get('content-type')?.includes('event-stream');
    const body = stream ? '' : (await res.text()).slice(0, 300);
    if (stream) await res.body.cancel();
    out.push({ status: res.status, setCookie: res.headers.get('set-cookie'), location: res.headers.get('location'), body });
  } catch (e) {
    out.push({ status: 0, error: String(e.cause?.code ?? e.message) });
  }
}
console.log(JSON.stringify(out));`;
}
