/**
 * Channel kinds from what each platform says: Slack's slash-command channel_name, event channel_type and id
 * prefixes; Lark's chat_type; unknown → private. And the configuration of the index's database: a wrong
 * DATABASE_URL is named, its value (a password, usually) never shown.
 */
import { describe, expect, it } from 'vitest';
import { larkChannelKind, parseMessageEvent } from '../../adapters/lark/inbound.js';
import { slackChannelKind } from '../../adapters/slack/channel-kind.js';
import { parseModalOrigin } from '../../adapters/slack/modal.js';
import { loadConfig } from '../../src/config.js';
import { secretValues } from '../../src/infra/logger.js';
import { channelKindOf } from '../../src/jobs/types.js';

describe('Slack channel kinds', () => {
  it.each([
    [{ channelId: 'C0123', channelName: 'general' }, 'public'],
    [{ channelId: 'C0123', channelName: 'privategroup' }, 'private'],
    [{ channelId: 'G0123', channelName: 'privategroup' }, 'private'],
    [{ channelId: 'D0123', channelName: 'directmessage' }, 'dm'],
    [{ channelId: 'G0123', channelName: 'mpdm-alice--bob-1' }, 'private'],
    [{ channelId: 'C0123', channelType: 'channel' }, 'public'],
    [{ channelId: 'C0123', channelType: 'group' }, 'private'],
    [{ channelId: 'D0123', channelType: 'im' }, 'dm'],
    [{ channelId: 'G0123', channelType: 'mpim' }, 'private'],
    [{ channelId: 'D0123' }, 'dm'],
    [{ channelId: 'G0123' }, 'private'],
    // A C… id alone does not tell: private channels have C… ids too.
    [{ channelId: 'C0123' }, undefined],
    [{}, undefined],
  ] as const)('%j → %s', (input, kind) => {
    expect(slackChannelKind(input)).toBe(kind);
  });

  it('the /zimage modal carries the kind from the slash command to the submission, and nothing else', () => {
    expect(parseModalOrigin(JSON.stringify({ team: 'T1', channel: 'C1', locale: 'en', channelKind: 'public' }))?.channelKind).toBe('public');
    expect(parseModalOrigin(JSON.stringify({ team: 'T1', channel: 'C1', locale: 'en', channelKind: 'everyone' }))).toEqual({ team: 'T1', channel: 'C1', locale: 'en' });
  });
});

describe('Lark channel kinds', () => {
  it('a direct chat is a DM; a group is private (the event does not say whether it is public)', () => {
    expect(larkChannelKind('p2p')).toBe('dm');
    expect(larkChannelKind('group')).toBe('private');
    expect(larkChannelKind('topic_group')).toBe('private');
    expect(larkChannelKind(undefined)).toBe('private');
  });

  it('inbound messages carry it', () => {
    const event = (chat_type: string) => ({
      event_id: 'e1', tenant_key: 'tk', sender: { sender_type: 'user', sender_id: { open_id: 'ou_user' } },
      message: { message_id: 'om_1', chat_id: 'oc_1', chat_type, message_type: 'text', content: JSON.stringify({ text: '/zimage a cat' }) },
    });
    const kindOf = (chatType: string): unknown => {
      const parsed = parseMessageEvent(event(chatType), 'ou_bot', () => 'en');
      return parsed.kind === 'request' ? parsed.request.channelKind : parsed.kind;
    };
    expect(kindOf('p2p')).toBe('dm');
    expect(kindOf('group')).toBe('private');
  });
});

describe('unknown kinds', () => {
  it('are private', () => {
    expect(channelKindOf(undefined)).toBe('private');
    expect(channelKindOf('mystery')).toBe('private');
    expect(channelKindOf('dm')).toBe('dm');
  });
});

describe('DATABASE_URL', () => {
  it('must be a PostgreSQL URL; the error names the variable and never shows the value', () => {
    const secret = 'hunter2-very-secret';
    let message = '';
    try { loadConfig({ CONFIG_FILE: '', DATABASE_URL: `mysql://app:${secret}@db.internal/zimage` }); } catch (err) { message = (err as Error).message; }
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('postgres://');
    expect(message).not.toContain(secret);
    expect(message).not.toContain('db.internal');
    expect(loadConfig({ CONFIG_FILE: '', DATABASE_URL: `postgres://app:${secret}@db.internal:5432/zimage` }).env.DATABASE_URL).toContain('db.internal');
  });

  it('its password is scrubbed from every log line', () => {
    expect(secretValues({ DATABASE_URL: 'postgresql://app:s3cr3t-pass@db.internal/zimage' })).toContain('s3cr3t-pass');
  });
});
