import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZimageError } from '../errors.js';

let root: string | undefined;

/** The repository root (the directory with package.json), from source (`src/…`) or compiled (`dist/src/…`). */
export function repoRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!(existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'templates')))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the zimage-bot root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  root = dir;
  return root;
}

/**
 * The compiled entry `file` (a thread or process entry) beside the module at `moduleUrl`. From .ts sources
 * (vitest) that is the build's copy under dist/, which must exist: `code` names the error otherwise.
 */
export function compiledSibling(moduleUrl: string, file: string, code: 'REDIS_SUPERVISOR_NOT_BUILT' | 'ENGINE_NOT_BUILT'): string {
  const here = fileURLToPath(moduleUrl);
  if (!here.endsWith('.ts')) return join(dirname(here), file);
  const compiled = join(repoRoot(), 'dist', relative(repoRoot(), dirname(here)), file);
  if (!existsSync(compiled)) {
    throw new ZimageError(code, `${compiled} is missing: run \`npm run build\` (npm test does) before using it from .ts sources`);
  }
  return compiled;
}
