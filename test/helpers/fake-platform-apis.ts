/**
 * The Slack Web API and the Lark open platform as one local HTTP server (no nock), for tests that speak raw
 * sockets to the bot: the bot starts its Slack and Lark adapters against it (SLACK_API_URL, LARK_DOMAIN).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakePlatformApis { url: string; calls: string[]; close(): Promise<void> }

export async function startFakePlatformApis(): Promise<FakePlatformApis> {
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    calls.push(`${req.method} ${path}`);
    req.resume();
    req.on('end', () => {
      let body: unknown = { ok: true };
      if (path === '/api/auth.test') body = { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T0TEST' };
      // Slack's message timestamps are seconds with six decimals, unique per channel.
      else if (path === '/api/chat.postMessage') body = { ok: true, ts: `${Math.floor(Date.now() / 1000)}.${String(calls.length % 1e6).padStart(6, '0')}`, channel: 'C0CHAN' };
      else if (path === '/open-apis/auth/v3/tenant_access_token/internal') body = { code: 0, msg: 'ok', tenant_access_token: 't-fake', expire: 7200 };
      else if (path === '/open-apis/bot/v3/info') body = { code: 0, msg: 'ok', bot: { open_id: 'ou_bot', app_name: 'zimage', activate_status: 2 } };
      else if (path.startsWith('/open-apis/')) body = { code: 0, msg: 'ok', data: { message_id: `om_${calls.length}` } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, calls, close: () => new Promise((ok) => server.close(() => ok())) };
}
