/**
 * A browser, as far as the gallery can tell: a cookie jar of its own, the `Origin` a page of the bot's site
 * sends with a change, and the CSRF token the page reads from `/api/gallery/me`. `signIn` follows a sign-in
 * link the way a person does: opens it, then presses the page's button (its form, as the page has it).
 */
import type { ImageMetadata, StoredImage } from '../../src/jobs/types.js';
import sharp from 'sharp';
import { provenanceRecord } from '../../src/assets/provenance.js';
import { thumbnailKey } from '../../src/assets/asset-store.js';
import { createAssetStore } from '../../src/assets/create-store.js';
import type { BotApp } from '../../src/app/bot-app.js';
import type { Config } from '../../src/config.js';
import { storedImage } from './library-fixtures.js';

export interface Me {
  identity: { platform: string; workspace: string; user: string; userName?: string };
  manager: boolean;
  audit: boolean;
  csrf: string;
  locale: string;
}

type Init = Omit<RequestInit, 'headers'> & { headers?: Record<string, string>; origin?: string | null; csrf?: string | null };

export class GalleryBrowser {
  readonly jar = new Map<string, string>();
  /** Every Set-Cookie header this browser was sent, as sent. */
  readonly setCookies: string[] = [];
  csrf = '';

  constructor(readonly base: string, readonly origin = base) {}

  /** A request as a page of this browser makes it: cookies, and for changes the Origin and the CSRF token (unless told otherwise). */
  async fetch(path: string, init: Init = {}): Promise<Response> {
    const method = init.method ?? 'GET';
    const headers: Record<string, string> = { ...init.headers };
    if (this.jar.size > 0) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const origin = init.origin === undefined ? (method === 'GET' ? null : this.origin) : init.origin;
    if (origin) headers.origin = origin;
    const csrf = init.csrf === undefined ? (method === 'GET' ? null : this.csrf) : init.csrf;
    if (csrf) headers['x-csrf-token'] = csrf;
    const res = await fetch(path.startsWith('http') ? path : `${this.base}${path}`, { ...init, method, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      this.setCookies.push(c);
      const [pair] = c.split(';');
      const [name, ...value] = pair!.split('=');
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(c) || value.join('=') === '') this.jar.delete(name!.trim());
      else this.jar.set(name!.trim(), value.join('='));
    }
    return res;
  }

  /** Open a sign-in link and press its button; the answer of the button (303 into the gallery when it worked). */
  async signIn(link: string): Promise<{ page: Response; html: string; answer?: Response }> {
    const page = await this.fetch(link);
    const html = await page.text();
    if (page.status !== 200) return { page, html };
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';
    const unescape = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
    const body = new URLSearchParams({ code: unescape(field('code')), next: unescape(field('next')) }).toString();
    const answer = await this.fetch(`${new URL(link).origin}/gallery/signin`, {
      method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' }, csrf: null,
    });
    if (answer.status === 303) await this.me();
    return { page, html, answer };
  }

  /** Press the sign-in button with this code, as the sign-in page's form would send it. */
  press(code: string): Promise<Response> {
    return this.fetch('/gallery/signin', {
      method: 'POST', body: new URLSearchParams({ code }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' }, csrf: null,
    });
  }

  /** Who this browser is signed in as (and its CSRF token), or null. */
  async me(): Promise<Me | null> {
    const res = await this.fetch('/api/gallery/me');
    if (res.status !== 200) { await res.arrayBuffer(); return null; }
    const me = (await res.json()) as Me;
    this.csrf = me.csrf;
    return me;
  }

  async json<T = Record<string, unknown>>(path: string, init: Init = {}): Promise<{ status: number; body: T }> {
    const res = await this.fetch(path, init);
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }
}

/** A tiny real PNG and (unless `preview: false`) its preview in the bot's asset store, and the image's row in its index (as a delivery writes it). */
export async function seedImage(bot: BotApp, config: Config, o: Partial<ImageMetadata> & { at?: string; preview?: boolean } = {}): Promise<StoredImage> {
  const { preview: withPreview = true, ...meta } = o;
  const image = storedImage(meta);
  const assets = createAssetStore(config);
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3a7bd5' } }).png().toBuffer();
  const preview = await sharp(png).webp().toBuffer();
  await assets.put(image.key, png, provenanceRecord(image.metadata, image.key));
  if (withPreview) await assets.putFile(thumbnailKey(image.key), preview);
  await bot.library.record([image]);
  return image;
}
