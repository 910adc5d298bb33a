import * as lark from '@larksuiteoapi/node-sdk';
import { describe, expect, it } from 'vitest';
import { escapeMarkdown, parseButtonValue, postContent, resultCard, statusCard } from '../../adapters/lark/cards.js';
import { decodeMessage, decodeThread, encodeMessage, encodeThread } from '../../adapters/lark/refs.js';
import { decryptPayload, signatureOf } from '../../adapters/lark/webhook.js';
import type { ImageMetadata } from '../../src/jobs/types.js';
import { encryptPayload } from '../helpers/lark-fake.js';

const thread = 'lark:t1:oc_1:om_root';
const buttons = (card: Record<string, unknown>): unknown[] => JSON.stringify(card).match(/"behaviors":\[\{"type":"callback","value":\{[^}]*\}/g) ?? [];

describe('Lark cards', () => {
  it('a status card is Card JSON 2.0 with the headline as title and Cancel only while queued or running', () => {
    const queued = statusCard({ phase: 'queued', jobId: 'j1', position: 2, total: 3, etaMs: 6000 }, 'en', thread);
    expect(queued).toMatchObject({ schema: '2.0', config: { update_multi: true }, header: { title: { tag: 'plain_text', content: 'Queued — position 2 of 3, about 6 s' } } });
    expect(JSON.stringify(queued)).toContain(`"value":{"zimage":"cancel","job":"j1","thread":"${thread}"}`);
    expect(buttons(statusCard({ phase: 'generating', jobId: 'j1', image: 1, count: 1, step: 3, steps: 8 }, 'zh-CN', thread))).toHaveLength(1);
    for (const view of [{ phase: 'done', jobId: 'j1', images: 1, totalMs: 2000 }, { phase: 'cancelled', jobId: 'j1' }, { phase: 'finishing', jobId: 'j1' }] as const) {
      expect(buttons(statusCard(view, 'en', thread))).toHaveLength(0);
    }
    expect(JSON.stringify(statusCard({ phase: 'done', jobId: 'j1', images: 1, totalMs: 2000 }, 'zh-CN', thread))).toMatch(/完成/);
  });

  it('a result card shows the prompt as plain text, escapes markdown values, and carries Regenerate and Variations', () => {
    const meta: ImageMetadata = {
      jobId: 'j9', index: 0, prompt: 'a *bold* <at id=all></at> [link](http://x)', seed: 42, width: 512, height: 512, steps: 8,
      model: { id: 'demo-1', name: 'demo model', demo: true }, platform: 'lark', workspace: 't1', channel: 'oc_1', user: 'ou_a',
      createdAt: new Date(0).toISOString(), queueWaitMs: 10, generationMs: 900,
    };
    const card = resultCard(meta, 'en', thread);
    const body = (card.body as { elements: Array<Record<string, unknown>> }).elements;
    expect(body[0]).toEqual({ tag: 'div', text: { tag: 'plain_text', content: `Prompt: ${meta.prompt}` } });
    const md = String(body[1]!.content);
    expect(md).toContain('**Seed**: 42');
    expect(md).not.toMatch(/<|\(demo/);
    expect(md).toContain('demo&#45;1 &#40;demo model&#41;');
    expect(JSON.stringify(card)).toContain('"zimage":"regenerate","job":"j9"');
    expect(JSON.stringify(card)).toContain('"zimage":"variations","job":"j9"');
  });

  it('escapeMarkdown leaves nothing Lark would interpret', () => {
    expect(escapeMarkdown('<at id=all></at> **x** _y_ ~~z~~ `c` [a](b) # h & 1-2')).toBe(
      '&lt;at id&#61;all&gt;&lt;/at&gt; &#42;&#42;x&#42;&#42; &#95;y&#95; &#126;&#126;z&#126;&#126; &#96;c&#96; &#91;a&#93;&#40;b&#41; &#35; h &amp; 1&#45;2',
    );
  });

  it('plain replies are rich text with one literal text node per line', () => {
    expect(postContent('a\n<at user_id="all"></at>')).toEqual({ zh_cn: { content: [[{ tag: 'text', text: 'a' }], [{ tag: 'text', text: '<at user_id="all"></at>' }]] } });
  });

  it('button values are read back only when they are ours', () => {
    expect(parseButtonValue({ zimage: 'regenerate', job: 'j1', thread })).toEqual({ zimage: 'regenerate', job: 'j1', thread });
    expect(parseButtonValue({ zimage: 'delete', job: 'j1', thread })).toBeUndefined();
    expect(parseButtonValue({ zimage: 'cancel', job: 'j 1', thread })).toBeUndefined();
    expect(parseButtonValue('cancel')).toBeUndefined();
  });
});

describe('Lark references', () => {
  it('round-trip, and refuse anything else', () => {
    expect(decodeThread(encodeThread({ tenant: 't1', chat: 'oc_1', root: 'om_root' }))).toEqual({ tenant: 't1', chat: 'oc_1', root: 'om_root' });
    const m = { tenant: 't1', chat: 'oc_1', root: 'om_root', message: 'om_2', sentAt: 1_700_000_000_000 };
    expect(encodeMessage(m)).toBe('lark:t1:oc_1:om_root:om_2:1700000000000');
    expect(decodeMessage(encodeMessage(m))).toEqual(m);
    expect(() => decodeThread('slack:T1:C1:1.2')).toThrow(/not a Lark thread/);
    expect(() => decodeMessage('lark:t1:oc_1:om_root:om_2:x')).toThrow(/not a Lark message/);
    expect(() => encodeThread({ tenant: 't:1', chat: 'oc', root: 'om' })).toThrow();
  });
});

describe('Lark webhook crypto', () => {
  it('decrypts what Lark encrypts, the same as the SDK does', () => {
    const payload = { challenge: 'c-1', token: 'tok', type: 'url_verification' };
    const enc = encryptPayload(payload, 'my-encrypt-key');
    expect(JSON.parse(decryptPayload(enc, 'my-encrypt-key'))).toEqual(payload);
    expect(new lark.AESCipher('my-encrypt-key').decrypt(enc)).toBe(decryptPayload(enc, 'my-encrypt-key'));
    // A wrong key gives garbage: usually bad padding (a throw), about once in 256 bytes that pass as padding.
    let wrong: string | undefined;
    try { wrong = decryptPayload(enc, 'another-key'); } catch { wrong = undefined; }
    expect(wrong).not.toBe(decryptPayload(enc, 'my-encrypt-key'));
  });

  it('signs timestamp + nonce + key + raw body with SHA-256', () => {
    expect(signatureOf('1700000000', 'n1', 'k', Buffer.from('{"a":1}'))).toBe('260af7f5d58f5f6af3e9c39904d48433ee310e8c4df7989b5b950263274faac5');
  });
});
