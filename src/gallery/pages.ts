/**
 * The gallery's few server-made pages: "sign in as …?" for a sign-in link, and the pages that explain an
 * expired or used link and how to sign in at all. Everything that comes from people (a name) is escaped;
 * the texts are the catalogues' `gallery.page.*`. Also the headers every gallery page is sent with.
 */
import { t } from '../i18n/index.js';
import type { FastifyReply } from '../http/server.js';
import { PAGE_CSP } from '../http/static-files.js';
import { CODE_TTL_MS } from './sign-in-codes.js';
import type { ChatIdentity } from './identity.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).header('content-type', 'text/html; charset=utf-8').header('content-security-policy', PAGE_CSP)
    .header('x-frame-options', 'DENY').send(html);
}

const P = (locale: string, key: string, params?: Record<string, string | number>): string => escapeHtml(t(locale, `gallery.page.${key}`, params));
const MINUTES = Math.round(CODE_TTL_MS / 60_000);
const nameOf = (id: ChatIdentity): string => id.userName ?? id.user;

function shell(locale: string, title: string, body: string): string {
  return `<!doctype html><html lang="${locale === 'zh-CN' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="same-origin">
<title>${title} — zimage</title><link rel="stylesheet" href="/gallery/static/base.css"><link rel="stylesheet" href="/gallery/static/gallery.css"></head>
<body class="notice-page"><main class="notice"><h1>${title}</h1>${body}</main></body></html>`;
}

/** "This link signs you in as …": the code is used only when the person presses the button (a link preview cannot use it up). */
export function signInPage(locale: string, code: string, identity: ChatIdentity, current: ChatIdentity | undefined, next: string): string {
  const replaces = current && (current.user !== identity.user || current.workspace !== identity.workspace || current.platform !== identity.platform)
    ? `<p class="muted">${P(locale, 'signin_replaces', { name: nameOf(current) })}</p>` : '';
  return shell(locale, P(locale, 'signin_title'), `
<p>${P(locale, 'signin_as', { name: nameOf(identity), platform: identity.platform, workspace: identity.workspace })}</p>${replaces}
<form method="post" action="/gallery/signin"><input type="hidden" name="code" value="${escapeHtml(code)}">
<input type="hidden" name="next" value="${escapeHtml(next)}"><button type="submit" class="primary">${P(locale, 'signin_button')}</button></form>`);
}

export function expiredPage(locale: string): string {
  return shell(locale, P(locale, 'expired_title'), `<p>${P(locale, 'expired_body', { minutes: MINUTES })}</p>`);
}

/** `here`: this browser is the one that used it (and is still signed in with it). */
export function usedPage(locale: string, here: boolean): string {
  const body = here
    ? `<p>${P(locale, 'used_here')}</p><p><a class="button primary" href="/gallery">${P(locale, 'open_gallery')}</a></p>`
    : `<p>${P(locale, 'used_body')}</p>`;
  return shell(locale, P(locale, 'used_title'), body);
}

export function signedOutPage(locale: string): string {
  return shell(locale, P(locale, 'signed_out_title'), `<p>${P(locale, 'signed_out_body')}</p><p><code>/zimage gallery</code></p>`);
}
