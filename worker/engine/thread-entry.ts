/**
 * Entry of the engine thread (worker_threads). Owns one ZimagePipeline; runs generations one after another
 * (onnxruntime-node's run blocks this thread, which is the point: the caller's event loop stays free).
 */
import { parentPort } from 'node:worker_threads';
import { isZimageError } from '../../src/errors.js';
import type { FromThread, SerializedError, ToThread } from './thread-protocol.js';
import { ZimagePipeline, type CancelFlag } from './zimage-pipeline.js';

const port = parentPort;
if (!port) throw new Error('thread-entry.js must run inside a worker thread');

let pipeline: ZimagePipeline | undefined;
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

port.on('message', (msg: ToThread) => {
  switch (msg.type) {
    case 'load':
      queue = queue.then(async () => {
        try {
          pipeline = await ZimagePipeline.load({ ...msg.settings, warn: (message) => post({ type: 'warn', message }) });
          post({ type: 'loaded', info: pipeline.info, provider: pipeline.provider });
        } catch (err) {
          post({ type: 'load-failed', error: serialize(err) });
        }
      });
      break;
    case 'generate':
      queue = queue.then(async () => {
        try {
          if (!pipeline) throw new Error('engine thread: generate before load');
          const images = await pipeline.generate(msg.request,
            (image, step, steps) => post({ type: 'step', id: msg.id, image, step, steps }), flag(msg.cancel));
          post({ type: 'result', id: msg.id, images }, images.map((i) => i.rgb.buffer as ArrayBuffer));
        } catch (err) {
          post({ type: 'failed', id: msg.id, error: serialize(err) });
        }
      });
      break;
    case 'dispose':
      queue = queue.then(async () => {
        await pipeline?.dispose().catch(() => undefined);
        pipeline = undefined;
        post({ type: 'disposed' });
        port.close();
      });
      break;
  }
});
