import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { repoRoot } from '../../src/infra/paths.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
};

/** Serve a file of adapters/playground/public (no directory escapes). */
export async function serveStatic(_req: IncomingMessage, res: ServerResponse, file: string): Promise<void> {
  const rel = normalize(file).replace(/^([/\\])+/, '');
  const type = TYPES[extname(rel)];
  if (!type || rel.startsWith('..')) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  try {
    const body = await readFile(join(repoRoot(), 'adapters', 'playground', 'public', rel));
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' }).end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
}
