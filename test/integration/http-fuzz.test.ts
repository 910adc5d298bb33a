/**
 * The bot's port under hostile traffic (real Redis, real HTTP over raw sockets): seeded malformed and
 * mutated requests over every route — Playground, assets, health, metrics, admin, Slack and Lark webhooks —
 * then slow and half-open connections. After every batch the process still answers /healthz and no job
 * exists. A failure prints the seed and the request, so it can be replayed (FUZZ_SEED=…).
 */
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import { startFakePlatformApis, type FakePlatformApis } from '../helpers/fake-platform-apis.js';
import { startBot, testEnv, type TestEnv } from '../helpers/harness.js';
import { rawRequest, type RawResult } from '../helpers/raw-http.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const REQUESTS = 5200;
const BATCH = 400;
const PARALLEL = 24;
const SIGNING_SECRET = 'fuzz-signing-secret-0123456789';

/** mulberry32: small, seedable, good enough to pick mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Template { method: string; path: string; type?: string; body?: string; headers?: Record<string, string> }

const slackSigned = (body: string): Record<string, string> => {
  const ts = String(Math.floor(Date.now() / 1000));
  return { 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex')}` };
};

/** Well-formed requests of every route; none of them is a command, so no mutation can make a job. */
function templates(): Template[] {
  const form = new URLSearchParams({ command: '/zimage', text: 'help', team_id: 'T0TEST', user_id: 'U1', channel_id: 'C1', trigger_id: 't1' }).toString();
  return [
    { method: 'GET', path: '/healthz' }, { method: 'GET', path: '/readyz' }, { method: 'GET', path: '/status?locale=zh-CN' },
    { method: 'GET', path: '/metrics' }, { method: 'POST', path: '/admin/reload', headers: { authorization: 'Bearer nope' } },
    { method: 'GET', path: '/assets/2026/12/01/jmx4xpqaprkot-0.png' }, { method: 'GET', path: '/assets/2026/12/01/jmx4xpqaprkot-0.json' },
    { method: 'GET', path: '/' }, { method: 'GET', path: '/favicon.ico' }, { method: 'GET', path: '/playground/app.js' }, { method: 'GET', path: '/api/playground/messages' }, { method: 'GET', path: '/api/playground/texts?locale=zh-CN' },
    { method: 'GET', path: '/api/playground/threads/mmx4zt64sabc53ded' }, { method: 'GET', path: '/api/playground/events' },
    { method: 'POST', path: '/api/playground/messages', type: 'application/json', body: JSON.stringify({ user: 'fuzz', text: 'hello fuzz' }) },
    { method: 'POST', path: '/api/playground/actions', type: 'application/json', body: JSON.stringify({ user: 'fuzz', kind: 'cancel', jobId: 'jx', threadId: 'mx' }) },
    { method: 'POST', path: '/slack/events', type: 'application/x-www-form-urlencoded', body: form, headers: slackSigned(form) },
    { method: 'POST', path: '/slack/events', type: 'application/json', body: JSON.stringify({ type: 'event_callback', event_id: 'Ev1', event: { type: 'app_mention', text: 'hi' } }) },
    { method: 'POST', path: '/lark/events', type: 'application/json', body: JSON.stringify({ schema: '2.0', header: { event_id: 'e1', token: 'wrong', create_time: String(Date.now()) }, event: {} }) },
    { method: 'GET', path: '/gallery' }, { method: 'GET', path: '/gallery/static/gallery.js' }, { method: 'GET', path: `/gallery/signin?code=${'c'.repeat(43)}` },
    { method: 'POST', path: '/gallery/signin', type: 'application/x-www-form-urlencoded', body: `code=${'c'.repeat(43)}&next=%2Fgallery`, headers: { origin: 'http://127.0.0.1' } },
    { method: 'GET', path: '/api/gallery/images?q=%E6%B5%B7%E6%8A%A5&from=2026-11-01&cursor=abc' },
    { method: 'DELETE', path: '/api/gallery/images/jx-0', headers: { origin: 'http://127.0.0.1', 'x-csrf-token': 'x' } },
    { method: 'POST', path: '/api/gallery/export', type: 'application/json', body: JSON.stringify({ format: 'csv', from: '2026-11-01' }), headers: { origin: 'http://127.0.0.1' } },
  ];
}

