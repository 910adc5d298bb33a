/**
 * The bot's icon for the browser tab of its pages (the Playground, the gallery): `/favicon.svg`, and the same at
 * `/favicon.ico`, where browsers look when a page names none — so no page load ends with a failed request.
 */
import type { HttpServer } from './server.js';

/** The bot's avatar: a white four-point sparkle on the orange-to-pink gradient the pages use. */
const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#ff6a00"/><stop offset="1" stop-color="#ee0979"/></linearGradient></defs>
<rect width="32" height="32" rx="7" fill="url(#g)"/>
<path d="M16 5 L18.6 13.4 L27 16 L18.6 18.6 L16 27 L13.4 18.6 L5 16 L13.4 13.4 Z" fill="#fff"/>
</svg>
`;

export function registerIconRoutes(http: HttpServer): void {
  for (const path of ['/favicon.svg', '/favicon.ico']) {
    http.app.get(path, async (_req, reply) => reply.header('content-type', 'image/svg+xml').header('cache-control', 'public, max-age=86400').send(ICON));
  }
}
