/**
 * A preset's words for a reader: its title, description and variable descriptions in the reader's language
 * when the file translates them (`translations.<locale>`), else as written in the file.
 */
import type { Template } from './schema.js';

export interface TemplateTexts {
  title: string;
  description: string;
  /** Variable name → its description. */
  variables: Record<string, string>;
}

export function templateTexts(tpl: Template, locale: string): TemplateTexts {
  const tr = tpl.translations[locale];
  return {
    title: tr?.title ?? tpl.title,
    description: tr?.description ?? tpl.description,
    variables: Object.fromEntries(Object.entries(tpl.variables).map(([name, v]) => [name, tr?.variables[name] ?? v.description])),
  };
}
