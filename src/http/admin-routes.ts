/**
 * Admin HTTP endpoints, bearer-token protected (ADMIN_TOKEN; without it they answer 404):
 * `POST /admin/reload` reloads the template presets and the settings file and reports what changed.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { SettingsSource } from '../settings-source.js';
import type { TemplateLibrary } from '../templates/library.js';
import { formatProblem } from '../templates/loader.js';
import { sendJson, type HttpServer } from './server.js';

export function bearerOk(req: IncomingMessage, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!.trim());
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

export function registerAdminRoutes(http: HttpServer, token: string | undefined, templates: TemplateLibrary, settings: SettingsSource): void {
  http.route('POST', '/admin/reload', async (req, res) => {
    if (!token) return sendJson(res, 404, { error: { code: 'ADMIN_DISABLED', message: 'set ADMIN_TOKEN to enable the admin endpoints' } });
    if (!bearerOk(req, token)) return sendJson(res, 401, { error: { code: 'UNAUTHORIZED', message: 'a valid "Authorization: Bearer <ADMIN_TOKEN>" header is required' } });
    const report = await templates.reload();
    const settingsError = settings.reload();
    const ok = report.ok && settingsError === null;
    sendJson(res, ok ? 200 : 422, {
      ok,
      templates: { ok: report.ok, added: report.added, changed: report.changed, removed: report.removed, problems: report.problems.map(formatProblem) },
      settings: { ok: settingsError === null, ...(settingsError ? { error: settingsError } : {}) },
    });
  });
}
