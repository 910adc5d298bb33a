import { describe, expect, it } from 'vitest';
import { decodeRef, encodeRef } from '../../adapters/slack/refs.js';
import { clip, commandText, escapeMrkdwn, plainText, quoteLines, shownText } from '../../adapters/slack/text.js';

describe('escapeMrkdwn', () => {
  it('escapes exactly &, < and > so user text cannot become a mention or link', () => {
    expect(escapeMrkdwn('<!channel> & <@U1> <https://x|y>')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;');
    expect(escapeMrkdwn('&amp;')).toBe('&amp;amp;');
    expect(escapeMrkdwn('*bold* _it_ 水墨')).toBe('*bold* _it_ 水墨');
  });

  it('shows mentions kept in a prompt as plain @names that ping nobody', () => {
    expect(shownText('portrait of <@U0CAROL|carol> & <@U0DAN>')).toBe('portrait of @carol &amp; @U0DAN');
  });

  it('quotes every line and clips by characters, not UTF-16 units', () => {
    expect(quoteLines('a\nb')).toBe('>a\n>b');
    expect(clip('🐱🐱🐱', 2)).toBe('🐱…');
    expect(clip('abc', 3)).toBe('abc');
  });
});

describe('plainText / commandText (Slack markup → what the person typed)', () => {
  it.each([
    ['a cat &amp; a dog &lt;3 &gt;_&lt;', 'a cat & a dog <3 >_<'],
    ['see <https://example.com|the site> and <https://x.y>', 'see the site and https://x.y'],
    ['in <#C123|general> for <!here> and <!subteam^S1|@design>', 'in #general for @here and @design'],
    ['portrait of <@U0CAROL|carol> and <@U0DAN>', 'portrait of <@U0CAROL|carol> and <@U0DAN>'],
    ['&amp;lt;', '&lt;'],
  ])('%j → %j', (input, expected) => {
    expect(plainText(input)).toBe(expected);
  });

  it('drops the bot’s own mentions anywhere and a leading /zimage', () => {
    expect(commandText('<@UBOT> a cat --seed 7', 'UBOT')).toBe('a cat --seed 7');
    expect(commandText('draw <@UBOT|zimage> a cat', 'UBOT')).toBe('draw a cat');
    expect(commandText('<@UBOT> /zimage help', 'UBOT')).toBe('help');
    expect(commandText('<@UBOT>', 'UBOT')).toBe('');
    expect(commandText('<@UBOT> /zimagery', 'UBOT')).toBe('/zimagery');
  });
});

describe('thread references', () => {
  it('round-trip team, channel and ts', () => {
    const ref = encodeRef({ team: 'T1', channel: 'C1', ts: '1700000000.0001' });
    expect(ref).toBe('slack:T1:C1:1700000000.0001');
    expect(decodeRef(ref)).toEqual({ team: 'T1', channel: 'C1', ts: '1700000000.0001' });
  });

  it.each(['playground:m1', 'slack:T1:C1', 'slack:T1:C1:abc', 'slack:t1:C1:1.2', 'slack:T1:C1:1.2:extra'])('rejects %j', (ref) => {
    expect(() => decodeRef(ref)).toThrow(/not a Slack reference/);
  });

  it('refuses to encode ids that would break the format', () => {
    expect(() => encodeRef({ team: 'T:1', channel: 'C1', ts: '1.2' })).toThrow();
  });
});

describe('explaining why the bot cannot post', () => {
  it('recognises Slack refusals before and after they became ZimageErrors', async () => {
    const { cannotPostExplanation, slackFailure } = await import('../../adapters/slack/slack-errors.js');
    const raw = { code: 'slack_webapi_platform_error', data: { error: 'not_in_channel' } };
    expect(cannotPostExplanation(raw, 'en')).toBeDefined();
    expect(cannotPostExplanation(slackFailure(raw, 'chat.postMessage'), 'en')).toBe(cannotPostExplanation(raw, 'en'));
    expect(cannotPostExplanation(new Error('network'), 'en')).toBeUndefined();
  });
});
