/**
 * The bot's one HTTP port: health and status endpoints, the Playground, and (later) platform webhooks.
 * A tiny exact/prefix router on node:http; each route handler owns its response.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../infra/logger.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => Promise<void> | void;

interface Route { method: string; parts: string[]; prefix: boolean; handler: RouteHandler }

/** Largest request body read by `readBody` (bytes). */
export const MAX_BODY_BYTES = 1024 * 1024;

export class HttpServer {
  private readonly routes: Route[] = [];
  private server: Server | undefined;

  constructor(private readonly log: Logger) {}

  /** `path` segments starting with `:` capture; a trailing `*` matches the rest (captured as `rest`). */
  route(method: string, path: string, handler: RouteHandler): void {
    const prefix = path.endsWith('/*');
    const parts = (prefix ? path.slice(0, -2) : path).split('/').filter(Boolean);
    this.routes.push({ method, parts, prefix, handler });
  }

  async listen(port: number, host: string): Promise<number> {
    this.server = createServer((req, res) => void this.dispatch(req, res));
    await new Promise<void>((ok, fail) => {
      this.server!.once('error', fail);
      this.server!.listen(port, host, () => ok());
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const srv = this.server;
    if (!srv) return;
    this.server = undefined;
    srv.closeAllConnections();
    await new Promise<void>((ok) => srv.close(() => ok()));
  }

  private match(method: string, pathname: string): { route: Route; params: Record<string, string> } | null {
    const segs = pathname.split('/').filter(Boolean);
    for (const route of this.routes) {
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) continue;
      if (route.prefix ? segs.length < route.parts.length : segs.length !== route.parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      route.parts.forEach((p, i) => {
        const s = segs[i]!;
        if (p.startsWith(':')) params[p.slice(1)] = decodeURIComponent(s);
        else if (p !== s) ok = false;
      });
      if (!ok) continue;
      if (route.prefix) params.rest = segs.slice(route.parts.length).map(decodeURIComponent).join('/');
      return { route, params };
    }
    return null;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const found = this.match(req.method ?? 'GET', url.pathname);
    try {
      if (!found) return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no route for ${req.method} ${url.pathname}` } });
      await found.route.handler(req, res, found.params);
    } catch (err) {
      this.log.error({ err, path: url.pathname }, 'http handler failed');
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
      else res.end();
    }
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

export class BodyError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) { super(message); }
}

/** Read a request body up to MAX_BODY_BYTES. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyError(413, 'BODY_TOO_LARGE', `request body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Read and parse a JSON object body; errors say what is wrong. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new BodyError(400, 'BAD_JSON', 'request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BodyError(400, 'BAD_JSON', 'request body must be a JSON object');
  return value as Record<string, unknown>;
}
