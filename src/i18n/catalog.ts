/**
 * Message catalogues: templates/messages/<locale>.yaml, nested maps of strings flattened to dotted keys
 * (`status.queued`). Loaded once, on first use, from the repository root — found by walking up from this
 * module, so the same code works from `src/i18n/` (tests, tsx) and compiled from `dist/src/i18n/`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { LOCALES, type Locale } from './locale.js';

export type Catalog = ReadonlyMap<string, string>;

const MESSAGES_SUBDIR = join('templates', 'messages');

let override: string | undefined;

/** Read the catalogues from another directory from now on (tests); `undefined` goes back to the repository's. */
export function useMessagesDir(dir: string | undefined): void {
  override = dir;
  loaded = undefined;
}

/** The directory holding `<locale>.yaml`: `templates/messages` under the nearest ancestor with package.json (or `useMessagesDir`'s). */
export function messagesDir(): string {
  if (override) return override;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, MESSAGES_SUBDIR))) return join(dir, MESSAGES_SUBDIR);
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`Cannot find ${MESSAGES_SUBDIR} above ${fileURLToPath(import.meta.url)}: the repository's templates/messages is missing.`);
    }
    dir = parent;
  }
}

function flatten(node: unknown, prefix: string, out: Map<string, string>, file: string): void {
  if (typeof node === 'string') {
    out.set(prefix, node);
    return;
  }
  if (node === null || typeof node !== 'object' || Array.isArray(node)) {
    throw new Error(`${file}: "${prefix || '(top level)'}" must be a text or a map of texts`);
  }
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    flatten(value, prefix ? `${prefix}.${key}` : key, out, file);
  }
}

/** Parse one catalogue file into a flat key → text map. Throws with the file name when it is malformed. */
export function readCatalog(file: string): Catalog {
  const out = new Map<string, string>();
  flatten(parseYaml(readFileSync(file, 'utf8')) ?? {}, '', out, file);
  return out;
}

let loaded: ReadonlyMap<Locale, Catalog> | undefined;

/** All catalogues, read once. */
export function catalogs(): ReadonlyMap<Locale, Catalog> {
  if (!loaded) {
    const dir = messagesDir();
    loaded = new Map(LOCALES.map((locale) => [locale, readCatalog(join(dir, `${locale}.yaml`))]));
  }
  return loaded;
}

/** The placeholder names a text uses, e.g. `Step {step}/{steps}` → ['step', 'steps'] (sorted, unique). */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!))].sort();
}

export const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
