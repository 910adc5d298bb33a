/**
 * The Playground's server-sent event streams, bounded: a cap on streams in total and per client address, and
 * backpressure per stream — a reader that falls more than `maxBufferedBytes` behind is dropped (its browser
 * reconnects on its own and reloads the history), so a page that stops reading can never make the bot hold
 * more than that for it. Each event is serialised once, whatever the number of readers.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from '../../src/http/server.js';
import { errorBody } from '../../src/http/server.js';

export interface EventStreamLimits {
  maxClients: number;
  maxPerAddress: number;
  /** Bytes a stream may have waiting to be sent before it is dropped. */
  maxBufferedBytes: number;
  keepAliveMs: number;
}

export const DEFAULT_EVENT_STREAM_LIMITS: EventStreamLimits = Object.freeze({
  maxClients: 200, maxPerAddress: 20, maxBufferedBytes: 256 * 1024, keepAliveMs: 15_000,
});

interface Stream { res: ServerResponse; address: string; session: string | undefined }

export class EventStreams {
  private readonly streams = new Set<Stream>();
  private readonly perAddress = new Map<string, number>();
  private keepAlive: NodeJS.Timeout | undefined;
  /** Streams dropped for falling behind (for tests and logs). */
  dropped = 0;

  constructor(private readonly limits: EventStreamLimits = DEFAULT_EVENT_STREAM_LIMITS) {}

  get size(): number { return this.streams.size; }

  /** Bytes written to the streams and not yet taken by the clients' sockets. */
  bufferedBytes(): number {
    let n = 0;
    for (const s of this.streams) n += s.res.writableLength;
    return n;
  }

  start(): void {
    this.keepAlive = setInterval(() => this.send(': keep-alive\n\n'), this.limits.keepAliveMs);
    this.keepAlive.unref();
  }

  /**
   * Open a stream for this request, or refuse it (503 when full, 429 when this address has its share). The
   * browser session it belongs to receives the events addressed to that session alone.
   */
  open(req: FastifyRequest, reply: FastifyReply, session?: string): void {
    const address = req.ip;
    if (this.streams.size >= this.limits.maxClients) {
      void reply.code(503).header('retry-after', '30').send(errorBody('TOO_MANY_STREAMS', 'too many open event streams; try again shortly'));
      return;
    }
    if ((this.perAddress.get(address) ?? 0) >= this.limits.maxPerAddress) {
      void reply.code(429).header('retry-after', '30').send(errorBody('TOO_MANY_STREAMS', `at most ${this.limits.maxPerAddress} event streams per address; close some tabs`));
      return;
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-content-type-options': 'nosniff' });
    res.write('retry: 2000\n\n');
    const stream: Stream = { res, address, session };
    this.streams.add(stream);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    const forget = (): void => this.forget(stream);
    res.once('close', forget);
    res.once('error', forget);
  }

  /** Send one event to every stream, or only to the streams of one browser session. */
  broadcast(event: string, data: unknown, onlySession?: string): void {
    this.send(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`, onlySession);
  }

  private send(chunk: string, onlySession?: string): void {
    for (const s of this.streams) {
      if (onlySession !== undefined && s.session !== onlySession) continue;
      if (s.res.writableLength + chunk.length > this.limits.maxBufferedBytes) {
        this.dropped++;
        this.forget(s);
        s.res.destroy();
        continue;
      }
      s.res.write(chunk);
    }
  }

  private forget(s: Stream): void {
    if (!this.streams.delete(s)) return;
    const n = (this.perAddress.get(s.address) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(s.address);
    else this.perAddress.set(s.address, n);
  }

  close(): void {
    if (this.keepAlive) clearInterval(this.keepAlive);
    for (const s of [...this.streams]) {
      this.forget(s);
      s.res.end();
    }
  }
}
