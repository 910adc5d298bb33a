/**
 * onnxruntime-node session creation: execution provider choice (cpu | cuda | auto — auto tries CUDA and falls
 * back to CPU with a warning), thread counts, and loading by file path so external-data shards resolve.
 */
import * as ort from 'onnxruntime-node';
import { ZimageError } from '../../src/errors.js';

export type ExecutionProviderChoice = 'cpu' | 'cuda' | 'auto';

export interface SessionSettings {
  executionProvider: ExecutionProviderChoice;
  /** Threads inside one operator (CPU EP). 0 or unset = onnxruntime's default (one per physical core). */
  intraOpThreads?: number;
  interOpThreads?: number;
  /** CUDA device ordinal. */
  deviceId?: number;
  /** Receives human-readable warnings (e.g. the CUDA fallback). */
  warn?: (message: string) => void;
}

export interface CreatedSession {
  session: ort.InferenceSession;
  provider: 'cpu' | 'cuda';
}

function options(settings: SessionSettings, provider: 'cpu' | 'cuda', quiet = false): ort.InferenceSession.SessionOptions {
  const opts: ort.InferenceSession.SessionOptions = {
    executionProviders: provider === 'cuda' ? [{ name: 'cuda', deviceId: settings.deviceId ?? 0 }, 'cpu'] : ['cpu'],
    graphOptimizationLevel: 'all',
    // A probing `auto` attempt logs only fatal errors: the fallback is reported once through `warn`.
    logSeverityLevel: quiet ? 4 : 3,
  };
  if (settings.intraOpThreads) opts.intraOpNumThreads = settings.intraOpThreads;
  if (settings.interOpThreads) opts.interOpNumThreads = settings.interOpThreads;
  return opts;
}

/** The provider actually used after the first `auto` decision (so later sessions do not retry CUDA). */
let autoDecision: 'cpu' | 'cuda' | undefined;

export async function createSession(path: string, settings: SessionSettings): Promise<CreatedSession> {
  const choice = settings.executionProvider === 'auto' ? (autoDecision ?? 'auto') : settings.executionProvider;
  if (choice === 'cpu') return { session: await ort.InferenceSession.create(path, options(settings, 'cpu')), provider: 'cpu' };
  try {
    const session = await ort.InferenceSession.create(path, options(settings, 'cuda', choice === 'auto'));
    if (choice === 'auto') autoDecision = 'cuda';
    return { session, provider: 'cuda' };
  } catch (err) {
    const reason = (err as Error).message.split('\n')[0] ?? String(err);
    if (choice === 'cuda') {
      throw new ZimageError('EP_UNAVAILABLE',
        `ZIMAGE_EP=cuda but the CUDA execution provider could not load ${path}: ${reason}. ` +
        'Install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 (needs CUDA 12 + cuDNN 9), or set ZIMAGE_EP=auto|cpu.',
        { provider: 'cuda' });
    }
    autoDecision = 'cpu';
    settings.warn?.(`ZIMAGE_EP=auto: CUDA unavailable (${reason}); falling back to CPU`);
    return { session: await ort.InferenceSession.create(path, options(settings, 'cpu')), provider: 'cpu' };
  }
}

export { ort };
