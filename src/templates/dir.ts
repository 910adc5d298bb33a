import { join, resolve } from 'node:path';
import type { Config } from '../config.js';
import { repoRoot } from '../infra/paths.js';

/** The template presets directory: TEMPLATES_DIR, else templates/presets in the repository. */
export function templatesDir(config: Config): string {
  return config.env.TEMPLATES_DIR ? resolve(config.env.TEMPLATES_DIR) : join(repoRoot(), 'templates', 'presets');
}
