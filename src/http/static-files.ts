/**
 * A page's own files from one directory of the repository: a fixed list of types, no directory escapes, and
 * `no-cache` — no build step versions the files, so the browser fetches them again on every load. An HTML page
 * goes out with PAGE_CSP.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { errorBody, type FastifyReply } from './server.js';

/** Pages run only their own scripts and styles, load images from here (or data:/blob:), and cannot be framed. */
export const PAGE_CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
};

export async function serveFile(reply: FastifyReply, dir: string, file: string): Promise<void> {
  const rel = normalize(file).replace(/^([/\\])+/, '');
  const type = TYPES[extname(rel)];
  if (!type || rel.startsWith('..') || rel.includes('\0')) return void reply.code(404).send(errorBody('NOT_FOUND', 'not found'));
  let body: Buffer;
  try {
    body = await readFile(join(dir, rel));
  } catch {
    return void reply.code(404).send(errorBody('NOT_FOUND', 'not found'));
  }
  if (type.startsWith('text/html')) void reply.header('content-security-policy', PAGE_CSP);
  void reply.header('content-type', type).header('cache-control', 'no-cache').send(body);
}
