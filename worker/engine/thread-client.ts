/**
 * Caller-side handle of one engine thread: typed RPC calls, per-call step callbacks, and crash handling
 * (a thread that errors or exits rejects every pending call with ENGINE_CRASHED).
 */
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { isErrorCode, ZimageError } from '../../src/errors.js';
import { compiledSibling } from '../../src/infra/paths.js';
import type { FromThread, SerializedError, ThreadOp, ThreadOps, ThreadRole, ToThread } from './thread-protocol.js';

export { epochMs } from './thread-protocol.js';

/** Where the compiled thread entry lives: under vitest (.ts sources) the build in dist/, else the sibling .js. */
export function threadEntryUrl(moduleUrl: string = import.meta.url): URL {
  return pathToFileURL(compiledSibling(moduleUrl, 'thread-entry.js', 'ENGINE_NOT_BUILT'));
}

export function reviveError(e: SerializedError): Error {
  return isErrorCode(e.code) ? new ZimageError(e.code, e.message, e.params ?? {}) : new Error(e.message);
}

interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  onStep?: (step: number) => void;
}

export class ThreadClient {
  private readonly worker: Worker;
  private readonly pending = new Map<number, PendingCall>();
  private nextId = 1;
  private closing = false;
  /** Set once the thread is gone (crash, exit, or dispose). */
  dead: Error | undefined;

  constructor(readonly role: ThreadRole, onWarning: (message: string) => void, private readonly onCrash: (err: Error) => void) {
    this.worker = new Worker(threadEntryUrl(), { name: `zimage-engine-${role}` });
    this.worker.on('message', (msg: FromThread) => {
      switch (msg.type) {
        case 'warn': onWarning(msg.message); break;
        case 'step': this.pending.get(msg.id)?.onStep?.(msg.step); break;
        case 'done': this.settle(msg.id)?.resolve(msg.value); break;
        case 'failed': this.settle(msg.id)?.reject(reviveError(msg.error)); break;
      }
    });
    this.worker.on('error', (err) => this.die(`crashed: ${err.message}`));
    this.worker.on('exit', (code) => this.die(`exited (code ${code})`));
  }

  private settle(id: number): PendingCall | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    return p;
  }

  private die(reason: string): void {
    if (this.dead) return;
    const expected = this.closing && this.pending.size === 0;
    this.dead = expected
      ? new ZimageError('ENGINE_DISPOSED', 'the engine was disposed')
      : new ZimageError('ENGINE_CRASHED', `engine thread (${this.role}) ${reason}`);
    for (const [id, p] of this.pending) { this.pending.delete(id); p.reject(this.dead); }
    if (!expected) this.onCrash(this.dead);
  }

  call<K extends ThreadOp>(op: K, arg: ThreadOps[K][0], opts: { transfer?: ArrayBuffer[]; onStep?: (step: number) => void } = {}): Promise<ThreadOps[K][1]> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<ThreadOps[K][1]>((resolveCall, rejectCall) => {
      this.pending.set(id, { resolve: resolveCall as (v: unknown) => void, reject: rejectCall, ...(opts.onStep ? { onStep: opts.onStep } : {}) });
      this.worker.postMessage({ type: 'call', id, op, arg } as ToThread, opts.transfer ?? []);
    });
  }

  /** Releases the sessions and ends the thread (terminated after `timeoutMs` if it does not stop). */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.dead) return;
    this.closing = true;
    const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
    const timer = setTimeout(() => void this.worker.terminate(), timeoutMs);
    this.call('dispose', {}).catch(() => undefined);
    await exited;
    clearTimeout(timer);
  }

  /** Immediate stop (after a crash of the sibling thread). */
  async terminate(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }
}
