import { describe, expect, it } from 'vitest';
import { parseCardAction, parseMessageEvent, resolveMentions, type MessageEvent } from '../../adapters/lark/inbound.js';

const BOT = 'ou_bot';
const localeOf = (tenant: string): string => (tenant === 'tEn' ? 'en' : 'zh-CN');

function ev(message: Partial<NonNullable<MessageEvent['message']>>, extra: Partial<MessageEvent> = {}): MessageEvent {
  return {
    event_id: 'evt1', tenant_key: 'tZh',
    sender: { sender_id: { open_id: 'ou_alice' }, sender_type: 'user', tenant_key: 'tZh' },
    message: { message_id: 'om_1', chat_id: 'oc_1', chat_type: 'group', message_type: 'text', content: '{"text":""}', mentions: [], ...message },
    ...extra,
  };
}
const bot = { key: '@_user_1', id: { open_id: BOT }, name: 'zimage' };
const bob = { key: '@_user_2', id: { open_id: 'ou_bob' }, name: 'Bob' };

describe('Lark messages → BotRequest', () => {
  it('a group mention: the bot placeholder goes, other people become <@open_id|name>, the thread is the message', () => {
    const p = parseMessageEvent(ev({ content: JSON.stringify({ text: '@_user_1 draw @_user_2 as a cat --seed 7' }), mentions: [bot, bob] }), BOT, localeOf);
    expect(p).toEqual({ kind: 'request', request: {
      platform: 'lark', workspace: 'tZh', channel: 'oc_1', channelKind: 'private', thread: 'lark:tZh:oc_1:om_1', user: 'ou_alice',
      text: 'draw <@ou_bob|Bob> as a cat --seed 7', eventId: 'evt1', locale: 'zh-CN',
    } });
  });

  it('inside a thread the reply goes to the thread root', () => {
    const p = parseMessageEvent(ev({ content: '{"text":"@_user_1 a fox"}', mentions: [bot], root_id: 'om_root', parent_id: 'om_root' }), BOT, localeOf);
    expect(p.kind === 'request' && p.request.thread).toBe('lark:tZh:oc_1:om_root');
  });

  it('a group message that mentions someone else is not for the bot; /zimage at the start is', () => {
    expect(parseMessageEvent(ev({ content: '{"text":"@_user_2 lunch?"}', mentions: [bob] }), BOT, localeOf).kind).toBe('ignore');
    const p = parseMessageEvent(ev({ content: '{"text":"/zimage a boat"}' }), BOT, localeOf);
    expect(p.kind === 'request' && p.request.text).toBe('a boat');
  });

  it('direct chats: plain text or /zimage, in the workspace language', () => {
    const a = parseMessageEvent(ev({ chat_type: 'p2p', content: '{"text":"a lighthouse at dusk"}' }, { tenant_key: 'tEn' }), BOT, localeOf);
    expect(a.kind === 'request' && [a.request.text, a.request.locale]).toEqual(['a lighthouse at dusk', 'en']);
    const b = parseMessageEvent(ev({ chat_type: 'p2p', content: '{"text":"/zimage  水墨山水 --steps 4"}' }), BOT, localeOf);
    expect(b.kind === 'request' && b.request.text).toBe('水墨山水 --steps 4');
  });

  it('rich text (post): title, paragraphs, links and at-nodes (placeholder or open_id form)', () => {
    const content = { zh_cn: { title: '', content: [
      [{ tag: 'at', user_id: '@_user_1', user_name: 'zimage' }, { tag: 'text', text: ' a castle ' }, { tag: 'a', text: 'at night', href: 'https://x' }],
      [{ tag: 'text', text: 'for ' }, { tag: 'at', user_id: 'ou_bob' }, { tag: 'img', image_key: 'img_1' }, { tag: 'text', text: ' --seed 3' }],
    ] } };
    const p = parseMessageEvent(ev({ message_type: 'post', content: JSON.stringify(content), mentions: [bot, bob] }), BOT, localeOf);
    expect(p.kind === 'request' && p.request.text).toBe('a castle at night\nfor <@ou_bob|Bob> --seed 3');
  });

  it('@_all is not a mention of the bot and is dropped; @_user_10 is not confused with @_user_1', () => {
    expect(parseMessageEvent(ev({ content: '{"text":"@_all meeting"}' }), BOT, localeOf).kind).toBe('ignore');
    const ten = { key: '@_user_10', id: { open_id: 'ou_ten' }, name: 'Ten' };
    expect(resolveMentions('@_user_1 hi @_user_10 @_all', [bot, ten], BOT)).toEqual({ text: 'hi <@ou_ten|Ten>', mentionsBot: true });
  });

  it('images, files and stickers addressed to the bot get a hint; messages from bots are ignored', () => {
    expect(parseMessageEvent(ev({ chat_type: 'p2p', message_type: 'image', content: '{"image_key":"img_1"}' }), BOT, localeOf))
      .toEqual({ kind: 'unsupported', thread: 'lark:tZh:oc_1:om_1', locale: 'zh-CN' });
    expect(parseMessageEvent(ev({ message_type: 'sticker', content: '{}' }), BOT, localeOf).kind).toBe('ignore');
    const fromApp = ev({ content: '{"text":"@_user_1 x"}', mentions: [bot] }, { sender: { sender_id: { open_id: 'ou_other_bot' }, sender_type: 'app' } });
    expect(parseMessageEvent(fromApp, BOT, localeOf).kind).toBe('ignore');
  });

  it('v1 events: the uuid is the idempotency key', () => {
    const p = parseMessageEvent({ ...ev({ content: '{"text":"/zimage a"}' }), event_id: undefined, uuid: 'v1-uuid' } as MessageEvent, BOT, localeOf);
    expect(p.kind === 'request' && p.request.eventId).toBe('v1-uuid');
  });
});

describe('Lark card clicks → BotAction', () => {
  const thread = 'lark:tZh:oc_1:om_root';
  const click = (value: unknown, chat = 'oc_1', tenant = 'tZh') => ({
    event_id: 'cb1', tenant_key: tenant, token: 'c-token', operator: { open_id: 'ou_alice' },
    action: { tag: 'button', value }, context: { open_message_id: 'om_card', open_chat_id: chat },
  });

  it('our button values become actions on the thread they carry', () => {
    expect(parseCardAction(click({ zimage: 'variations', job: 'jabc', thread }), localeOf)).toEqual({ kind: 'action', action: {
      kind: 'variations', jobId: 'jabc', platform: 'lark', workspace: 'tZh', channel: 'oc_1', thread, user: 'ou_alice', eventId: 'cb1', locale: 'zh-CN',
    } });
  });

  it('foreign values, or a thread from another chat or tenant, are refused', () => {
    expect(parseCardAction(click({ action: 'x' }), localeOf).kind).toBe('invalid');
    expect(parseCardAction(click({ zimage: 'cancel', job: 'j1', thread: 'slack:T:C:1.2' }), localeOf).kind).toBe('invalid');
    expect(parseCardAction(click({ zimage: 'cancel', job: 'j1', thread }, 'oc_other'), localeOf).kind).toBe('invalid');
    expect(parseCardAction(click({ zimage: 'cancel', job: 'j1', thread }, 'oc_1', 'tOther'), localeOf).kind).toBe('invalid');
  });
});
