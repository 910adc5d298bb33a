/**
 * Where each job's status message lives, and its final state once known. Written by the bot when a job
 * is accepted and by delivery when it ends; read by the status tracker. Kept in Redis so any replica can
 * take over, and removed a day after the job ended.
 */
import type { IRedisTransaction } from 'bullmq';
import type { Redis } from 'ioredis';
import type { StatusView } from '../chat/types.js';
import type { Keys } from './keys.js';
import type { GenerateParams, JobOrigin } from './types.js';
import { LuaScript } from '../infra/lua-script.js';

export interface StatusRecord {
  jobId: string;
  platform: string;
  workspace: string;
  thread: string;
  locale: string;
  acceptedAt: number;
  /** The status message's reference, once posted. */
  message?: string;
  /** The final view (done / failed / cancelled), once the job ended. */
  final?: StatusView;
  /** What was asked and by whom: kept after the job ends so result buttons keep working. */
  params?: GenerateParams;
  origin?: JobOrigin;
}

// KEYS: record, tracked, ended. ARGV: job id, the final view shown (JSON), keep (s).
const CLOSE = new LuaScript(`
if redis.call('hget', KEYS[1], 'final') ~= ARGV[2] then return 0 end
redis.call('zrem', KEYS[2], ARGV[1])
redis.call('zrem', KEYS[3], ARGV[1])
redis.call('expire', KEYS[1], tonumber(ARGV[3]))
return 1`);

/** Result buttons (regenerate, variations) keep working this long after a job ended. */
const KEEP_ENDED_S = 30 * 24 * 3600;

