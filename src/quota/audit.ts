/**
 * The audit log: every quota change and manager action (who, what, when, from where), in a Redis stream
 * (durable with the append-only file), newest shown by `/zimage audit`.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../jobs/keys.js';

export interface AuditEntry {
  at: number;
  platform: string;
  workspace: string;
  channel: string;
  actor: string;
  action: string;
  target: string;
  detail: string;
}

const MAX_ENTRIES = 100_000;

export class AuditLog {
  private readonly key: string;
  constructor(private readonly redis: Redis, keys: Keys) {
    this.key = `${keys.root}:audit`;
  }

  async record(e: Omit<AuditEntry, 'at'>, at = Date.now()): Promise<void> {
    await this.redis.xadd(this.key, 'MAXLEN', '~', String(MAX_ENTRIES), '*',
      'at', String(at), 'platform', e.platform, 'workspace', e.workspace, 'channel', e.channel,
      'actor', e.actor, 'action', e.action, 'target', e.target, 'detail', e.detail);
  }

  /** Newest first, limited to one workspace. */
  async recent(platform: string, workspace: string, n = 20): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    let end = '+';
    while (out.length < n) {
      const batch = await this.redis.xrevrange(this.key, end, '-', 'COUNT', 200);
      if (batch.length === 0) break;
      for (const [id, fields] of batch) {
        const f: Record<string, string> = {};
        for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
        if (f.platform === platform && f.workspace === workspace) {
          out.push({ at: Number(f.at), platform: f.platform, workspace: f.workspace, channel: f.channel ?? '', actor: f.actor ?? '', action: f.action ?? '', target: f.target ?? '', detail: f.detail ?? '' });
          if (out.length >= n) break;
        }
        end = `(${id}`;
      }
      if (batch.length < 200) break;
    }
    return out;
  }
}
