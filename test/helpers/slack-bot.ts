/** Integration setup for Slack: a real bot (Slack adapter from config, HTTP mode) on the fake Slack, plus signed requests. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BotApp } from '../../src/app/bot-app.js';
import { FakeSlack, signedHeaders, slackEnv } from './fake-slack.js';
import { startBot, testEnv, type TestEnv } from './harness.js';

export const FORM = 'application/x-www-form-urlencoded';
export const JSON_TYPE = 'application/json';

export interface SlackTestBot {
  t: TestEnv;
  bot: BotApp;
  fake: FakeSlack;
  /** POST a signed body to /slack/events; extra headers override the signature headers. */
  send(body: string, contentType: string, headers?: Record<string, string>): Promise<Response>;
  sendEvent(payload: Record<string, unknown>, headers?: Record<string, string>): Promise<Response>;
  sendInteraction(payload: Record<string, unknown>): Promise<Response>;
  close(): Promise<void>;
}

/**
 * `settings` becomes the settings file (JSON is YAML), e.g. to shorten the edit interval; `socketUrl` is
 * what the fake apps.connections.open hands out (Socket Mode).
 */
export async function startSlackBot(env: Record<string, string> = {}, settings?: Record<string, unknown>, socketUrl?: string): Promise<SlackTestBot> {
  const fake = new FakeSlack();
  if (socketUrl) fake.socketUrl = socketUrl;
  let settingsDir: string | undefined;
  if (settings) {
    settingsDir = mkdtempSync(join(tmpdir(), 'zimage-slack-settings-'));
    writeFileSync(join(settingsDir, 'zimage.yml'), JSON.stringify(settings));
    env = { ...env, CONFIG_FILE: join(settingsDir, 'zimage.yml') };
  }
  const t = await testEnv(slackEnv(env));
  const bot = await startBot(t);
  const send = (body: string, contentType: string, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${handle.bot.boundPort}/slack/events`, { method: 'POST', body, headers: { ...signedHeaders(body, contentType), ...headers } });
  const handle: SlackTestBot = {
    t, bot, fake, send,
    sendEvent: (payload, headers) => send(JSON.stringify(payload), JSON_TYPE, headers),
    sendInteraction: (payload) => send(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), FORM),
    close: async () => {
      // The current bot: a test may have restarted it (handle.bot replaced).
      await handle.bot.stop();
      fake.close();
      t.cleanup();
      if (settingsDir) rmSync(settingsDir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** The job id carried by a message's buttons (their value). */
export function jobIdOf(blocksJson: string | undefined): string {
  const m = /"value":"(j[0-9a-z]+)"/.exec(blocksJson ?? '');
  if (!m) throw new Error(`no job button in ${blocksJson}`);
  return m[1]!;
}
