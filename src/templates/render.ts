/**
 * Fills a template's prompt with variable values. Values are data: one pass over the pattern (a value that
 * contains `{x}` is never expanded), control characters and line breaks become spaces, whitespace is
 * collapsed, and each value is checked against its declared length, pattern and choices. Chat markup in a
 * value stays as typed; the adapters escape prompts when they display them.
 */
import { matchesPattern } from './pattern.js';
import type { Template } from './schema.js';

export type RenderProblem =
  | { code: 'TEMPLATE_MISSING_VARIABLE'; variable: string }
  | { code: 'TEMPLATE_UNKNOWN_VARIABLE'; variable: string }
  | { code: 'TEMPLATE_BAD_VALUE'; variable: string; value: string; rule: 'maxLength' | 'choices' | 'pattern'; detail: string };

export function cleanValue(raw: string): string {
  return raw.replace(/[\u0000-\u001F\u007F-\u009F\u2028\u2029]/g, ' ').replace(/\s+/g, ' ').trim();
}

/** The usage line of a template: `/zimage poster subject="…" [color=#FF6A00]`. */
export function usageLine(t: Template): string {
  const parts = Object.entries(t.variables).map(([name, v]) =>
    v.required ? `${name}="…"` : `[${name}=${v.default !== undefined ? (/\s/.test(v.default) ? `"${v.default}"` : v.default) : '…'}]`);
  return `/zimage ${t.name} ${parts.join(' ')}`.trim();
}

export function renderTemplate(t: Template, given: Record<string, string>): { prompt: string; values: Record<string, string> } | { problems: RenderProblem[] } {
  const problems: RenderProblem[] = [];
  for (const name of Object.keys(given)) if (!Object.hasOwn(t.variables, name)) problems.push({ code: 'TEMPLATE_UNKNOWN_VARIABLE', variable: name });
  const values: Record<string, string> = {};
  for (const [name, spec] of Object.entries(t.variables)) {
    // Own names only: a variable named `constructor` that the person left out is not Object's constructor.
    const raw = Object.hasOwn(given, name) ? given[name] : undefined;
    const value = raw === undefined ? spec.default : cleanValue(raw);
    if (value === undefined || value === '') {
      if (spec.required) problems.push({ code: 'TEMPLATE_MISSING_VARIABLE', variable: name });
      values[name] = '';
      continue;
    }
    if ([...value].length > spec.maxLength) problems.push({ code: 'TEMPLATE_BAD_VALUE', variable: name, value, rule: 'maxLength', detail: String(spec.maxLength) });
    else if (spec.choices && !spec.choices.includes(value)) problems.push({ code: 'TEMPLATE_BAD_VALUE', variable: name, value, rule: 'choices', detail: spec.choices.join(', ') });
    else if (spec.pattern && !matchesPattern(spec.pattern, value)) problems.push({ code: 'TEMPLATE_BAD_VALUE', variable: name, value, rule: 'pattern', detail: spec.pattern });
    values[name] = value;
  }
  if (problems.length > 0) return { problems };
  const prompt = t.prompt.replace(/\{([a-z][a-z0-9_]*)\}/g, (_, name: string) => values[name] ?? '').replace(/\s+/g, ' ').trim();
  return { prompt, values };
}
