/**
 * Who can reach the Playground, as another machine on the network would try (a second host in a network
 * namespace of the test's own), and what the start line says: loopback only by default; beyond loopback only
 * with the access link; off next to a chat platform. Real bot, real Redis, real HTTP.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import { isLoopbackHost } from '../../src/config.js';
import { startFakePlatformApis, type FakePlatformApis } from '../helpers/fake-platform-apis.js';
import { startBot, testEnv } from '../helpers/harness.js';
import { fetchScript, secondHost, type SecondHost } from '../helpers/netns.js';
import { rawRequest } from '../helpers/raw-http.js';

interface Seen { status: number; setCookie?: string | null; location?: string | null; body?: string; error?: string }

let host: SecondHost;
beforeAll(async () => { host = await secondHost(); });
afterAll(async () => { await host?.destroy(); });

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => { while (cleanups.length) await cleanups.pop()!(); });

async function bot(env: Record<string, string>): Promise<BotApp> {
  const t = await testEnv(env);
  cleanups.push(() => t.cleanup());
  const b = await startBot(t);
  cleanups.push(() => b.stop());
  return b;
}

async function fromOtherHost(requests: Parameters<typeof fetchScript>[0]): Promise<Seen[]> {
  return JSON.parse(await host.node(fetchScript(requests))) as Seen[];
}

describe('Playground access', () => {
  it('by default it listens on loopback only: another host cannot connect, and the start line says so', async () => {
    const b = await bot({ HOST: '' });
    const addresses = b.http.addresses();
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.every((a) => isLoopbackHost(a.address)), JSON.stringify(addresses)).toBe(true);
    const line = b.startLine();
    expect(line).toContain(`listening on http://127.0.0.1:${b.boundPort}`);
    expect(line).toContain(`Playground: http://localhost:${b.boundPort}/ (this machine only)`);
    const [seen] = await fromOtherHost([{ url: `http://${host.hostIp}:${b.boundPort}/` }]);
    expect(seen!.status).toBe(0);
    expect(seen!.error).toBe('ECONNREFUSED');
    // This machine itself is served.
    expect((await fetch(`http://127.0.0.1:${b.boundPort}/`)).status).toBe(200);
  });

  it('opened to the network it needs the access link: 401 and nothing created without it, a session cookie with it', async () => {
    const b = await bot({ HOST: '0.0.0.0' });
    const base = `http://${host.hostIp}:${b.boundPort}`;
    const line = b.startLine();
    expect(line).toContain(`listening on every interface, port ${b.boundPort}`);
    const token = /\?token=([A-Za-z0-9_-]+)/.exec(line)?.[1];
    expect(token, line).toBeDefined();
    const post = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'mallory', text: '/zimage a cat' }) };
    const refused = await fromOtherHost([
      { url: `${base}/` }, { url: `${base}/api/playground/messages` }, { url: `${base}/api/playground/events` },
      { url: `${base}/api/playground/messages`, ...post }, { url: `${base}/?token=wrong-token-0123456789` },
      { url: `${base}/playground/app.js` }, { url: `${base}/assets/2026/12/01/jmx4xpqaprkot-0.png` },
    ]);
    expect(refused.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 401, 404]);
    expect(refused[0]!.body).toContain('access link needed');
    expect(refused.every((r) => !r.setCookie)).toBe(true);
    // Nothing was created: no message, no job.
    expect(await b.redis.hlen(`${b.keys.prefix}:playground:msgs`)).toBe(0);
    expect(await b.queues.generate.count()).toBe(0);
    // The loopback address is no way around it (a reverse proxy on this machine would be one).
    expect((await fetch(`http://127.0.0.1:${b.boundPort}/api/playground/messages`)).status).toBe(401);

    const [link] = await fromOtherHost([{ url: `${base}/?token=${token}` }]);
    expect(link!.status).toBe(303);
    expect(link!.location).toBe('/');
    expect(link!.setCookie).toMatch(/^zimage_pg=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/);
    const cookie = link!.setCookie!.split(';')[0]!;
    const withCookie = await fromOtherHost([
      { url: `${base}/`, headers: { cookie } },
      { url: `${base}/api/playground/messages`, headers: { cookie, 'content-type': 'application/json' }, method: 'POST', body: JSON.stringify({ user: 'ann', text: 'hello' }) },
      { url: `${base}/api/playground/events`, headers: { cookie } },
    ]);
    expect(withCookie.map((r) => r.status)).toEqual([200, 201, 200]);
    // A forged cookie is no session.
    const [forged] = await fromOtherHost([{ url: `${base}/api/playground/messages`, headers: { cookie: `zimage_pg=${'A'.repeat(22)}.${'B'.repeat(43)}` } }]);
    expect(forged!.status).toBe(401);
  });

  it('next to Slack the Playground is off: the port serves the signed webhook and health, nothing else', async () => {
    let apis: FakePlatformApis | undefined = await startFakePlatformApis();
    cleanups.push(async () => { await apis?.close(); apis = undefined; });
    const b = await bot({
      HOST: '', SLACK_BOT_TOKEN: 'xoxb-access-test', SLACK_SIGNING_SECRET: 'access-signing-secret-0123', SLACK_MODE: 'http', SLACK_API_URL: `${apis.url}/api/`,
    });
    expect(b.adapters.has('playground')).toBe(false);
    // A webhook must be reachable, so the port listens on every interface.
    expect(b.startLine()).toMatch(/listening on every interface, port \d+ · Playground off/);
    const base = `http://${host.hostIp}:${b.boundPort}`;
    const seen = await fromOtherHost([
      { url: `${base}/` }, { url: `${base}/api/playground/messages` }, { url: `${base}/healthz` },
      { url: `${base}/slack/events`, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"event_callback"}' },
    ]);
    expect(seen.map((r) => r.status)).toEqual([404, 404, 200, 401]);
  });

  it('on loopback, a page of another site reaching it through DNS rebinding is refused', async () => {
    const b = await bot({ HOST: '' });
    const get = (hostHeader: string) => rawRequest(b.boundPort, `GET /api/playground/messages HTTP/1.1\r\nHost: ${hostHeader}\r\nConnection: close\r\n\r\n`);
    expect((await get(`attacker.example:${b.boundPort}`)).status).toBe(403);
    expect((await get(`localhost:${b.boundPort}`)).status).toBe(200);
    expect((await get(`[::1]:${b.boundPort}`)).status).toBe(200);
    // Posting JSON needs the JSON content type, which a cross-site form cannot send.
    const form = await fetch(`http://127.0.0.1:${b.boundPort}/api/playground/messages`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"user":"a","text":"hi"}' });
    expect(form.status).toBe(415);
  });
});
