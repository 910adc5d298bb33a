/**
 * A fake Slack Socket Mode endpoint: a minimal WebSocket server (RFC 6455 handshake and text/ping/close
 * frames, no extensions) that says `hello`, pushes envelopes (events_api, slash_commands, interactive)
 * and collects the client's acks. Point FakeSlack's `apps.connections.open` at `url`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface Ack { envelopeId: string; payload: Record<string, unknown>; at: number }

export class FakeSocketMode {
  readonly acks: Ack[] = [];
  private server: Server | undefined;
  private socket: Socket | undefined;
  private buffer = Buffer.alloc(0);
  private waiters = new Map<string, (a: Ack) => void>();
  private connectedResolve: (() => void) | undefined;
  readonly connected = new Promise<void>((r) => { this.connectedResolve = r; });
  connections = 0;

  async start(): Promise<string> {
    this.server = createServer((_req, res) => res.writeHead(404).end());
    this.server.on('upgrade', (req, socket: Socket) => {
      const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}${GUID}`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      this.socket = socket;
      this.connections++;
      socket.on('data', (d: Buffer) => this.read(d));
      socket.on('error', () => undefined);
      this.sendJson({ type: 'hello', num_connections: 1, debug_info: { host: 'fake' }, connection_info: { app_id: 'A0APP' } });
      this.connectedResolve?.();
    });
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/link`;
  }

  async stop(): Promise<void> {
    this.socket?.destroy();
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }

  /** Push one envelope; resolves with the client's ack (its `payload` is what an HTTP ack would have answered). */
  push(type: 'events_api' | 'slash_commands' | 'interactive', payload: Record<string, unknown>, retry = 0): Promise<Ack> {
    const envelopeId = randomUUID();
    const acked = new Promise<Ack>((r) => this.waiters.set(envelopeId, r));
    this.sendJson({
      envelope_id: envelopeId, type, payload, accepts_response_payload: type !== 'events_api',
      ...(type === 'events_api' ? { retry_attempt: retry, retry_reason: retry ? 'timeout' : '' } : {}),
    });
    return acked;
  }

  private sendJson(obj: unknown): void { this.frame(0x1, Buffer.from(JSON.stringify(obj))); }

  private frame(opcode: number, payload: Buffer): void {
    const len = payload.length;
    const head = len < 126 ? Buffer.from([0x80 | opcode, len])
      : len < 65536 ? Buffer.from([0x80 | opcode, 126, len >> 8, len & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 127]), bigLen(len)]);
    this.socket?.write(Buffer.concat([head, payload]));
  }

  /** Client frames are masked; handle text, ping and close (no fragmentation: the client sends small JSON). */
  private read(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      const opcode = b[0]! & 0x0f;
      let len = b[1]! & 0x7f;
      let off = 2;
      if (len === 126) { if (b.length < 4) return; len = b.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (b.length < 10) return; len = Number(b.readBigUInt64BE(2)); off = 10; }
      const masked = (b[1]! & 0x80) !== 0;
      const mask = masked ? b.subarray(off, off + 4) : undefined;
      if (masked) off += 4;
      if (b.length < off + len) return;
      const payload = Buffer.from(b.subarray(off, off + len));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ mask[i % 4]!;
      this.buffer = b.subarray(off + len);
      if (opcode === 0x1) this.onText(payload.toString('utf8'));
      else if (opcode === 0x9) this.frame(0xa, payload);
      else if (opcode === 0x8) { this.frame(0x8, payload.subarray(0, 2)); this.socket?.end(); }
    }
  }

  private onText(text: string): void {
    const msg = JSON.parse(text) as { envelope_id?: string; payload?: Record<string, unknown> };
    if (!msg.envelope_id) return;
    const ack: Ack = { envelopeId: msg.envelope_id, payload: msg.payload ?? {}, at: Date.now() };
    this.acks.push(ack);
    this.waiters.get(msg.envelope_id)?.(ack);
    this.waiters.delete(msg.envelope_id);
  }
}

function bigLen(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}
