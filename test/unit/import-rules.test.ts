/**
 * The package faces, checked on the source: which folder may import which (ARCHITECTURE.md "Seams"), which
 * file may import the chat SDKs and onnxruntime-node, and no import cycles anywhere in the product's code.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PRODUCT = ['src', 'adapters', 'worker'];
const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const CHAT_SDKS = ['@slack/bolt', '@slack/web-api', '@slack/socket-mode', '@larksuiteoapi/node-sdk'];

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) return name === 'node_modules' || name === 'public' ? [] : files(rel);
    return rel.endsWith('.ts') && !rel.endsWith('.d.ts') ? [rel] : [];
  });
}

interface Edge { from: string; to: string; spec: string }

/** Every import of every product file: local ones resolved to files, packages by name. */
function graph(): { locals: Edge[]; packages: Edge[] } {
  const locals: Edge[] = [];
  const packages: Edge[] = [];
  for (const file of PRODUCT.flatMap(files)) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('.')) {
        const to = normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts');
        locals.push({ from: file, to, spec });
      } else {
        packages.push({ from: file, to: spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!, spec });
      }
    }
  }
  return { locals, packages };
}

const { locals, packages } = graph();
const under = (file: string, ...dirs: string[]): boolean => dirs.some((d) => file === d || file.startsWith(`${d}/`));
const show = (edges: Edge[]): string[] => edges.map((e) => `${e.from} → ${e.spec}`);

describe('import rules', () => {
  it('the scan sees the product (a rule checked on nothing passes for nothing)', () => {
    expect(locals.length).toBeGreaterThan(300);
    expect(locals.some((e) => e.from === 'src/app/adapters.ts' && under(e.to, 'adapters'))).toBe(true);
    expect(packages.some((e) => under(e.from, 'worker/engine') && e.to === 'onnxruntime-node')).toBe(true);
  });

  it('outside the composition root (src/main, src/app) nothing under src/ imports adapters/', () => {
    expect(show(locals.filter((e) => under(e.from, 'src') && !under(e.from, 'src/main', 'src/app') && under(e.to, 'adapters')))).toEqual([]);
  });

  it('nothing under src/ but the entry points in src/main imports worker/', () => {
    expect(show(locals.filter((e) => under(e.from, 'src') && !under(e.from, 'src/main') && under(e.to, 'worker')))).toEqual([]);
  });

  it('only worker/engine/ imports onnxruntime-node', () => {
    expect(show(packages.filter((e) => e.to === 'onnxruntime-node' && !under(e.from, 'worker/engine')))).toEqual([]);
  });

  it('the chat SDKs are imported by adapters only', () => {
    expect(show(packages.filter((e) => CHAT_SDKS.includes(e.to) && !under(e.from, 'adapters')))).toEqual([]);
  });

  it('adapters import the core, never each other, and never the worker', () => {
    const bad = locals.filter((e) => {
      if (!under(e.from, 'adapters')) return false;
      const own = e.from.split('/').slice(0, 2).join('/');
      return under(e.to, 'worker') || (under(e.to, 'adapters') && !under(e.to, own));
    });
    expect(show(bad)).toEqual([]);
  });

  it('there are no import cycles', () => {
    const next = new Map<string, string[]>();
    for (const e of locals) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const to of next.get(f) ?? []) {
        if (state.get(to) === 'open') cycles.push([...stack.slice(stack.indexOf(to)), to].map((x) => relative('.', x)).join(' → '));
        else if (!state.has(to)) visit(to);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of [...next.keys()].sort()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});
