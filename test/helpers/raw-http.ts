/**
 * Raw HTTP over a plain TCP socket, for requests no client library would send (bad request lines,
 * duplicated or absurd headers, lying Content-Length, half-open and slow connections).
 */
import { connect, type Socket } from 'node:net';

export interface RawResult {
  /** The status code of the first response line, or null when the server closed without answering. */
  status: number | null;
  /** What came back (first bytes). */
  head: string;
  /** The server closed the connection. */
  closed: boolean;
  ms: number;
}

export interface RawOptions {
  host?: string;
  /** Give up waiting (and close) after this long. */
  timeoutMs?: number;
  /** Send in these pieces, pausing between them. */
  pieces?: Buffer[];
  pauseMs?: number;
  /** Half-close the socket after sending (FIN), as a client that will send nothing more. */
  endAfterSend?: boolean;
}

export function rawRequest(port: number, bytes: Buffer | string, o: RawOptions = {}): Promise<RawResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const sock: Socket = connect({ port, host: o.host ?? '127.0.0.1' });
    let head = '';
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({ status: m ? Number(m[1]) : null, head: head.slice(0, 300), closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), o.timeoutMs ?? 3000);
    sock.on('data', (d: Buffer) => {
      if (head.length < 4096) head += d.toString('latin1');
      // One response is all we want; event streams would go on for ever.
      if (/\r\n\r\n/.test(head)) finish(false);
    });
    sock.on('error', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('connect', async () => {
      const pieces = o.pieces ?? [Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1')];
      for (const p of pieces) {
        if (done) return;
        sock.write(p);
        if (o.pauseMs) await new Promise((r) => setTimeout(r, o.pauseMs));
      }
      if (o.endAfterSend && !done) sock.end();
    });
  });
}
