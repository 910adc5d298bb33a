/**
 * Quota decisions: who has which role (explicit, from the directory, or member), what their limit is
 * (user override → role override → role policy → default), and the atomic reserve/refund per job.
 *
 * Each standing read is remembered for a minute (`recent`), so a person's next request can be charged in a
 * single round trip: the charge carries the workspace version its standing was read at and is refused as
 * "stale" — nothing done — if a manager changed a role or limit since (the caller then reads it again). A
 * settings reload starts afresh. Roles from the directory are as fresh as its cache (10 minutes) either way.
 */
import type { Redis } from 'ioredis';
import type { ChatAdapter } from '../chat/types.js';
import type { Logger } from '../infra/logger.js';
import { isRedisUnavailable } from '../infra/redis-health.js';
import { DeferredRefunds } from './deferred-refunds.js';
import { rankKeys, type FairRank } from '../jobs/fair-share.js';
import type { Keys } from '../jobs/keys.js';
import { parseLimit, type Limit } from './limits.js';
import type { QuotaPolicy, RolePolicy } from './policy.js';
import { QuotaStore, type ReserveOutcome } from './store.js';
import { PERIODS, windowAt, type Period, type Window } from './windows.js';

export interface Identity { platform: string; workspace: string; user: string }

export interface RoleInfo {
  role: string;
  source: 'explicit' | 'directory' | 'default';
  admin: boolean;
  /** Managers and admins may run manager commands. */
  manager: boolean;
  /** The role's `audit` permission (the image library: every image, exports, legal holds); admins have it. */
  audit: boolean;
  policy: RolePolicy;
  /** Jobs this person may have waiting at once (null: no bound). */
  maxWaiting: number | null;
  /** Commands this person may send per minute (null: no bound). */
  commandsPerMinute: number | null;
}

export interface LimitInfo { limit: Limit; source: 'user' | 'role-override' | 'role' | 'default' }

export interface Standing {
  role: RoleInfo;
  limit: LimitInfo;
  /** Used in the limit's current window (0 for unlimited without a window). */
  used: number;
  window: Window;
  period: Period;
  /** The workspace's roles-and-limits version this was read at. */
  version: string;
}

/**
 * `stale`: the standing passed was out of date, `duplicate`: the event was marked already, `busy`: too many jobs
 * waiting, `rate_limited`: too many commands this minute (`standing.used` is then that count or the waiting
 * count). Only `charged` charges anything.
 */
export interface ReserveResult {
  ok: boolean;
  outcome: ReserveOutcome;
  standing: Standing;
  cost: number;
  /** `rate_limited`: when the oldest command of the last minute leaves it (epoch ms). */
  freeAt?: number;
  /** `charged` (not a repeat): the place in line the job took with its charge (fair-share.ts). */
  rank?: FairRank;
}

export interface ReserveOptions {
  /** Charge only if the standing's version still holds (a remembered standing). */
  checkVersion?: boolean;
  /** The request's idempotency mark, set in the same step (the command is counted against the rate limit then). */
  mark?: { key: string; ttlS: number };
}

const GROUPS_TTL_S = 600;
/** How long a standing is remembered, and for how many people at most. */
const RECENT_MS = 60_000;
const RECENT_MAX = 10_000;

const identityKey = (id: Identity): string => `${id.platform}:${id.workspace}:${id.user}`;

/** User override → role override (both set by managers) → the role's policy → the default. */
function limitFrom(overrides: Record<string, string>, user: string, role: string, policy: QuotaPolicy): LimitInfo {
  const byUser = overrides[`user:${user}`] ? parseLimit(overrides[`user:${user}`]!) : null;
  if (byUser) return { limit: byUser, source: 'user' };
  const byRole = overrides[`role:${role}`] ? parseLimit(overrides[`role:${role}`]!) : null;
  if (byRole) return { limit: byRole, source: 'role-override' };
  const configured = policy.s.roles[role]?.limit !== undefined || ['manager', 'intern'].includes(role);
  return { limit: policy.roleLimit(role), source: configured ? 'role' : 'default' };
}

export class QuotaService {
  readonly store: QuotaStore;
  private readonly keys: Keys;
  /** Charges owed back while Redis was unreachable (see refundOrDefer). */
  readonly deferred: DeferredRefunds;
  private readonly remembered = new Map<string, { standing: Standing; policy: QuotaPolicy; at: number }>();

  constructor(
    private readonly redis: Redis,
    keys: Keys,
    private readonly policy: () => QuotaPolicy,
    private readonly adapters: ReadonlyMap<string, ChatAdapter>,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    this.store = new QuotaStore(redis, keys);
    this.keys = keys;
    this.deferred = new DeferredRefunds(log);
  }

  get timezone(): string { return this.policy().timezone; }
  now(): number { return this.clock(); }

  /** A person's role, limit and usage, read in one round trip (plus a directory lookup when roles are bound to groups). */
  async standing(id: Identity): Promise<Standing> {
    const policy = this.policy();
    const now = this.clock();
    const windows = Object.fromEntries(PERIODS.map((p) => [p, windowAt(p, policy.timezone, now)])) as Record<Period, Window>;
    const snap = await this.store.snapshot(id, id.user, PERIODS.map((p) => windows[p].id));
    const admin = policy.isAdmin(id.platform, id.workspace, id.user);
    let role = snap.role;
    let source: RoleInfo['source'] = 'explicit';
    if (!role) {
      role = await this.directoryRole(id);
      source = role ? 'directory' : 'default';
    }
    if (!role) role = admin ? 'manager' : 'member';
    const rolePolicy = policy.role(role);
    const info: RoleInfo = {
      role, source, admin, manager: admin || role === 'manager', audit: admin || rolePolicy.audit, policy: rolePolicy,
      maxWaiting: policy.maxWaiting(role), commandsPerMinute: policy.commandsPerMinute(role),
    };
    const limit = limitFrom(snap.overrides, id.user, role, policy);
    const period: Period = limit.limit.unlimited ? 'day' : limit.limit.period;
    const standing: Standing = { role: info, limit, used: snap.used[PERIODS.indexOf(period)] ?? 0, window: windows[period], period, version: snap.version };
    this.remember(id, standing, policy, now);
    return standing;
  }

