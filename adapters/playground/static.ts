import { join } from 'node:path';
import type { FastifyReply } from '../../src/http/server.js';
import { serveFile } from '../../src/http/static-files.js';
import { repoRoot } from '../../src/infra/paths.js';

/** The page's own files (adapters/playground/public): a fixed list of types, no directory escapes. */
export function serveStatic(reply: FastifyReply, file: string): Promise<void> {
  return serveFile(reply, join(repoRoot(), 'adapters', 'playground', 'public'), file);
}
