/**
 * Signing in to the gallery through chat, against a real bot (real Redis, real HTTP): `/zimage gallery` in
 * the Playground answers with a link only the asker's browser session is shown; the link works once, within
 * its time, for the person it was made for; a session is the gallery's own (never a Playground session); and
 * signing out ends it everywhere.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotApp } from '../../src/app/bot-app.js';
import { GalleryBrowser } from '../helpers/gallery-browser.js';
import { PlaygroundClient, startBot, testEnv, type PgMessage, type TestEnv } from '../helpers/harness.js';
import { pgFetch } from '../helpers/playground-http.js';

const alice = { platform: 'playground', workspace: 'local', user: 'alice', userName: 'Alice' };
const bob = { platform: 'playground', workspace: 'local', user: 'bob', userName: 'Bob' };

describe('gallery sign-in through chat', () => {
  let t: TestEnv;
  let bot: BotApp;
  let pg: PlaygroundClient;
  let base: string;

  beforeAll(async () => {
    t = await testEnv();
    bot = await startBot(t);
    pg = new PlaygroundClient(`http://127.0.0.1:${bot.boundPort}`);
    base = `http://localhost:${bot.boundPort}`;
  });
  afterAll(async () => {
    await bot?.stop();
    t?.cleanup();
  });

  /** The thread as one person's browser session shows it. */
  async function threadAs(person: string, threadId: string): Promise<PgMessage[]> {
    const res = await pgFetch(pg.base, `/api/playground/threads/${threadId}`, {}, person);
    return ((await res.json()) as { messages: PgMessage[] }).messages;
  }

  async function linkFor(person: string): Promise<string> {
    const { threadId } = await pg.post(person, '/zimage gallery');
    for (const until = Date.now() + 10_000; Date.now() < until; await sleep(50)) {
      const reply = (await threadAs(person, threadId)).find((m) => m.user === 'zimage');
      if (reply) return /https?:\/\/\S+/.exec(reply.text)![0];
    }
    throw new Error('no sign-in link');
  }

  it('/zimage gallery: a personal link in the thread, shown to the asker\'s browser only', async () => {
    const { threadId } = await pg.post('Alice', '/zimage gallery');
    let mine: PgMessage | undefined;
    for (const until = Date.now() + 10_000; !mine && Date.now() < until; await sleep(50)) {
      mine = (await threadAs('Alice', threadId)).find((m) => m.user === 'zimage');
    }
    expect(mine).toMatchObject({ privateTo: 'alice' });
    expect(mine!.text).toMatch(new RegExp(`^Your sign-in link to the image gallery\\. It works once, within 10 minutes.*\\n${base}/gallery/signin\\?code=[A-Za-z0-9_-]{43}$`, 's'));
    // Bob's browser, and a browser with no name at all, see the thread without it.
    await pg.post('Bob', 'hello');
    expect((await threadAs('Bob', threadId)).map((m) => m.user)).toEqual(['alice']);
    expect((await threadAs('', threadId)).map((m) => m.user)).toEqual(['alice']);
  });

  it('the link signs in once: the page asks first (a link preview uses nothing), the button sets the session cookie', async () => {
    const link = await linkFor('Alice');
    const a = new GalleryBrowser(base);
    // Opening the link twice (a chat client's link preview, then the person) uses nothing.
    expect((await a.fetch(link)).status).toBe(200);
    // So does a HEAD (a previewer or download manager checking the link first).
    expect((await a.fetch(link, { method: 'HEAD', origin: null, csrf: null })).status).toBe(200);
    const { page, html, answer } = await a.signIn(link);
    expect(page.status).toBe(200);
    expect(html).toContain('This link signs you in as Alice (playground, local).');
    expect(answer!.status).toBe(303);
    expect(answer!.headers.get('location')).toBe('/gallery');
    const cookie = a.setCookies.find((c) => c.startsWith('zimage_gallery='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/); // plain http: a Secure cookie would never come back
    expect((await a.me())).toMatchObject({ identity: alice, manager: false, audit: false });
    expect((await a.fetch('/gallery')).status).toBe(200);

    // Used: in another browser the link explains itself and signs nobody in.
    const b = new GalleryBrowser(base);
    const again = await b.fetch(link);
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('This sign-in link has been used already');
    const pressed = await b.press(new URL(link).searchParams.get('code')!);
    expect(pressed.status).toBe(410);
    expect(b.jar.has('zimage_gallery')).toBe(false);
    expect(await b.me()).toBeNull();
    // In the browser that used it, the page says it is signed in with it.
    const here = await a.fetch(link);
    expect(await here.text()).toContain('This browser signed in with it and is still signed in.');
  });

  it('an expired link explains how to get a new one and signs nobody in', async () => {
    const link = await bot.gallery.signInLink(alice, { ttlMs: 300 });
    const a = new GalleryBrowser(base);
    expect((await a.fetch(link)).status).toBe(200); // within its time (positive control)
    await sleep(600);
    const page = await a.fetch(link);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain('Type /zimage gallery in Slack, Lark or the Playground to get a new one.');
    const pressed = await a.press(new URL(link).searchParams.get('code')!);
    expect(pressed.status).toBe(410);
    expect(await a.me()).toBeNull();
    // A code nobody made, and one that is not even a code: the same page.
    expect((await a.fetch(`/gallery/signin?code=${'x'.repeat(43)}`)).status).toBe(410);
    expect((await a.fetch('/gallery/signin?code=%00%ff<script>')).status).toBe(410);
  });

  it('a session is the person of the link, whatever the request says; another person\'s used link leaves a browser as it was', async () => {
    const b = new GalleryBrowser(base);
    await b.signIn(await bot.gallery.signInLink(bob));
    expect((await b.me())!.identity).toEqual(bob);
    // Naming someone else in the request changes nothing.
    expect((await b.json('/api/gallery/me?user=alice', { headers: { 'x-user': 'alice' } })).body).toMatchObject({ identity: bob });
    // Alice's link, used by Alice: Bob's browser is told so, and stays Bob.
    const link = await bot.gallery.signInLink(alice);
    const a = new GalleryBrowser(base);
    await a.signIn(link);
    expect((await b.fetch(link)).status).toBe(410);
    expect((await b.me())!.identity).toEqual(bob);
    // Alice's unused link in Bob's browser: the page names both, and signing in makes the browser Alice's.
    const second = await bot.gallery.signInLink(alice);
    const { html, answer } = await b.signIn(second);
    expect(html).toContain('This link signs you in as Alice');
    expect(html).toContain('This browser is signed in as Bob now; signing in with this link replaces that.');
    expect(answer!.status).toBe(303);
    expect((await b.me())!.identity).toEqual(alice);
  });

  it('the sign-in button works only from the bot\'s own page (Origin), so no other site can sign a browser in', async () => {
    const link = await bot.gallery.signInLink(alice);
    const c = new GalleryBrowser(base, 'https://evil.example');
    const res = await c.press(new URL(link).searchParams.get('code')!);
    expect(res.status).toBe(403);
    expect(c.jar.has('zimage_gallery')).toBe(false);
    // The code was not used: the right page still signs in with it.
    expect((await new GalleryBrowser(base).signIn(link)).answer!.status).toBe(303);
  });

  it('signing out ends the session everywhere: the cookie kept elsewhere no longer works', async () => {
    const a = new GalleryBrowser(base);
    await a.signIn(await bot.gallery.signInLink(alice));
    const copy = new GalleryBrowser(base);
    copy.jar.set('zimage_gallery', a.jar.get('zimage_gallery')!);
    expect((await copy.me())!.identity).toEqual(alice);
    expect((await a.fetch('/api/gallery/signout', { method: 'POST', csrf: null })).status).toBe(403); // a change needs the token
    expect((await a.fetch('/api/gallery/signout', { method: 'POST' })).status).toBe(204);
    expect(a.jar.has('zimage_gallery')).toBe(false);
    // At once on this replica (others remember a checked session for a few seconds).
    expect(await copy.me()).toBeNull();
    expect((await copy.fetch('/gallery')).status).toBe(401);
  });

  it('pages without a session say how to sign in; the API answers 401', async () => {
    const nobody = new GalleryBrowser(base);
    const page = await nobody.fetch('/gallery');
    expect(page.status).toBe(401);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('/zimage gallery');
    for (const path of ['/api/gallery/me', '/api/gallery/images', '/api/gallery/filters', '/api/gallery/usage']) {
      expect((await nobody.fetch(path)).status).toBe(401);
    }
    // A forged cookie is no session.
    nobody.jar.set('zimage_gallery', `${Buffer.from(JSON.stringify({ v: 1, s: 'a'.repeat(22), e: Date.now() + 1e6, i: alice })).toString('base64url')}.${'A'.repeat(43)}`);
    expect(await nobody.me()).toBeNull();
  });
});

