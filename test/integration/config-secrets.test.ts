/**
 * A configuration error names the variable and what is wrong with it, never its value: each case starts the
 * real entry point (dist/src/main/bot.js) and reads everything it prints.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

function start(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((ok) => {
    const child = spawn(process.execPath, [resolve('dist/src/main/bot.js')], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', REDIS_URL: 'redis://127.0.0.1:1', CONFIG_FILE: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => { clearTimeout(timer); ok({ code, output }); });
  });
}

describe('configuration errors keep secrets out of the output', () => {
  const cases: Array<[string, Record<string, string>, string, RegExp]> = [
    ['a user token where a bot token belongs', { SLACK_BOT_TOKEN: 'xoxp-1234567890-SECRETVALUE', SLACK_SIGNING_SECRET: 'signing-secret-abcdef' }, 'xoxp-1234567890-SECRETVALUE', /SLACK_BOT_TOKEN \(\d+ characters, value not shown\): a bot token starts with xoxb-/],
    ['a too short admin token', { ADMIN_TOKEN: 'shortSECRET9' }, 'shortSECRET9', /ADMIN_TOKEN \(12 characters, value not shown\): use at least 16 characters/],
    ['a too short signing secret', { SLACK_BOT_TOKEN: 'xoxb-good-token-0000', SLACK_SIGNING_SECRET: 'sEcr3t' }, 'sEcr3t', /SLACK_SIGNING_SECRET \(6 characters, value not shown\)/],
    ['a too short metrics token', { METRICS_TOKEN: 'metricsSECRET' }, 'metricsSECRET', /METRICS_TOKEN \(13 characters, value not shown\): use at least 16 characters/],
    ['a Redis URL with a password and a wrong scheme', { REDIS_URL: 'http://:hunter2pass@redis.internal:6379' }, 'hunter2pass', /REDIS_URL \(\d+ characters, value not shown\): must start with redis:\/\//],
    ['a too short Playground token', { PLAYGROUND_TOKEN: 'pgSECRET' }, 'pgSECRET', /PLAYGROUND_TOKEN \(8 characters, value not shown\): use at least 16 characters/],
  ];
  it.each(cases)('%s: the variable is named, the value never printed', async (_what, env, secret, named) => {
    const { code, output } = await start(env);
    expect(code).toBe(1);
    expect(output).toMatch(named);
    expect(output).not.toContain(secret);
  });

  it('a non-secret value is quoted, to show what is wrong with it', async () => {
    const { code, output } = await start({ PORT: 'eighty' });
    expect(code).toBe(1);
    expect(output).toContain('PORT="eighty"');
  });
});
