/**
 * Engine implementation that runs the ZimagePipeline inside a worker thread. onnxruntime-node's `run` blocks
 * the thread it runs on; here that is the engine thread, so the caller (BullMQ worker: lock renewal,
 * progress) stays responsive. Under vitest (this module is a .ts file) the compiled
 * `dist/worker/engine/thread-entry.js` is started; in production the sibling `.js`.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ZimageError } from '../../src/errors.js';
import type { Engine, EngineImage, EngineInfo, EngineRequest, StepCallback } from './engine.js';
import type { FromThread, SerializedError, ThreadPipelineSettings, ToThread } from './thread-protocol.js';

export interface ThreadedEngineOptions extends Omit<ThreadPipelineSettings, 'modelDir'> {
  /** The model directory, or a function that produces it (e.g. building the demo model) at load time. */
  modelDir: string | (() => Promise<string>);
  /** Warnings from the engine thread (e.g. CUDA fallback). Default: console.warn. */
  onWarning?: (message: string) => void;
}

interface Pending {
  resolve: (images: EngineImage[]) => void;
  reject: (err: Error) => void;
  onStep: StepCallback;
  cleanup: () => void;
}

/** Where the compiled thread entry lives. */
export function threadEntryUrl(moduleUrl: string = import.meta.url): URL {
  const here = fileURLToPath(moduleUrl);
  if (here.endsWith('.ts')) {
    const repoRoot = resolve(dirname(here), '..', '..');
    const compiled = resolve(repoRoot, 'dist', 'worker', 'engine', 'thread-entry.js');
    if (!existsSync(compiled)) {
      throw new ZimageError('ENGINE_NOT_BUILT', `${compiled} is missing: run \`npm run build\` (npm test does) before using the engine from .ts sources`);
    }
    return pathToFileURL(compiled);
  }
  return new URL('./thread-entry.js', moduleUrl);
}

function revive(e: SerializedError): Error {
  return e.code ? new ZimageError(e.code, e.message, e.params ?? {}) : new Error(e.message);
}

export class ThreadedEngine implements Engine {
  private worker: Worker | undefined;
  private loading: Promise<EngineInfo> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private disposing: Promise<void> | undefined;
  /** Execution provider reported by the engine thread after load ('cpu' | 'cuda'). */
  provider: string | undefined;

  constructor(private readonly opts: ThreadedEngineOptions) {}

  load(): Promise<EngineInfo> {
    if (this.disposing) return Promise.reject(new ZimageError('ENGINE_DISPOSED', 'the engine was disposed'));
    this.loading ??= this.start();
    return this.loading;
  }

  private async start(): Promise<EngineInfo> {
    const { modelDir, onWarning, ...rest } = this.opts;
    const dir = typeof modelDir === 'string' ? modelDir : await modelDir();
    const worker = new Worker(threadEntryUrl());
    this.worker = worker;
    return new Promise<EngineInfo>((resolveLoad, rejectLoad) => {
      let loaded = false;
      worker.on('message', (msg: FromThread) => {
        switch (msg.type) {
          case 'loaded': loaded = true; this.provider = msg.provider; resolveLoad(msg.info); break;
          case 'load-failed': rejectLoad(revive(msg.error)); this.crashed(worker, undefined); void worker.terminate(); break;
          case 'warn': (onWarning ?? console.warn)(msg.message); break;
          case 'step': this.pending.get(msg.id)?.onStep(msg.image, msg.step, msg.steps); break;
          case 'result': this.settle(msg.id, (p) => p.resolve(msg.images.map((i) => ({ ...i, rgb: new Uint8Array(i.rgb) })))); break;
          case 'failed': this.settle(msg.id, (p) => p.reject(revive(msg.error))); break;
          case 'disposed': break;
        }
      });
      const fail = (reason: string): void => {
        const err = new ZimageError('ENGINE_CRASHED', `engine thread ${reason}`);
        if (!loaded) rejectLoad(err);
        this.crashed(worker, err);
      };
      worker.on('error', (err) => fail(`crashed: ${err.message}`));
      worker.on('exit', (code) => { if (!this.disposing || this.pending.size > 0) fail(`exited (code ${code})`); });
      this.send({ type: 'load', settings: { ...rest, modelDir: dir } });
    });
  }

  /** Rejects everything pending on a dead thread; the next load()/generate() starts a fresh thread. */
  private crashed(worker: Worker, err: Error | undefined): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.loading = undefined;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.cleanup();
      p.reject(err ?? new ZimageError('ENGINE_CRASHED', 'engine thread stopped'));
    }
  }

  private settle(id: number, fn: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.cleanup();
    fn(p);
  }

  private send(msg: ToThread): void {
    this.worker?.postMessage(msg);
  }

  async generate(request: EngineRequest, onStep: StepCallback, signal?: AbortSignal): Promise<EngineImage[]> {
    if (signal?.aborted) throw new ZimageError('CANCELLED', 'generation cancelled');
    await this.load();
    if (signal?.aborted) throw new ZimageError('CANCELLED', 'generation cancelled');
    const id = this.nextId++;
    const cancel = new SharedArrayBuffer(4);
    const cell = new Int32Array(cancel);
    const onAbort = (): void => { Atomics.store(cell, 0, 1); };
    signal?.addEventListener('abort', onAbort, { once: true });
    return new Promise<EngineImage[]>((resolveGen, rejectGen) => {
      this.pending.set(id, {
        resolve: resolveGen, reject: rejectGen, onStep,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      });
      this.send({ type: 'generate', id, request, cancel });
    });
  }

  async dispose(): Promise<void> {
    this.disposing ??= (async () => {
      const worker = this.worker;
      if (!worker) return;
      await this.loading?.catch(() => undefined);
      const exited = new Promise<void>((r) => worker.once('exit', () => r()));
      this.send({ type: 'dispose' });
      const timer = setTimeout(() => void worker.terminate(), 10_000);
      await exited;
      clearTimeout(timer);
      this.crashed(worker, new ZimageError('ENGINE_DISPOSED', 'the engine was disposed'));
    })();
    return this.disposing;
  }
}
