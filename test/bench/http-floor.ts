/**
 * The floor under the burst figures: a bare Node HTTP server (no framework, no Redis, nothing after the answer)
 * that reads each POST's JSON body and answers 201, in a process of its own as the bot is, hit by the burst's
 * client the same way — a warm-up burst of 200 people, then 500 at the same instant. Whatever ack latency this
 * shows on a machine, the bot cannot beat there. `node dist/test/bench/http-floor.js [--people 500]`; prints
 * one line of figures (`--in-process` runs the server in the client's process, as this script first did).
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
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

/** The server: answers every POST with 201 once its JSON body is read; tells its parent the port. */
function serve(): void {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const msg = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { user: string };
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `m${msg.user}` }));
    });
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  // Asked for its CPU time (user + system, µs) before and after the measured burst.
  process.on('message', () => { const u = process.cpuUsage(); process.send?.({ cpuUs: u.user + u.system }); });
  process.on('disconnect', () => process.exit(0));
}

interface FloorServer { base: string; stop: () => void; cpuUs: () => Promise<number> }

async function startServer(inProcess: boolean): Promise<FloorServer> {
  if (inProcess) {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end(Buffer.concat(chunks)));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const cpuUs = (): Promise<number> => { const u = process.cpuUsage(); return Promise.resolve(u.user + u.system); };
    return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stop: () => server.close(), cpuUs };
  }
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: 'inherit' });
  const port = await new Promise<number>((ok, fail) => {
    child.once('message', (m) => ok((m as { port: number }).port));
    child.once('exit', (code) => fail(new Error(`the floor server exited (${code})`)));
  });
  const cpuUs = (): Promise<number> => new Promise((ok) => {
    child.once('message', (m) => ok((m as { cpuUs: number }).cpuUs));
    child.send('cpu');
  });
  return { base: `http://127.0.0.1:${port}`, stop: () => child.kill(), cpuUs };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const people = Number(args[args.indexOf('--people') + 1]) || 500;
  const inProcess = args.includes('--in-process');
  const server = await startServer(inProcess);
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

if (process.argv.includes('--serve')) serve();
else void main();