const BAD_PATHS = ['%E0', '%', '%zz', '%00', '%C0%AF', '..%2F..%2Fetc%2Fpasswd', '../../etc/passwd', '\u00e9', '//x', '%u2215', 'a'.repeat(6000), '%F0%9F%98', ';', '?', '#'];
const METHODS = ['FOO', 'get', 'GETT', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE', 'POST', 'GET', 'HEAD', '', 'G\u0000T'];
const TARGETS = ['http://[', 'http://x/', '*', '', ' ', '\t/healthz', 'http://127.0.0.1/healthz', '/\u0001', 'https://[::1]:3000/', 'http://%'];

interface Built { bytes: Buffer; what: string; slow?: boolean }

function mutate(t: Template, rnd: () => number): Built {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  let method = t.method;
  let target = t.path;
  let version = 'HTTP/1.1';
  let body = Buffer.from(t.body ?? '', 'utf8');
  const headers: Array<[string, string]> = [['Host', '127.0.0.1'], ['Connection', 'close']];
  if (t.type) headers.push(['Content-Type', t.type]);
  for (const [k, v] of Object.entries(t.headers ?? {})) headers.push([k, v]);
  let contentLength: string | null = body.length > 0 || method === 'POST' ? String(body.length) : null;
  const applied: string[] = [];
  const n = 1 + Math.floor(rnd() * 3);
  for (let i = 0; i < n; i++) {
    const m = Math.floor(rnd() * 22);
    applied.push(`m${m}`);
    switch (m) {
      case 0: target = `${target}/${pick(BAD_PATHS)}`; break;
      case 1: target = target.replace(/[a-z]/, pick(BAD_PATHS)); break;
      case 2: target = pick(TARGETS); break;
      case 3: method = pick(METHODS); break;
      case 4: version = pick(['HTTP/9.9', 'HTTP/1.0', '', 'HTTP/1.1x', 'HTTP/2', 'FOO/1.1']); break;
      case 5: headers.push(['Host', 'evil.example']); break;
      case 6: headers.splice(0, 1); break;
      case 7: headers.push(['Content-Length', String(Math.floor(rnd() * 99999))]); break;
      case 8: contentLength = pick(['-1', 'abc', '99999999999999999999', '1e3', ' 5', '0x10']); break;
      case 9: headers.push(['Transfer-Encoding', 'chunked']); break;
      case 10: headers.push([pick(['Bad Header', 'X:Y', 'Über', '', '\u0000x']), 'v']); break;
      case 11: headers.push(['X-Junk', pick(['\u0001\u0002', 'a'.repeat(20_000), '\u00ff\u00fe', 'line\rbreak'])]); break;
      case 12: for (let k = 0; k < 120; k++) headers.push([`X-Many-${k}`, String(k)]); break;
      case 13: headers.push(['Cookie', pick(['zimage_pg=garbage', 'zimage_pg=AAAAAAAAAAAAAAAAAAAAAA.' + 'B'.repeat(43), 'zimage_pg=', '=;;;', 'zimage_pg=%E0'])]); break;
      case 14: headers.push(['Content-Type', pick(['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', ';;;'])]); break;
      case 15: body = Buffer.from(Array.from({ length: Math.floor(rnd() * 3000) }, () => Math.floor(rnd() * 256))); contentLength = String(body.length); break;
      case 16: body = Buffer.from(pick(['{', '[]', 'null', '"x"', '{"user":1,"text":{}}', '[' .repeat(50_000), '{"a":' + '1'.repeat(5000) + '}', '\ud800', '{"user":"\\ud800","text":"\\udc00"}', 'payload=%7B', 'payload={}']), 'utf8'); contentLength = String(body.length); break;
      case 17: body = Buffer.alloc(70_000, 0x61); contentLength = String(body.length); break;
      case 18: contentLength = String(body.length + 50); break; // promises more than it sends
      case 19: headers.push(['Authorization', pick(['Bearer', 'Bearer ' + 'x'.repeat(5000), 'Basic %%%', '\u0000'])]); break;
      case 20: headers.push(['X-Slack-Signature', pick(['v0=00', '', 'v0=' + 'f'.repeat(64)]), ], ['X-Slack-Request-Timestamp', pick(['0', '-1', 'abc', String(Date.now()), '9'.repeat(30)])]); break;
      default: headers.push(['X-Lark-Signature', pick(['x', '0'.repeat(64)])], ['X-Lark-Request-Timestamp', pick(['0', String(Math.floor(Date.now() / 1000) + 86_400), 'x'])], ['X-Lark-Request-Nonce', 'n']); break;
    }
  }
  if (contentLength !== null) headers.push(['Content-Length', contentLength]);
  const line = `${method} ${target}${version ? ` ${version}` : ''}\r\n`;
  const head = Buffer.from(`${line}${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`, 'latin1');
  return { bytes: Buffer.concat([head, body]), what: `${t.method} ${t.path} + ${applied.join(',')}` };
}

describe('the HTTP port under hostile traffic', () => {
  let t: TestEnv;
  let bot: BotApp;
  let apis: FakePlatformApis;
  let port: number;

  beforeAll(async () => {
    apis = await startFakePlatformApis();
    t = await testEnv({
      PLAYGROUND: 'true', SLACK_BOT_TOKEN: 'xoxb-fuzz-token', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_MODE: 'http', SLACK_API_URL: `${apis.url}/api/`,
      LARK_APP_ID: 'cli_a1b2c3d4e5f60718', LARK_APP_SECRET: 'lark-app-secret', LARK_MODE: 'webhook', LARK_VERIFICATION_TOKEN: 'v-token-fuzz',
      LARK_DOMAIN: apis.url, HTTP_HEADERS_TIMEOUT_MS: '1500', HTTP_REQUEST_TIMEOUT_MS: '2500', HTTP_BODY_LIMIT_BYTES: '65536',
    });
    bot = await startBot(t);
    port = bot.boundPort;
  });
  afterAll(async () => {
    await bot?.stop();
    await apis?.close();
    t?.cleanup();
  });

  async function healthy(): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
    const counts = await bot.queues.generate.getJobCounts();
    expect(Object.values(counts).reduce((a, b) => a + b, 0), 'no job may come out of malformed requests').toBe(0);
  }

  it('the three requests that used to kill the process get a 400', async () => {
    for (const path of ['/assets/%E0', '/api/playground/threads/%E0']) {
      const r = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect(r.status, path).toBe(400);
    }
    const r = await rawRequest(port, 'GET http://[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(r.status).toBe(400);
    await healthy();
  });

  it(`${REQUESTS} mutated requests over every route: never a 500, never a crash, never a job (seed ${SEED})`, async () => {
    const rnd = prng(SEED);
    const all = templates();
    const built = Array.from({ length: REQUESTS }, () => mutate(all[Math.floor(rnd() * all.length)]!, rnd));
    const statuses = new Map<number | null, number>();
    for (let start = 0; start < built.length; start += BATCH) {
      const batch = built.slice(start, start + BATCH);
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < batch.length) {
          const b = batch[next++]!;
          const r: RawResult = await rawRequest(port, b.bytes, { timeoutMs: 4000, endAfterSend: true });
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          expect(r.status === null || (r.status >= 200 && r.status < 500) || r.status === 503, `seed ${SEED}: ${b.what} → ${r.head.split('\r\n')[0]}`).toBe(true);
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, lane));
      await healthy();
    }
    // The fuzz reached the routes and their refusals, not only the parser.
    for (const s of [200, 400, 401, 404, 413, 415]) expect(statuses.get(s) ?? 0, `status ${s} seen`).toBeGreaterThan(0);
  }, 240_000);

  it('slow and half-open connections are cut at the header deadline, and others are served meanwhile', async () => {
    // Slowloris: headers a byte at a time, never finished.
    const slow = Array.from({ length: 20 }, () => rawRequest(port, '', {
      pieces: Array.from('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(60), (c) => Buffer.from(c)), pauseMs: 150, timeoutMs: 15_000,
    }));
    // Half-open: connect and say nothing.
    const silent = Array.from({ length: 20 }, () => rawRequest(port, '', { pieces: [], timeoutMs: 15_000 }));
    // A body that never arrives in full.
    const stalled = rawRequest(port, 'POST /api/playground/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"user":', { timeoutMs: 15_000 });
    await sleep(300);
    const during = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(during.status).toBe(200);
    const results = await Promise.all([...slow, ...silent, stalled]);
    for (const r of results) {
      // Cut by the server (408 or a plain close), well before our own 15 s give-up.
      expect(r.closed || r.status === 408, JSON.stringify(r)).toBe(true);
      expect(r.ms).toBeLessThan(10_000);
    }
    expect(results.filter((r) => r.status === 408).length).toBeGreaterThan(0);
    await healthy();
  }, 30_000);
});
