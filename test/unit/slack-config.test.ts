import { describe, expect, it } from 'vitest';
import { loadConfig, slackMode } from '../../src/config.js';

const base = { CONFIG_FILE: '' };
const bot = { SLACK_BOT_TOKEN: 'xoxb-1' };

describe('Slack configuration', () => {
  it('defaults to Socket Mode with an app token, else HTTP', () => {
    expect(slackMode({ SLACK_APP_TOKEN: 'xapp-1' })).toBe('socket');
    expect(slackMode({})).toBe('http');
    expect(slackMode({ SLACK_APP_TOKEN: 'xapp-1', SLACK_MODE: 'http' })).toBe('http');
    expect(loadConfig({ ...base, ...bot, SLACK_APP_TOKEN: 'xapp-1' }).env.SLACK_BOT_TOKEN).toBe('xoxb-1');
    expect(loadConfig({ ...base, ...bot, SLACK_SIGNING_SECRET: 'secret-123' }).env.SLACK_SIGNING_SECRET).toBe('secret-123');
  });

  it.each([
    [{ ...bot }, /SLACK_SIGNING_SECRET is required in HTTP mode/],
    [{ ...bot, SLACK_MODE: 'http', SLACK_APP_TOKEN: 'xapp-1' }, /SLACK_SIGNING_SECRET is required/],
    [{ ...bot, SLACK_MODE: 'socket', SLACK_SIGNING_SECRET: 'secret-123' }, /SLACK_APP_TOKEN is required in Socket Mode/],
    [{ SLACK_APP_TOKEN: 'xapp-1' }, /SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not/],
    [{ SLACK_SIGNING_SECRET: 'secret-123', SLACK_MODE: 'http' }, /SLACK_SIGNING_SECRET, SLACK_MODE are set but SLACK_BOT_TOKEN/],
    [{ SLACK_BOT_TOKEN: 'xoxp-user' }, /SLACK_BOT_TOKEN \(9 characters, value not shown\): a bot token starts with xoxb-/],
  ])('%j fails to start with a message naming the variable', (env, message) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(message);
  });
});
