/**
 * The floor under the burst figures: a bare Node HTTP server (no framework, no Redis, nothing after the answer)
 * that reads each POST's JSON body and answers 201, hit by the burst's client the same way — a warm-up burst of
 * 200 people, then 500 at the same instant. Whatever ack latency this shows on a machine, the bot cannot beat
 * there. `node dist/test/bench/http-floor.js [--people 500]`; prints one line of figures.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { send } from './bench-http.js';
import { percentile } from './stats.js';

async function burst(base: string, people: number): Promise<number[]> {
  const body = (i: number): Buffer => Buffer.from(JSON.stringify({ user: `p${i}`, text: `/zimage a lighthouse at dusk --seed ${i}` }));
  const bodies = Array.from({ length: people }, (_, i) => body(i));
  const start = Date.now();
  return Promise.all(bodies.map(async (b) => {
    await send(base, 'POST', '/api/playground/messages', { body: b, headers: { 'content-type': 'application/json' } });
    return Date.now() - start;
  }));
}

async function main(): Promise<void> {
  const people = Number(process.argv[process.argv.indexOf('--people') + 1]) || 500;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const msg = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { user: string };
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `m${msg.user}` }));
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await burst(base, 200);
  await new Promise((r) => setTimeout(r, 500));
  const acks = await burst(base, people);
  const f = (p: number): string => `${percentile(acks, p)} ms`;
  process.stdout.write(`bare Node HTTP server, ${people} POSTs at once: ack p50 ${f(50)}, p95 ${f(95)}, p99 ${f(99)}, max ${f(100)}\n`);
  server.close();
  process.exit(0);
}

void main();
