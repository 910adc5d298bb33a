/**
 * Turns a template invocation into generation parameters: the template's variables rendered into its
 * prompt, the flags (seed, count, size, steps) checked by the generate grammar with the template's size
 * and steps as defaults. Every problem becomes one reply that names the variable and shows the usage line.
 */
import { formatCommandError, parseCommand, type CommandRules } from '../commands/index.js';
import { t } from '../i18n/index.js';
import type { GenerateJobData } from '../jobs/types.js';
import type { GenerateRequest } from '../commands/index.js';
import type { Invocation } from './invocation.js';
import type { TemplateLibrary } from './library.js';
import { renderTemplate, usageLine, type RenderProblem } from './render.js';
import type { Template } from './schema.js';

export type Prepared =
  | { ok: true; template: Template; params: GenerateRequest; extra: Pick<GenerateJobData, 'template' | 'post'> }
  | { ok: false; reply: string };

function problemText(p: RenderProblem, locale: string): string {
  if (p.code === 'TEMPLATE_BAD_VALUE') {
    return t(locale, `templates.${p.code}`, { variable: p.variable, value: p.value, rule: t(locale, `templates.rule_${p.rule}`, { detail: p.detail }) });
  }
  return t(locale, `templates.${p.code}`, { variable: p.variable });
}

export function prepareTemplate(lib: TemplateLibrary, inv: Invocation, rules: CommandRules, locale: string): Prepared {
  const template = lib.get(inv.template);
  if (!template) {
    return { ok: false, reply: t(locale, 'templates.unknown', { name: inv.template, names: lib.all().map((x) => x.name).join(', ') || '—' }) };
  }
  const rendered = renderTemplate(template, inv.vars);
  if ('problems' in rendered) {
    const lines = rendered.problems.map((p) => problemText(p, locale));
    return { ok: false, reply: [...lines, t(locale, 'templates.usage', { usage: usageLine(template) })].join('\n') };
  }
  const withDefaults: CommandRules = { ...rules, defaults: { width: template.width, height: template.height, steps: template.steps } };
  // The generate grammar checks the flags; the rendered prompt is not part of the text it parses.
  const parsed = parseCommand(`${template.name} ${inv.flags}`, withDefaults);
  if (parsed.kind === 'error') return { ok: false, reply: formatCommandError(parsed.error, locale) };
  if (parsed.kind !== 'generate') return { ok: false, reply: t(locale, 'templates.usage', { usage: usageLine(template) }) };
  const params: GenerateRequest = { ...parsed.params, prompt: rendered.prompt };
  return {
    ok: true, template, params,
    extra: { template: { id: template.name, version: template.version }, ...(template.post ? { post: template.post } : {}) },
  };
}
