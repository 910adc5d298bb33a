/**
 * Quota decisions: who has which role (explicit, from the directory, or member), what their limit is
 * (user override → role override → role policy → default), and the atomic reserve/refund per job.
 */
import type { Redis } from 'ioredis';
import type { ChatAdapter } from '../chat/types.js';
import type { Logger } from '../infra/logger.js';
import type { Keys } from '../jobs/keys.js';
import type { Limit } from './limits.js';
import type { QuotaPolicy, RolePolicy } from './policy.js';
import { QuotaStore, type Scope } from './store.js';
import { PERIODS, windowAt, type Period, type Window } from './windows.js';

export interface Identity { platform: string; workspace: string; user: string }

export interface RoleInfo {
  role: string;
  source: 'explicit' | 'directory' | 'default';
  admin: boolean;
  /** Managers and admins may run manager commands. */
  manager: boolean;
  policy: RolePolicy;
}

export interface LimitInfo { limit: Limit; source: 'user' | 'role-override' | 'role' | 'default' }

export interface Standing {
  role: RoleInfo;
  limit: LimitInfo;
  /** Used in the limit's current window (0 for unlimited without a window). */
  used: number;
  window: Window;
  period: Period;
}

export type ReserveResult =
  | { ok: true; standing: Standing; cost: number }
  | { ok: false; standing: Standing; cost: number };

const GROUPS_TTL_S = 600;

export class QuotaService {
  readonly store: QuotaStore;

  constructor(
    private readonly redis: Redis,
    keys: Keys,
    private readonly policy: () => QuotaPolicy,
    private readonly adapters: ReadonlyMap<string, ChatAdapter>,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    this.store = new QuotaStore(redis, keys);
  }

  get timezone(): string { return this.policy().timezone; }
  now(): number { return this.clock(); }

  async roleOf(id: Identity): Promise<RoleInfo> {
    const policy = this.policy();
    const scope: Scope = id;
    const admin = policy.isAdmin(id.platform, id.workspace, id.user);
    let role = await this.store.explicitRole(scope, id.user);
    let source: RoleInfo['source'] = 'explicit';
    if (!role) {
      role = await this.directoryRole(id);
      source = role ? 'directory' : 'default';
    }
    if (!role) role = admin ? 'manager' : 'member';
    return { role, source, admin, manager: admin || role === 'manager', policy: policy.role(role) };
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

  async limitOf(id: Identity, role: RoleInfo): Promise<LimitInfo> {
    const user = await this.store.override(id, `user:${id.user}`);
    if (user) return { limit: user, source: 'user' };
    const roleOverride = await this.store.override(id, `role:${role.role}`);
    if (roleOverride) return { limit: roleOverride, source: 'role-override' };
    const policy = this.policy();
    const configured = policy.s.roles[role.role]?.limit !== undefined || ['manager', 'intern'].includes(role.role);
    return { limit: policy.roleLimit(role.role), source: configured ? 'role' : 'default' };
  }

  async standing(id: Identity): Promise<Standing> {
    const role = await this.roleOf(id);
    const limit = await this.limitOf(id, role);
    const period: Period = limit.limit.unlimited ? 'day' : limit.limit.period;
    const window = windowAt(period, this.timezone, this.clock());
    const used = await this.store.used(id, id.user, window.id);
    return { role, limit, used, window, period };
  }

  /** Check and charge `cost` images for a job, atomically. Calling it again for the same job charges nothing. */
  async reserve(jobId: string, id: Identity, channel: string, cost: number): Promise<ReserveResult> {
    const standing = await this.standing(id);
    const now = this.clock();
    const reportWindows = Object.fromEntries(PERIODS.map((p) => [p, windowAt(p, this.timezone, now).id])) as Record<Period, string>;
    const res = await this.store.reserve({
      jobId, scope: id, user: id.user, channel, amount: cost, limit: standing.limit.limit,
      windowId: standing.window.id, windowEnd: standing.window.end, reportWindows, now,
    });
    return { ok: res.charged, cost, standing: { ...standing, used: res.used } };
  }

  /** Give a job's charge back (failure, cancel, safety block). Idempotent: a second call returns 0. */
  async refund(jobId: string): Promise<number> {
    const amount = await this.store.refund(jobId);
    if (amount > 0) this.log.info({ jobId, amount }, 'quota refunded');
    return amount;
  }
}