  /** Compute the current windows once (loads the zone's data for the first request's sake). */
  warmUp(): void {
    for (const p of PERIODS) windowAt(p, this.timezone, this.clock());
  }

  /** The standing read for this person within the last minute under the current settings, if any. */
  recent(id: Identity): Standing | null {
    const key = identityKey(id);
    const hit = this.remembered.get(key);
    if (!hit) return null;
    if (hit.policy === this.policy() && this.clock() - hit.at < RECENT_MS) return hit.standing;
    this.remembered.delete(key);
    return null;
  }

  private remember(id: Identity, standing: Standing, policy: QuotaPolicy, now: number): void {
    const key = identityKey(id);
    this.remembered.delete(key);
    this.remembered.set(key, { standing, policy, at: now });
    if (this.remembered.size > RECENT_MAX) this.remembered.delete(this.remembered.keys().next().value!);
  }

  async roleOf(id: Identity): Promise<RoleInfo> {
    return (await this.standing(id)).role;
  }

  private async directoryRole(id: Identity): Promise<string | null> {
    const bindings = this.policy().bindings(id.platform);
    const adapter = this.adapters.get(id.platform);
    if (bindings.length === 0 || !adapter?.userGroups) return null;
    const cacheKey = this.store.groupsKey(id, id.user);
    let groups: string[];
    const cached = await this.redis.get(cacheKey);
    if (cached) {
      groups = JSON.parse(cached) as string[];
    } else {
      try {
        groups = await adapter.userGroups(id.workspace, id.user);
        await this.redis.set(cacheKey, JSON.stringify(groups), 'EX', GROUPS_TTL_S);
      } catch (err) {
        this.log.warn({ err, user: id.user, platform: id.platform }, 'directory lookup failed; using the default role');
        return null;
      }
    }
    return bindings.find((b) => groups.includes(b.group))?.role ?? null;
  }

  /**
   * Check and charge `cost` images for a job, atomically. Calling it again for the same job charges nothing.
   * Pass the standing just read (admission does) to save the reads, or a remembered one with `checkVersion`.
   */
  async reserve(jobId: string, id: Identity, channel: string, cost: number, known?: Standing, o: ReserveOptions = {}): Promise<ReserveResult> {
    const base = known ?? (await this.standing(id));
    const now = this.clock();
    const windows = Object.fromEntries(PERIODS.map((p) => [p, windowAt(p, this.timezone, now)])) as Record<Period, Window>;
    // The window of now: a remembered standing may have been read in the previous one.
    const window = windows[base.period];
    const res = await this.store.reserve({
      jobId, scope: id, user: id.user, channel, amount: cost, limit: base.limit.limit,
      windowId: window.id, windowEnd: window.end, reportWindows: Object.fromEntries(PERIODS.map((p) => [p, windows[p].id])) as Record<Period, string>, now,
      waiting: {
        most: base.role.maxWaiting, queuePrefix: this.keys.generateJob(''),
      },
      rank: { keys: rankKeys(this.keys, id), weight: base.role.policy.weight },
      ...(o.checkVersion ? { version: base.version } : {}),
      ...(o.mark ? { mark: { ...o.mark, rateKey: this.store.rateKey(id, id.user), perMinute: base.role.commandsPerMinute } } : {}),
    });
    if (res.outcome === 'stale') this.remembered.delete(identityKey(id));
    return {
      ok: res.outcome === 'charged', outcome: res.outcome, cost, standing: { ...base, window, used: res.used },
      ...(res.freeAt ? { freeAt: res.freeAt } : {}), rank: res.rank,
    };
  }

  /** Set a request's idempotency mark and, when it is new, count it against the person's commands this minute. */
  async markEvent(id: Identity, markKey: string, ttlS: number): Promise<{ fresh: boolean; count: number; freeAt: number }> {
    return this.store.markEvent(markKey, ttlS, this.store.rateKey(id, id.user), this.clock());
  }

  /** Whole seconds from now until `at` (at least 1): "try again in N s". */
  secondsUntil(at: number): number {
    return Math.max(1, Math.ceil((at - this.clock()) / 1000));
  }

  /**
   * Give back the charge of a job that could not be queued (and `alsoUndo` what else it took). With Redis
   * unreachable that happens once Redis answers again, if `notWritten` then confirms the job does not exist (a
   * write cut off in flight may have landed after all).
   */
  async refundOrDefer(jobId: string, notWritten: () => Promise<boolean>, alsoUndo?: () => Promise<unknown>): Promise<void> {
    // Both halves are idempotent and independent: neither waits for the other to succeed.
    const giveBack = async (): Promise<void> => {
      const done = await Promise.allSettled([this.refund(jobId), alsoUndo?.()]);
      const failed = done.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    };
    try {
      await giveBack();
    } catch (err) {
      if (!isRedisUnavailable(err)) throw err;
      this.deferred.add(jobId, notWritten, giveBack);
    }
  }

  /** Give a job's charge back (failure, cancel, safety block). Idempotent: a second call returns 0. */
  async refund(jobId: string): Promise<number> {
    const amount = await this.store.refund(jobId);
    if (amount > 0) this.log.info({ jobId, amount }, 'quota refunded');
    return amount;
  }
}
