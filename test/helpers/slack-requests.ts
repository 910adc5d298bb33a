/**
 * Requests as Slack sends them to the bot — signed slash commands — without the fake Web API (no nock), so the
 * load benchmark can use them too.
 */
import { createHmac } from 'node:crypto';

export const SIGNING_SECRET = 'test-signing-secret-0123456789';
export const TEAM = 'T0TEST';
export const HOOKS_HOST = 'https://hooks.slack.test';

/** A request signed the way Slack signs it (`timestamp` in seconds; default now). */
export function signedHeaders(body: string, contentType: string, opts: { timestamp?: number; secret?: string } = {}): Record<string, string> {
  const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const sig = `v0=${createHmac('sha256', opts.secret ?? SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
  return { 'content-type': contentType, 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig };
}

export const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();

/** The body of a slash command as Slack posts it. */
export function slashCommand(text: string, opts: { user?: string; channel?: string; trigger?: string } = {}): string {
  const trigger = opts.trigger ?? `trg${Math.random().toString(36).slice(2)}`;
  return form({
    token: 'legacy', team_id: TEAM, team_domain: 'test', channel_id: opts.channel ?? 'C0CHAN', channel_name: 'general',
    user_id: opts.user ?? 'U0ANN', user_name: 'ann', command: '/zimage', text, api_app_id: 'A0APP', is_enterprise_install: 'false',
    response_url: `${HOOKS_HOST}/commands/${TEAM}/1/${trigger}`, trigger_id: trigger,
  });
}
