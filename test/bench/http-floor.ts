/**
 * The floor under the burst figures: the bare Node HTTP server (bare-server.ts), in a process of its own as the
 * bot is, hit by the burst's client the same way — a warm-up burst of 200 people, then 500 at the same instant.
 * Whatever ack latency this shows on a machine, the bot cannot beat there. `node dist/test/bench/http-floor.js [--people 500]`; prints
 * one line of figures (`--in-process` runs the server in the client's process, as this script first did).
 */
import { startBareServer } from './bare-server.js';
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
  const args = process.argv.slice(2);
  const people = Number(args[args.indexOf('--people') + 1]) || 500;
  const inProcess = args.includes('--in-process');
  const server = await startBareServer({ inProcess });
  await burst(server.base, 200);
  await new Promise((r) => setTimeout(r, 500));
  const cpu0 = await server.cpuUs();
  const acks = await burst(server.base, people);
  const cpuMs = ((await server.cpuUs()) - cpu0) / 1000 / people;
  const f = (p: number): string => `${percentile(acks, p)} ms`;
  process.stdout.write(`bare Node HTTP server (${inProcess ? 'in the client\'s process: its CPU includes the client\'s' : 'a process of its own'}), ${people} POSTs at once: `
    + `ack p50 ${f(50)}, p95 ${f(95)}, p99 ${f(99)}, max ${f(100)}; server CPU per request ${cpuMs.toFixed(2)} ms\n`);
  server.stop();
  process.exit(0);
}

void main();
