/**
 * Builds the demo model: tiny graphs with the v2 export's layout (`onnx/*.onnx`, `tokenizer/*.json`) plus a
 * `demo-model.json` marker. `ensureDemoModel` builds into `<dataDir>/models/demo` when missing or outdated —
 * in a temporary sibling directory first, then renamed into place, so concurrent builders never expose a
 * half-written model (the loser of a race discards its copy).
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { applyPromptTemplate } from '../../../src/model/prompt-tokenizer.js';
import { MODEL_FILES } from '../model-files.js';
import {
  safetyCheckerGraph, schedulerStepGraph, scPrepGraph, textEncoderGraph, transformerGraph, vaeDecoderGraph, vaePreProcessGraph,
  type DemoGraphParams,
} from './graphs.js';
import { buildDemoTokenizer } from '../../../src/model/demo-tokenizer.js';

/** Bump whenever graphs or tokenizer change: existing demo models are then rebuilt. */
export const DEMO_MODEL_VERSION = 5;
export const DEMO_MARKER = 'demo-model.json';
export const DEMO_HIDDEN = 32;
const EMBEDDING_ROWS = 512;

export interface DemoMarker {
  builder: 'zimage-bot demo model';
  version: number;
  hidden: number;
}

/** Writes a complete demo model into `dir` (created if needed). */
export async function writeDemoModel(dir: string): Promise<void> {
  const tok = buildDemoTokenizer();
  const templateIds = new Tokenizer(tok.tokenizerJson, tok.tokenizerConfig)
    .encode(applyPromptTemplate(''), { add_special_tokens: false }).ids;
  const params: DemoGraphParams = { hidden: DEMO_HIDDEN, embeddingRows: EMBEDDING_ROWS, templateIds };
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await mkdir(join(dir, 'tokenizer'), { recursive: true });
  await Promise.all([
    writeFile(join(dir, MODEL_FILES.textEncoder), textEncoderGraph(params)),
    writeFile(join(dir, MODEL_FILES.transformer), transformerGraph(params)),
    writeFile(join(dir, MODEL_FILES.vaePreProcess), vaePreProcessGraph()),
    writeFile(join(dir, MODEL_FILES.vaeDecoder), vaeDecoderGraph()),
    writeFile(join(dir, MODEL_FILES.schedulerStep), schedulerStepGraph()),
    writeFile(join(dir, MODEL_FILES.scPrep), scPrepGraph()),
    writeFile(join(dir, MODEL_FILES.safetyChecker), safetyCheckerGraph()),
    writeFile(join(dir, MODEL_FILES.tokenizerJson), JSON.stringify(tok.tokenizerJson)),
    writeFile(join(dir, MODEL_FILES.tokenizerConfig), JSON.stringify(tok.tokenizerConfig, null, 2)),
  ]);
  const marker: DemoMarker = { builder: 'zimage-bot demo model', version: DEMO_MODEL_VERSION, hidden: DEMO_HIDDEN };
  await writeFile(join(dir, DEMO_MARKER), JSON.stringify(marker, null, 2) + '\n');
}

/** The marker of a demo model directory, or undefined when absent/unreadable. */
export async function readDemoMarker(dir: string): Promise<DemoMarker | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, DEMO_MARKER), 'utf8')) as Partial<DemoMarker>;
    return parsed.builder === 'zimage-bot demo model' && typeof parsed.version === 'number' ? (parsed as DemoMarker) : undefined;
  } catch {
    return undefined;
  }
}

async function isCurrent(dir: string): Promise<boolean> {
  return (await readDemoMarker(dir))?.version === DEMO_MODEL_VERSION;
}

/** Ensures `<dataDir>/models/demo` holds the current demo model; returns its path. */
export async function ensureDemoModel(dataDir: string): Promise<string> {
  const modelsDir = join(dataDir, 'models');
  const target = join(modelsDir, 'demo');
  if (await isCurrent(target)) return target;
  await mkdir(modelsDir, { recursive: true });
  const tmp = join(modelsDir, `.demo-build-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeDemoModel(tmp);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await rename(tmp, target);
        return target;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        if (await isCurrent(target)) return target; // another process won the race
        // An outdated model is in the way: move it aside, then retry the rename.
        const old = join(modelsDir, `.demo-old-${process.pid}-${randomBytes(4).toString('hex')}`);
        try { await rename(target, old); } catch { /* someone else moved it */ }
        await rm(old, { recursive: true, force: true });
      }
    }
    if (await isCurrent(target)) return target;
    throw new Error(`could not install the demo model into ${target}`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
