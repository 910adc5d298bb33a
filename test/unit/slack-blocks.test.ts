import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { requestParent, resultMessage, statusMessage } from '../../adapters/slack/blocks.js';
import { SLASH_COMMANDS } from '../../adapters/slack/listeners.js';
import { modalView, parseModalOrigin, submissionText } from '../../adapters/slack/modal.js';
import { parseBody } from '../../adapters/slack/http-receiver.js';
import type { ImageMetadata } from '../../src/jobs/types.js';

const meta: ImageMetadata = {
  jobId: 'jabc123', index: 0, prompt: 'a <b>cat</b> & <!channel>', seed: 7, width: 512, height: 768, steps: 8,
  model: { id: 'demo-v1', name: 'demo model', demo: true }, platform: 'slack', workspace: 'T1', channel: 'C1', user: 'U1',
  createdAt: '2026-01-01T00:00:00Z', queueWaitMs: 1200, generationMs: 3400,
};

describe('status message', () => {
  it('queued and generating carry a Cancel button whose value is the job id; final states do not', () => {
    const queued = statusMessage({ phase: 'queued', jobId: 'j1', position: 2, total: 3, etaMs: 6000 }, 'en');
    expect(queued.text).toBe('Queued — position 2 of 3, about 6 s');
    expect(queued.blocks[0]).toMatchObject({ accessory: { action_id: 'zimage_cancel', value: 'j1', style: 'danger' } });
    const running = statusMessage({ phase: 'generating', jobId: 'j1', image: 1, count: 1, step: 3, steps: 8 }, 'zh-CN');
    expect(running.blocks[0]).toMatchObject({ accessory: { action_id: 'zimage_cancel' } });
    for (const view of [
      { phase: 'done', jobId: 'j1', images: 1, totalMs: 2000 }, { phase: 'cancelled', jobId: 'j1' }, { phase: 'finishing', jobId: 'j1' },
    ] as const) expect(statusMessage(view, 'en').blocks[0]).not.toHaveProperty('accessory');
  });

  it('escapes a failure reason that quotes user text', () => {
    const failed = statusMessage({ phase: 'failed', jobId: 'j1', reason: 'bad <@U1>' }, 'en');
    expect(JSON.stringify(failed)).not.toContain('<@U1>');
  });
});

describe('result message', () => {
  const msg = resultMessage(meta, 'en');
  const json = JSON.stringify(msg);

  it('shows the prompt as data (escaped, quoted) and every metadata field', () => {
    expect(json).toContain('&lt;b&gt;cat&lt;/b&gt; &amp; &lt;!channel&gt;');
    expect(json).not.toContain('<!channel>');
    for (const v of ['*Seed*\\n7', '512×768', '*Steps*\\n8', 'demo-v1 (demo model)', '1.2 s', '3.4 s', 'jabc123']) expect(json).toContain(v);
    expect(msg.text).toContain('Seed 7');
  });

  it('has Regenerate and Variations ×4 buttons carrying the job id', () => {
    const actions = msg.blocks.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string; value: string; text: { text: string } }> };
    expect(actions.elements.map((e) => [e.action_id, e.value, e.text.text])).toEqual([
      ['zimage_regenerate', 'jabc123', 'Regenerate'], ['zimage_variations', 'jabc123', 'Variations ×4'],
    ]);
  });

  it('stays inside Block Kit limits for a very long prompt', () => {
    const long = resultMessage({ ...meta, prompt: 'x'.repeat(5000) }, 'en');
    const section = long.blocks[0] as { text: { text: string } };
    expect(section.text.text.length).toBeLessThanOrEqual(3000);
    expect(long.text.length).toBeLessThan(400);
  });
});

describe('thread parent of a slash command', () => {
  it('mentions the requester and shows the request escaped', () => {
    const m = requestParent('U0ANN', 'a <tag> & more', 'en');
    expect(m.text).toBe('<@U0ANN> asked:\n>a &lt;tag&gt; &amp; more');
  });
});

describe('modal', () => {
  const origin = { team: 'T1', channel: 'C1', responseUrl: 'https://hooks.slack.test/x', locale: 'en' };

  it('offers prompt, size, steps, seed and count with the configured defaults', () => {
    const view = modalView(origin, { width: 768, height: 1024, steps: 6, maxSteps: 16, maxCount: 3 }) as unknown as {
      blocks: Array<{ block_id: string; element: { initial_option?: { value: string }; initial_value?: string; options?: unknown[] } }>; private_metadata: string;
    };
    expect(view.blocks.map((b) => b.block_id)).toEqual(['prompt', 'size', 'steps', 'seed', 'count']);
    expect(view.blocks[1]!.element.initial_option!.value).toBe('768x1024');
    expect(view.blocks[2]!.element.initial_value).toBe('6');
    expect(view.blocks[4]!.element.options).toHaveLength(3);
    expect(parseModalOrigin(view.private_metadata)).toEqual(origin);
  });

  it('turns a submission into command text; the prompt follows a lone -- so it stays a prompt', () => {
    expect(submissionText({
      prompt: { value: { value: ' a cat --seed 3 ' } }, size: { value: { selected_option: { value: '512x512' } } },
      steps: { value: { value: '4' } }, seed: { value: { value: null } }, count: { value: { selected_option: { value: '2' } } },
    })).toBe('--size 512x512 --steps 4 --count 2 -- a cat --seed 3');
  });

  it('ignores private_metadata that is not its own', () => {
    expect(parseModalOrigin('not json')).toBeUndefined();
    expect(parseModalOrigin('{"team":1}')).toBeUndefined();
  });
});

describe('HTTP bodies', () => {
  it('reads events (JSON), commands (form) and interactions (form with a payload field)', () => {
    expect(parseBody('{"type":"event_callback"}', 'application/json')).toEqual({ type: 'event_callback' });
    expect(parseBody('command=%2Fzimage&text=a+cat', 'application/x-www-form-urlencoded')).toEqual({ command: '/zimage', text: 'a cat' });
    expect(parseBody(`payload=${encodeURIComponent('{"type":"block_actions"}')}`, 'application/x-www-form-urlencoded')).toEqual({ type: 'block_actions' });
  });
});

describe('manifest.yml', () => {
  const manifest = parse(readFileSync('manifest.yml', 'utf8')) as {
    features: { slash_commands: Array<{ command: string; should_escape: boolean }> };
    oauth_config: { scopes: { bot: string[] } };
    settings: { event_subscriptions: { bot_events: string[] }; interactivity: { is_enabled: boolean }; socket_mode_enabled: boolean };
  };

  it('declares exactly the slash commands the adapter registers', () => {
    expect(manifest.features.slash_commands.map((c) => c.command).sort()).toEqual([...SLASH_COMMANDS].sort());
    // Mentions in command text must arrive as <@U…> for quota/role commands.
    expect(manifest.features.slash_commands.every((c) => c.should_escape)).toBe(true);
  });

  it('asks for the scopes and events the adapter uses, with interactivity and Socket Mode on', () => {
    expect(manifest.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['commands', 'chat:write', 'files:write', 'app_mentions:read', 'im:history']));
    expect(manifest.settings.event_subscriptions.bot_events.sort()).toEqual(['app_mention', 'message.im']);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
  });
});
