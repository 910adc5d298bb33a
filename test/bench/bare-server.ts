/**
 * The benchmarks' bare Node HTTP server, the floor under the bot's figures: no framework, no Redis, nothing after
 * the answer — it reads and parses each request's JSON body and answers 201 with a small JSON. By default in a process of its own,
 * as the bot is; `inProcess` runs it in the caller's process. `cpuUs()` reads the server process's CPU time
 * (user + system, µs).
 */
import { fork } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface BareServer { base: string; stop: () => void; cpuUs: () => Promise<number> }

const CHILD_FLAG = '--bare-server-child';

function listenBare(): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // As a real route would: the JSON body is parsed before the answer.
      const body = Buffer.concat(chunks);
      let ok = true;
      try { if (body.length > 0) JSON.parse(body.toString('utf8')); } catch { ok = false; }
      res.writeHead(ok ? 201 : 400, { 'content-type': 'application/json' }).end(`{"ok":${ok}}`);
    });
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

const ownCpuUs = (): number => { const u = process.cpuUsage(); return u.user + u.system; };

export async function startBareServer(o: { inProcess?: boolean } = {}): Promise<BareServer> {
  if (o.inProcess) {
    const server = await listenBare();
    return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stop: () => server.close(), cpuUs: () => Promise.resolve(ownCpuUs()) };
  }
  const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG], { stdio: 'inherit' });
  const port = await new Promise<number>((ok, fail) => {
    child.once('message', (m) => ok((m as { port: number }).port));
    child.once('exit', (code) => fail(new Error(`the bare server exited (${code})`)));
  });
  const cpuUs = (): Promise<number> => new Promise((ok) => {
    child.once('message', (m) => ok((m as { cpuUs: number }).cpuUs));
    child.send('cpu');
  });
  return { base: `http://127.0.0.1:${port}`, stop: () => child.kill(), cpuUs };
}

// The child: serve, tell the parent the port, answer its CPU questions, leave with it.
if (process.argv.includes(CHILD_FLAG)) {
  void listenBare().then((server) => {
    process.send?.({ port: (server.address() as AddressInfo).port });
    process.on('message', () => process.send?.({ cpuUs: ownCpuUs() }));
    process.on('disconnect', () => process.exit(0));
  });
}
