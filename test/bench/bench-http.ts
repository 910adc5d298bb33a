/** The load benchmarks' HTTP client: keep-alive requests to the bot, one Playground session per virtual person, /metrics values. */
import { Agent, request } from 'node:http';

export type Json = Record<string, unknown>;

/** Enough sockets for a burst of 500 people at once. */
const keepAlive = new Agent({ keepAlive: true, maxSockets: 1024 });

/** Each virtual user is a browser of its own: its Playground session cookie (a name speaks only for its session). */
const sessions = new Map<string, string>();

export interface HttpAnswer { status: number; json: Json | null; text: string }

/** One request on the keep-alive pool; `as` sends (and keeps) that virtual person's Playground session cookie. */
export function send(base: string, method: string, path: string, o: { body?: Buffer; headers?: Record<string, string | number>; as?: string } = {}): Promise<HttpAnswer> {
  return new Promise((ok, fail) => {
    const cookie = o.as ? sessions.get(o.as) : undefined;
    const req = request(`${base}${path}`, {
      method, agent: keepAlive, headers: {
        ...(o.body ? { 'content-length': o.body.length } : {}), ...o.headers, ...(cookie ? { cookie } : {}),
      },
    }, (res) => {
      const set = (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!).find((c) => c.startsWith('zimage_pg='));
      if (o.as && set) sessions.set(o.as, set);
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Json | null = null;
        try { json = JSON.parse(text) as Json; } catch { json = null; }
        ok({ status: res.statusCode ?? 0, json, text });
      });
    });
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', fail);
    if (o.body) req.write(o.body);
    req.end();
  });
}

export function httpJson(base: string, method: string, path: string, body?: unknown, as?: string): Promise<HttpAnswer> {
  return send(base, method, path, {
    ...(body === undefined ? {} : { body: Buffer.from(JSON.stringify(body)), headers: { 'content-type': 'application/json' } }),
    ...(as ? { as } : {}),
  });
}

/** Start a Playground session for a virtual person (its first page view sets the cookie). */
export async function openSession(base: string, person: string): Promise<void> {
  if (!sessions.has(person)) await httpJson(base, 'GET', '/api/playground/threads/m0', undefined, person);
}

export function metricValue(text: string, name: string, labels = ''): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (labels && !rest.includes(labels)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
