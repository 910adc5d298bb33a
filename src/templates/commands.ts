/** `/zimage templates` (everyone) and `/zimage reload` (managers): the preset list and on-demand reload. */
import type { SubcommandHandler } from '../commands/subcommand.js';
import { t } from '../i18n/index.js';
import type { QuotaPolicy } from '../quota/policy.js';
import type { QuotaService } from '../quota/service.js';
import type { SettingsSource } from '../settings-source.js';
import type { ReloadReport, TemplateLibrary } from './library.js';
import { formatProblem } from './loader.js';
import { usageLine } from './render.js';
import type { Template } from './schema.js';
import { templateTexts } from './texts.js';

export interface TemplateCommandDeps {
  templates: TemplateLibrary;
  quota: QuotaService;
  policy: () => QuotaPolicy;
  settings: SettingsSource;
}

/** Roles whose policy names this template; "everyone" unless some role is limited to a list without it. */
export function whoMayUse(tpl: Template, policy: QuotaPolicy, locale: string): string {
  const limited = Object.entries(policy.s.roles).filter(([, p]) => p.templates !== undefined);
  const excluded = limited.filter(([, p]) => !p.templates!.includes(tpl.name)).map(([r]) => r);
  return excluded.length === 0 ? t(locale, 'templates.everyone') : t(locale, 'templates.except', { roles: excluded.join(', ') });
}

export function reportText(r: ReloadReport, locale: string): string {
  if (!r.ok) return [t(locale, 'templates.reload_failed'), ...r.problems.map((p) => `  ${formatProblem(p)}`)].join('\n');
  const none = t(locale, 'templates.none_changed');
  const list = (xs: string[]) => (xs.length ? xs.join(', ') : '—');
  if (r.added.length + r.removed.length + r.changed.length === 0) return none;
  return t(locale, 'templates.reloaded', { added: list(r.added), changed: list(r.changed), removed: list(r.removed) });
}

export function templateCommands(d: TemplateCommandDeps): SubcommandHandler[] {
  const list: SubcommandHandler = {
    name: 'templates',
    aliases: ['模板'],
    async handle(ctx) {
      const all = d.templates.all();
      if (all.length === 0) {
        await ctx.adapter.reply(ctx.request.thread, t(ctx.locale, 'templates.empty'));
        return;
      }
      const blocks = all.map((tpl) => {
        const words = templateTexts(tpl, ctx.locale);
        const vars = Object.entries(tpl.variables).map(([n, v]) => `${n}${v.required ? '*' : ''} — ${words.variables[n]}${v.default !== undefined ? ` (${v.default})` : ''}`);
        return [
          t(ctx.locale, 'templates.entry', { name: tpl.name, title: words.title, description: words.description }),
          `  ${usageLine(tpl)}`,
          `  ${t(ctx.locale, 'templates.details', { size: `${tpl.width}×${tpl.height}`, steps: tpl.steps, who: whoMayUse(tpl, d.policy(), ctx.locale) })}`,
          ...vars.map((v) => `    ${v}`),
        ].join('\n');
      });
      await ctx.adapter.reply(ctx.request.thread, [t(ctx.locale, 'templates.title', { n: all.length }), ...blocks].join('\n'));
    },
  };

  const reload: SubcommandHandler = {
    name: 'reload',
    async handle(ctx) {
      if (!(await d.quota.roleOf(ctx.request)).manager) {
        await ctx.adapter.reply(ctx.request.thread, t(ctx.locale, 'quota.not_manager'));
        return;
      }
      const report = await d.templates.reload();
      const settingsError = d.settings.reload();
      const lines = [reportText(report, ctx.locale)];
      if (settingsError) lines.push(t(ctx.locale, 'templates.settings_failed', { error: settingsError }));
      await ctx.adapter.reply(ctx.request.thread, lines.join('\n'));
    },
  };

  return [list, reload];
}
