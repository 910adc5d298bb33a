/**
 * Loads every template preset from a directory. All-or-nothing: one invalid file fails the whole load,
 * with messages that name the file, the line and the field, so the working set is never half replaced.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import { LOCALES } from '../i18n/locale.js';
import { templateSchema, type Template } from './schema.js';

export interface TemplateProblem { file: string; line: number | null; field: string; message: string }

export type LoadResult = { ok: true; templates: Map<string, Template> } | { ok: false; problems: TemplateProblem[] };

const FILE_RE = /\.(ya?ml|json)$/i;

function lineOf(doc: Document, counter: LineCounter, path: PropertyKey[]): number | null {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return counter.linePos(node.range[0]).line;
    if (n === 0 && isMap(doc.contents) && doc.contents.range) return counter.linePos(doc.contents.range[0]).line;
  }
  return null;
}

export function parseTemplateText(file: string, text: string, sizeOk: (w: number, h: number) => boolean): { template?: Template; problems: TemplateProblem[] } {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return { problems: doc.errors.map((e) => ({ file, line: e.linePos?.[0]?.line ?? null, field: '(syntax)', message: e.message.split('\n')[0]! })) };
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (err) {
    // An alias bomb (aliases of aliases, millions of nodes): the yaml library refuses to expand it.
    return { problems: [{ file, line: null, field: '(syntax)', message: (err as Error).message }] };
  }
  const parsed = templateSchema.safeParse(value);
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.map((i) => ({ file, line: lineOf(doc, counter, i.path), field: i.path.join('.') || '(top level)', message: i.message })),
    };
  }
  const t = parsed.data;
  const problems: TemplateProblem[] = [];
  const [w, h] = t.size.split('x').map(Number) as [number, number];
  if (!sizeOk(w, h)) problems.push({ file, line: lineOf(doc, counter, ['size']), field: 'size', message: `${t.size} is not an allowed size` });
  const used = new Set([...t.prompt.matchAll(/\{([a-z][a-z0-9_]*)\}/g)].map((m) => m[1]!));
  for (const name of used) {
    if (!Object.hasOwn(t.variables, name)) problems.push({ file, line: lineOf(doc, counter, ['prompt']), field: 'prompt', message: `uses {${name}}, which is not declared under variables` });
  }
  for (const [name, v] of Object.entries(t.variables)) {
    if (v.pattern) {
      try { new RegExp(v.pattern, 'u'); } catch { problems.push({ file, line: lineOf(doc, counter, ['variables', name, 'pattern']), field: `variables.${name}.pattern`, message: 'is not a valid regular expression' }); }
    }
    if (v.required && v.default !== undefined) problems.push({ file, line: lineOf(doc, counter, ['variables', name]), field: `variables.${name}`, message: 'a required variable cannot have a default' });
  }
  for (const [locale, tr] of Object.entries(t.translations)) {
    const at = (...path: string[]): number | null => lineOf(doc, counter, ['translations', locale, ...path]);
    if (!(LOCALES as readonly string[]).includes(locale)) {
      problems.push({ file, line: at(), field: `translations.${locale}`, message: `${locale} is not a language the bot speaks (${LOCALES.join(', ')})` });
      continue;
    }
    for (const name of Object.keys(tr.variables)) {
      if (!Object.hasOwn(t.variables, name)) problems.push({ file, line: at('variables', name), field: `translations.${locale}.variables.${name}`, message: `translates ${name}, which is not declared under variables` });
    }
  }
  if (problems.length > 0) return { problems };
  const version = createHash('sha256').update(text).digest('hex').slice(0, 12);
  return { template: { ...t, file, version, width: w, height: h }, problems: [] };
}

export async function loadTemplates(dir: string, sizeOk: (w: number, h: number) => boolean): Promise<LoadResult> {
  if (!existsSync(dir)) return { ok: true, templates: new Map() };
  const files = (await readdir(dir)).filter((f) => FILE_RE.test(f)).sort();
  const templates = new Map<string, Template>();
  const problems: TemplateProblem[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(join(dir, file), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Deleted since the listing (an editor saving, a removal): it simply is not part of the set.
      if (code === 'ENOENT') continue;
      problems.push({ file, line: null, field: '(file)', message: `cannot be read (${code ?? (err as Error).message})` });
      continue;
    }
    const res = parseTemplateText(file, text, sizeOk);
    problems.push(...res.problems);
    if (!res.template) continue;
    const other = templates.get(res.template.name);
    if (other) {
      problems.push({ file, line: null, field: 'name', message: `"${res.template.name}" is already defined in ${other.file}` });
      continue;
    }
    if (res.template.post?.overlay && !existsSync(join(dir, res.template.post.overlay.file))) {
      problems.push({ file, line: null, field: 'post.overlay.file', message: `${res.template.post.overlay.file} does not exist in ${dir}` });
      continue;
    }
    templates.set(res.template.name, res.template);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, templates };
}

export function formatProblem(p: TemplateProblem): string {
  return `${p.file}${p.line ? `:${p.line}` : ''} ${p.field}: ${p.message}`;
}
