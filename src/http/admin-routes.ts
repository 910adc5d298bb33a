/**
 * Admin HTTP endpoints, bearer-token protected (ADMIN_TOKEN; without it they answer 404):
 * `POST /admin/reload` reloads the template presets and the settings file and reports what changed.
 */
import type { SettingsSource } from '../settings-source.js';
import type { TemplateLibrary } from '../templates/library.js';
import { formatProblem } from '../templates/loader.js';
import { bearerMatches } from './secret-compare.js';
import { errorBody, type HttpServer } from './server.js';

export function registerAdminRoutes(http: HttpServer, token: string | undefined, templates: TemplateLibrary, settings: SettingsSource): void {
  http.app.post('/admin/reload', async (req, reply) => {
    if (!token) return reply.code(404).send(errorBody('ADMIN_DISABLED', 'set ADMIN_TOKEN to enable the admin endpoints'));
    if (!bearerMatches(req.headers.authorization, token)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send(errorBody('UNAUTHORIZED', 'a valid "Authorization: Bearer <ADMIN_TOKEN>" header is required'));
    }
    const report = await templates.reload();
    const settingsError = settings.reload();
    const ok = report.ok && settingsError === null;
    return reply.code(ok ? 200 : 422).send({
      ok,
      templates: { ok: report.ok, added: report.added, changed: report.changed, removed: report.removed, problems: report.problems.map(formatProblem) },
      settings: { ok: settingsError === null, ...(settingsError ? { error: settingsError } : {}) },
    });
  });
}
