/**
 * The pipeline's two halves, each loadable on its own thread:
 * - TextVaePart: tokenizer + text encoder (+ feature cache) and VAE pre-process + decoder (+ safety checker);
 * - TransformerPart: the transformer and the Euler loop.
 * Splitting there lets the engine overlap stages across requests: while the transformer denoises one request,
 * the other thread encodes the next prompt and decodes the previous latent. Both report their graphs'
 * metadata and contract problems; `assembleModel` cross-checks them (sizes between graphs) into one verdict.
 */
import { DEFAULT_MAX_TOKENS, loadPromptTokenizer } from '../../src/model/prompt-tokenizer.js';
import { readDims, type ModelDims } from './contract.js';
import { DecoderStage } from './decoder-stage.js';
import { Denoiser, type CancelFlag, type DenoiseJob } from './denoiser.js';
import { modelInvalid, openGraphs, releaseGraphs, type GraphMeta, type Sessions } from './graph-loader.js';
import { MODEL_FILES, SAFETY_FILES } from './model-files.js';
import type { ScheduleKind } from './schedule.js';
import type { SessionSettings } from './sessions.js';
import { StageStats } from './stage-stats.js';
import { TextStage } from './text-stage.js';
import type { TextFeatures } from './text-feature-cache.js';

export interface PartSettings extends SessionSettings {
  modelDir: string;
  schedule?: ScheduleKind;
  stepDelayMs?: number;
  safetyChecker?: boolean;
  textCacheBytes?: number;
  maxTokens?: number;
}

export interface PartReport {
  meta: GraphMeta;
  problems: string[];
  provider: 'cpu' | 'cuda';
}

export class TextVaePart {
  private decoder: DecoderStage | undefined;

  private constructor(private readonly sessions: Sessions, private readonly text: TextStage | undefined, readonly stats: StageStats) {}

  static async open(s: PartSettings): Promise<{ part: TextVaePart; report: PartReport }> {
    const keys = ['textEncoder', 'vaePreProcess', 'vaeDecoder', ...(s.safetyChecker ? SAFETY_FILES : [])] as const;
    const opened = await openGraphs(s.modelDir, keys, s, ['schedulerStep']);
    let text: TextStage | undefined;
    const stats = new StageStats();
    try {
      const tokenizer = await loadPromptTokenizer(s.modelDir);
      if (opened.sessions.textEncoder) {
        text = new TextStage(opened.sessions.textEncoder, tokenizer, s.maxTokens ?? DEFAULT_MAX_TOKENS, s.textCacheBytes ?? 64 << 20, stats);
      }
    } catch (err) {
      opened.problems.push((err as Error).message);
    }
    const part = new TextVaePart(opened.sessions, text, stats);
    return { part, report: { meta: opened.meta, problems: opened.problems, provider: opened.provider } };
  }

  /** After the cross-check: learns the VAE scale by a 2×2 test decode. */
  async configure(channels: number): Promise<number> {
    const s = this.sessions;
    const vaeScale = await DecoderStage.probeScale(s.vaeDecoder!, channels);
    this.decoder = new DecoderStage({
      vaePreProcess: s.vaePreProcess!, vaeDecoder: s.vaeDecoder!,
      ...(s.scPrep && s.safetyChecker ? { scPrep: s.scPrep, safetyChecker: s.safetyChecker } : {}),
    }, channels, vaeScale, this.stats);
    return vaeScale;
  }

  encode(prompt: string): Promise<TextFeatures> {
    return this.text!.encode(prompt);
  }

  decode(latent: Float32Array, width: number, height: number): Promise<Uint8Array> {
    return this.decoder!.decode(latent, width, height);
  }

  cacheStats(): { hits: number; misses: number; entries: number; bytes: number } {
    return this.text!.cacheStats();
  }

  dispose(): Promise<void> {
    return releaseGraphs(this.sessions);
  }
}

export class TransformerPart {
  readonly stats = new StageStats();
  private denoiser: Denoiser | undefined;

  private constructor(private readonly sessions: Sessions, private readonly s: PartSettings) {}

  static async open(s: PartSettings): Promise<{ part: TransformerPart; report: PartReport }> {
    const opened = await openGraphs(s.modelDir, ['transformer'], s);
    return { part: new TransformerPart(opened.sessions, s), report: { meta: opened.meta, problems: opened.problems, provider: opened.provider } };
  }

  configure(channels: number): void {
    this.denoiser = new Denoiser(this.sessions.transformer!, channels, this.s.schedule ?? 'reference', this.s.stepDelayMs ?? 0, this.stats);
  }

  denoise(job: DenoiseJob, onStep: (step: number) => void, signal?: CancelFlag): Promise<Float32Array> {
    return this.denoiser!.denoise(job, onStep, signal);
  }

  dispose(): Promise<void> {
    return releaseGraphs(this.sessions);
  }
}

/** Cross-checks both halves' reports; returns the model sizes or throws one MODEL_INVALID. */
export async function assembleModel(dir: string, reports: PartReport[], safetyChecker: boolean): Promise<ModelDims> {
  const problems = reports.flatMap((r) => r.problems);
  const meta: GraphMeta = Object.assign({}, ...reports.map((r) => r.meta));
  const { dims, problems: dimProblems } = readDims(meta);
  for (const p of dimProblems) if (!problems.includes(p)) problems.push(p);
  if (problems.length > 0 || !dims) throw await modelInvalid(dir, problems.length ? problems : [`cannot read model sizes from ${MODEL_FILES.transformer}`], safetyChecker);
  return dims;
}
