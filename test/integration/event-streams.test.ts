/**
 * Playground event streams under slow readers (real Redis, real HTTP): pages that stop reading are dropped
 * once they fall a bounded buffer behind, so the bot's memory stays bounded while a reading page keeps
 * receiving everything; streams are capped in total and per address.
 */
import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { PlaygroundAdapter } from '../../adapters/playground/playground-adapter.js';
import { startBot, testEnv } from '../helpers/harness.js';
import { pgPost } from '../helpers/playground-http.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => { while (cleanups.length) await cleanups.pop()!(); });

/** An event-stream client that reads nothing after the response head (its socket is paused). */
function stalledReader(port: number): Promise<Socket> {
  return new Promise((ok, fail) => {
    const s = connect({ port, host: '127.0.0.1' }, () => {
      s.write('GET /api/playground/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    });
    s.once('data', () => { s.pause(); ok(s); });
    s.once('error', fail);
  });
}

/** A page reading the event stream: `onMessage` gets each message event's message (until `signal` aborts). */
function readMessages(base: string, signal: AbortSignal, onMessage: (m: Record<string, unknown>) => void): void {
  void (async () => {
    const res = await fetch(`${base}/api/playground/events`, { signal });
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body!) {
      buf += decoder.decode(chunk as Uint8Array, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const [head, data] = buf.slice(0, i).split('\n');
        if (head === 'event: message') onMessage(JSON.parse(data!.slice('data: '.length)) as Record<string, unknown>);
        buf = buf.slice(i + 2);
      }
    }
  })().catch(() => undefined);
}

function usedMemory(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

describe('Playground event streams', () => {
  it('50 readers that never read while 1 000 messages are posted: memory stays bounded, a reading page gets every message', async () => {
    const BUFFER = 64 * 1024;
    const t = await testEnv({ PLAYGROUND_MAX_STREAMS_PER_ADDRESS: '100', PLAYGROUND_STREAM_BUFFER_BYTES: String(BUFFER) });
    cleanups.push(() => t.cleanup());
    const bot = await startBot(t);
    cleanups.push(() => bot.stop());
    const base = `http://127.0.0.1:${bot.boundPort}`;
    const pg = bot.adapters.get('playground') as PlaygroundAdapter;

    const stalled = await Promise.all(Array.from({ length: 50 }, () => stalledReader(bot.boundPort)));
    cleanups.push(() => { for (const s of stalled) s.destroy(); });
    // The reading page: counts the message events it gets.
    const ac = new AbortController();
    cleanups.push(() => ac.abort());
    let received = 0;
    readMessages(base, ac.signal, () => { received++; });
    await sleep(200);
    expect(pg.streams.size).toBe(51);

    const before = usedMemory();
    let peak = 0;
    const text = `hello ${'x'.repeat(7000)}`;
    for (let i = 0; i < 1000; i += 20) {
      const res = await Promise.all(Array.from({ length: 20 }, (_, k) => pgPost(base, '/api/playground/messages', { user: `w${k}`, text: `${i + k} ${text}` })));
      expect(res.map((r) => r.status)).toEqual(res.map(() => 201));
      peak = Math.max(peak, pg.streams.bufferedBytes());
    }
    const until = Date.now() + 20_000;
    while (received < 1000 && Date.now() < until) await sleep(50);
    const after = usedMemory();

    expect(received).toBe(1000);
    // Bound: at most BUFFER (plus the event being written) waits in the bot per stream; without the bound the
    // stalled streams held 150 MB and more of the ~350 MB sent to them.
    expect(peak, `peak ${Math.round(peak / 1e6)} MB waiting`).toBeLessThanOrEqual(51 * (BUFFER + 8 * 1024));
    expect(after - before, `grew by ${Math.round((after - before) / 1e6)} MB`).toBeLessThan(51 * BUFFER + 40 * 1024 * 1024);
    // Every stalled reader fell behind by more than the buffer (each was sent ~7 MB) and was dropped.
    expect(pg.streams.dropped).toBe(50);
    expect(pg.streams.size).toBe(1);
  }, 60_000);

  it('streams are capped per address (429) and in total (503); a closed stream frees its place', async () => {
    const t = await testEnv({ PLAYGROUND_MAX_STREAMS_PER_ADDRESS: '3', PLAYGROUND_MAX_STREAMS: '5' });
    cleanups.push(() => t.cleanup());
    const bot = await startBot(t);
    cleanups.push(() => bot.stop());
    // Several client addresses on this machine: all of 127.0.0.0/8 is loopback.
    const open = (from: string): Promise<{ status: number; close: () => void }> => new Promise((ok, fail) => {
      const s = connect({ port: bot.boundPort, host: '127.0.0.1', localAddress: from }, () => {
        s.write('GET /api/playground/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      });
      s.once('data', (d: Buffer) => ok({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(d.toString('latin1'))?.[1]), close: () => s.destroy() }));
      s.once('error', fail);
      cleanups.push(() => { s.destroy(); });
    });
    const first = await Promise.all([open('127.0.0.1'), open('127.0.0.1'), open('127.0.0.1')]);
    expect(first.map((x) => x.status)).toEqual([200, 200, 200]);
    expect((await open('127.0.0.1')).status).toBe(429);
    expect((await Promise.all([open('127.0.0.2'), open('127.0.0.2')])).map((x) => x.status)).toEqual([200, 200]);
    expect((await open('127.0.0.3')).status).toBe(503);
    first[0]!.close();
    await sleep(200);
    expect((await open('127.0.0.3')).status).toBe(200);
    expect((await open('127.0.0.1')).status).toBe(503);
  });

  it('two bots on one Redis: a page on either gets every message once, its own bot\'s and the other\'s', async () => {
    const t = await testEnv();
    cleanups.push(() => t.cleanup());
    const bots = [await startBot(t), await startBot(t)];
    for (const b of bots) cleanups.push(() => b.stop());
    const bases = bots.map((b) => `http://127.0.0.1:${b.boundPort}`);
    const ac = new AbortController();
    cleanups.push(() => ac.abort());
    const seen = bases.map(() => [] as string[]);
    bases.forEach((base, k) => readMessages(base, ac.signal, (m) => { seen[k]!.push(String(m.text)); }));
    await sleep(200);
    const sent: string[] = [];
    for (let i = 0; i < 10; i++) {
      const text = `replica check ${i}`;
      sent.push(text);
      expect((await pgPost(bases[i % 2]!, '/api/playground/messages', { user: `r${i % 3}`, text })).status).toBe(201);
    }
    const until = Date.now() + 10_000;
    while (seen.some((s) => s.length < sent.length) && Date.now() < until) await sleep(50);
    await sleep(300); // a duplicate would arrive by now
    for (const s of seen) expect([...s].sort()).toEqual([...sent].sort());
  });
});