describe('gallery and Playground sessions are separate', () => {
  it('a gallery cookie opens no Playground page, a Playground cookie no gallery page', async () => {
    const t: TestEnv = await testEnv({ PLAYGROUND_ACCESS: 'token', PLAYGROUND_TOKEN: 'pg-token-0123456789abcdef' });
    const bot = await startBot(t);
    try {
      const base = `http://localhost:${bot.boundPort}`;
      const g = new GalleryBrowser(base);
      await g.signIn(await bot.gallery.signInLink(alice));
      expect((await g.me())!.identity).toEqual(alice);
      expect((await g.fetch('/api/playground/messages')).status).toBe(401);
      expect((await g.fetch('/')).status).toBe(401);
      // The Playground's access link gives its own session, which the gallery does not take.
      const p = new GalleryBrowser(base);
      const opened = await p.fetch('/?token=pg-token-0123456789abcdef');
      expect(opened.status).toBe(303);
      expect(p.jar.has('zimage_pg')).toBe(true);
      expect((await p.fetch('/api/playground/messages')).status).toBe(200);
      expect(await p.me()).toBeNull();
      expect((await p.fetch('/gallery')).status).toBe(401);
    } finally {
      await bot.stop();
      t.cleanup();
    }
  });

  it('behind an https PUBLIC_URL the links use it and the cookie is Secure', async () => {
    const t: TestEnv = await testEnv({ PUBLIC_URL: 'https://zimage.example.test/' });
    const bot = await startBot(t);
    try {
      const link = await bot.gallery.signInLink(alice);
      expect(link).toMatch(/^https:\/\/zimage\.example\.test\/gallery\/signin\?code=/);
      // The proxy forwards to the bot; the page's Origin is the public one.
      const b = new GalleryBrowser(`http://127.0.0.1:${bot.boundPort}`, 'https://zimage.example.test');
      const res = await b.signIn(link.replace('https://zimage.example.test', b.base));
      expect(res.answer!.status).toBe(303);
      expect(b.setCookies.find((c) => c.startsWith('zimage_gallery='))).toMatch(/; Secure/);
    } finally {
      await bot.stop();
      t.cleanup();
    }
  });
});
