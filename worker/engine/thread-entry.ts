/**
 * Entry of an engine thread (worker_threads). Hosts one model half (TextVaePart or TransformerPart) and runs
 * its calls one after another; onnxruntime-node's `run` blocks this thread, which keeps the caller free.
 */
import { parentPort } from 'node:worker_threads';
import { isZimageError } from '../../src/errors.js';
import { checkCancelled, type CancelFlag } from './denoiser.js';
import { TextVaePart, TransformerPart } from './model-parts.js';
import { epochMs, type FromThread, type SerializedError, type ThreadOp, type ThreadOps, type ToThread } from './thread-protocol.js';

const port = parentPort;
if (!port) throw new Error('thread-entry.js must run inside a worker thread');

let textVae: TextVaePart | undefined;
let transformer: TransformerPart | undefined;
let queue: Promise<void> = Promise.resolve();

function post(msg: FromThread, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

function serialize(err: unknown): SerializedError {
  if (isZimageError(err)) return { code: err.code, message: err.message, params: { ...err.params } };
  return { message: err instanceof Error ? err.message : String(err) };
}

function flag(buffer: SharedArrayBuffer): CancelFlag {
  const cell = new Int32Array(buffer);
  return { get aborted() { return Atomics.load(cell, 0) !== 0; } };
}

function need<T>(part: T | undefined, op: string): T {
  if (!part) throw new Error(`engine thread: ${op} is not available on this thread`);
  return part;
}

type Handler<K extends ThreadOp> = (arg: ThreadOps[K][0], id: number) => Promise<ThreadOps[K][1]>;
const handlers: { [K in ThreadOp]: Handler<K> } = {
  async open({ role, settings }) {
    const full = { ...settings, warn: (message: string) => post({ type: 'warn', message }) };
    if (role === 'text-vae') {
      const { part, report } = await TextVaePart.open(full);
      textVae = part;
      return report;
    }
    const { part, report } = await TransformerPart.open(full);
    transformer = part;
    return report;
  },
  async configure({ channels }) {
    if (textVae) return { vaeScale: await textVae.configure(channels) };
    need(transformer, 'configure').configure(channels);
    return {};
  },
  encode: ({ prompt }) => need(textVae, 'encode').encode(prompt),
  async denoise({ job, cancel }, id) {
    const startedAt = epochMs();
    const latent = await need(transformer, 'denoise').denoise(job, (step) => post({ type: 'step', id, step }), flag(cancel));
    return { latent, startedAt };
  },
  async decode({ latent, width, height, cancel }) {
    checkCancelled(flag(cancel));
    return need(textVae, 'decode').decode(latent, width, height);
  },
  async stats({ reset }) {
    const part = textVae ?? need(transformer, 'stats');
    const snap = part.stats.snapshot();
    if (reset) part.stats.reset();
    return textVae ? { ...snap, textCache: textVae.cacheStats() } : snap;
  },
  async dispose() {
    await textVae?.dispose().catch(() => undefined);
    await transformer?.dispose().catch(() => undefined);
    textVae = undefined;
    transformer = undefined;
    return null;
  },
};

/** Buffers worth transferring instead of copying. */
function transferable(value: unknown): ArrayBuffer[] {
  if (value instanceof Uint8Array) return [value.buffer as ArrayBuffer];
  const latent = (value as { latent?: unknown } | null)?.latent;
  if (latent instanceof Float32Array) return [latent.buffer as ArrayBuffer];
  return [];
}

port.on('message', (msg: ToThread) => {
  queue = queue.then(async () => {
    try {
      const value = await (handlers[msg.op] as Handler<ThreadOp>)(msg.arg, msg.id);
      // Text features stay in this thread's cache: they are copied, never transferred.
      post({ type: 'done', id: msg.id, value }, msg.op === 'encode' ? [] : transferable(value));
      if (msg.op === 'dispose') port.close();
    } catch (err) {
      post({ type: 'failed', id: msg.id, error: serialize(err) });
    }
  });
});