export class StatusStore {
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}

  /** Record a job and start tracking it. */
  async open(rec: Omit<StatusRecord, 'final'>): Promise<void> {
    const { key, fields } = this.recordOf(rec);
    await this.redis.multi().hset(key, fields).zadd(this.keys.tracked(), rec.acceptedAt, rec.jobId).exec();
  }

  /** The same as `open`, as commands of a transaction (the job is written in the same one: neither exists alone). */
  /** First command of a job's transaction: marks its record as submitted (its result 1 the first time, else 0). */
  claimIn(tx: IRedisTransaction, jobId: string, at: number): void {
    tx.runCommand('hsetnx', [this.keys.status(jobId), 'submittedAt', String(at)]);
  }

  openIn(tx: IRedisTransaction, rec: Omit<StatusRecord, 'final'>): void {
    const { key, fields } = this.recordOf(rec);
    tx.hset(key, fields).runCommand('zadd', [this.keys.tracked(), rec.acceptedAt, rec.jobId]);
  }

  /** True if a record of this job exists. */
  async exists(jobId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.status(jobId))) === 1;
  }

  private recordOf(rec: Omit<StatusRecord, 'final'>): { key: string; fields: Record<string, string> } {
    const fields: Record<string, string> = {
      jobId: rec.jobId, platform: rec.platform, workspace: rec.workspace, thread: rec.thread,
      locale: rec.locale, acceptedAt: String(rec.acceptedAt),
    };
    if (rec.message) fields.message = rec.message;
    if (rec.params) fields.params = JSON.stringify(rec.params);
    if (rec.origin) fields.origin = JSON.stringify(rec.origin);
    return { key: this.keys.status(rec.jobId), fields };
  }

  async setMessage(jobId: string, message: string): Promise<void> {
    await this.redis.hset(this.keys.status(jobId), 'message', message);
  }

  /**
   * Record the job's final state; the tracker shows it on the next tick (and keeps tracking until it has).
   * `onlyIfOpen`: only when no final state is recorded yet (an end inferred from the queue must not replace one
   * that delivery recorded meanwhile) — then returns false and changes nothing if there is one.
   */
  async finish(jobId: string, view: StatusView, fallback: Omit<StatusRecord, 'final' | 'message'>, o: { onlyIfOpen?: boolean } = {}): Promise<boolean> {
    const key = this.keys.status(jobId);
    if (o.onlyIfOpen && !(await this.redis.hsetnx(key, 'final', JSON.stringify(view)))) return false;
    await this.redis.multi()
      .hsetnx(key, 'jobId', fallback.jobId)
      .hsetnx(key, 'platform', fallback.platform)
      .hsetnx(key, 'workspace', fallback.workspace)
      .hsetnx(key, 'thread', fallback.thread)
      .hsetnx(key, 'locale', fallback.locale)
      .hsetnx(key, 'acceptedAt', String(fallback.acceptedAt))
      .hset(key, 'final', JSON.stringify(view))
      .zadd(this.keys.tracked(), fallback.acceptedAt, jobId)
      .zadd(this.keys.ended(), Date.now(), jobId)
      .exec();
    return true;
  }

  /**
   * The final state `shown` is on the status message: stop tracking and keep the record (for result buttons) a
   * while — unless a different final state was recorded meanwhile (e.g. a failure after a cancel): then the job
   * stays tracked, and the next tick shows that one. Returns whether it closed.
   */
  async close(jobId: string, shown: StatusView): Promise<boolean> {
    const closed = await CLOSE.run(this.redis, 3, this.keys.status(jobId), this.keys.tracked(), this.keys.ended(),
      jobId, JSON.stringify(shown), String(KEEP_ENDED_S));
    return closed === 1;
  }

  /** Stop tracking a job whose record is gone. */
  async forget(jobId: string): Promise<void> {
    await this.redis.multi().zrem(this.keys.tracked(), jobId).zrem(this.keys.ended(), jobId).exec();
  }

  async trackedIds(limit = 5000): Promise<string[]> {
    return this.redis.zrange(this.keys.tracked(), '0', String(limit - 1));
  }

  /** Tracked jobs whose final state was recorded since they were last shown. */
  async endedIds(): Promise<string[]> {
    return this.redis.zrange(this.keys.ended(), '0', '-1');
  }

  async get(jobId: string): Promise<StatusRecord | null> {
    const h = await this.redis.hgetall(this.keys.status(jobId));
    return parseRecord(h);
  }

  /**
   * The records of many jobs without their request (`params`, `origin`): what the status tracker reads for
   * every tracked job on every tick, so it stays small.
   */
  async getMany(jobIds: string[]): Promise<Map<string, StatusRecord>> {
    if (jobIds.length === 0) return new Map();
    const pipe = this.redis.pipeline();
    for (const id of jobIds) pipe.hmget(this.keys.status(id), ...TRACKING_FIELDS);
    const res = (await pipe.exec()) ?? [];
    const out = new Map<string, StatusRecord>();
    res.forEach(([err, values], i) => {
      if (err) return;
      const h: Record<string, string> = {};
      (values as Array<string | null>).forEach((v, f) => { if (v !== null) h[TRACKING_FIELDS[f]!] = v; });
      const rec = parseRecord(h);
      if (rec) out.set(jobIds[i]!, rec);
    });
    return out;
  }
}

const TRACKING_FIELDS = ['jobId', 'platform', 'workspace', 'thread', 'locale', 'acceptedAt', 'message', 'final'] as const;

function parseRecord(h: Record<string, string>): StatusRecord | null {
  if (!h.jobId || !h.platform || !h.thread) return null;
  const rec: StatusRecord = {
    jobId: h.jobId, platform: h.platform, workspace: h.workspace ?? '', thread: h.thread,
    locale: h.locale ?? 'en', acceptedAt: Number(h.acceptedAt ?? 0),
  };
  if (h.message) rec.message = h.message;
  if (h.final) rec.final = JSON.parse(h.final) as StatusView;
  if (h.params) rec.params = JSON.parse(h.params) as GenerateParams;
  if (h.origin) rec.origin = JSON.parse(h.origin) as JobOrigin;
  return rec;
}
