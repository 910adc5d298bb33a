/**
 * The Origin check of every state-changing gallery request (with the CSRF token, gallery-routes.ts): the
 * request must say it comes from a page of this very site — its `Origin` (or, failing that, `Referer`) names
 * the host the request was sent to, or PUBLIC_URL's origin. A missing or `null` origin is refused: every
 * browser sends one with a POST or DELETE from a page (the gallery's pages ask for `same-origin` referrers).
 */
import { headerOf, type FastifyRequest } from '../http/server.js';

function originOf(value: string | undefined): URL | undefined {
  if (!value || value === 'null') return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

export function sameOrigin(req: FastifyRequest, publicUrl?: string): boolean {
  const origin = originOf(headerOf(req, 'origin')) ?? originOf(headerOf(req, 'referer'));
  if (!origin || (origin.protocol !== 'http:' && origin.protocol !== 'https:')) return false;
  if (publicUrl && origin.origin === new URL(publicUrl).origin) return true;
  const host = headerOf(req, 'host')?.trim().toLowerCase();
  return host !== undefined && origin.host === host;
}
