/**
 * Quota policy from the settings file (`quota:` section): time zone, default limit, admins, role policies
 * and directory bindings. Managers change limits and roles at runtime in Redis; this is the baseline.
 */
import { z } from 'zod';
import { parseLimit, type Limit } from './limits.js';
import { assertTimeZone } from './windows.js';

const limitSchema = z.string().refine((s) => parseLimit(s) !== null, 'write N/day, N/week, N/month or unlimited');
const tzSchema = z.string().refine((tz) => { try { assertTimeZone(tz); return true; } catch { return false; } }, 'an IANA time zone such as Asia/Shanghai');
const roleName = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'lower-case letters, digits, _ and -');
/** A per-person bound: a count, or `unlimited`. */
const boundSchema = z.union([z.number().int().min(1).max(100_000), z.literal('unlimited')]);

export const rolePolicySchema = z.object({
  limit: limitSchema.optional(),
  /** Share of the GPU relative to others (2 = twice as many turns). */
  weight: z.number().min(0.1).max(100).default(1),
  maxSide: z.number().int().min(256).max(1024).optional(),
  maxCount: z.number().int().min(1).max(4).optional(),
  /** Only these template presets may be used (with templatesOnly, no free prompts). */
  templates: z.array(z.string().min(1)).optional(),
  templatesOnly: z.boolean().default(false),
  /** Jobs one person may have waiting at once (default: quota.maxWaiting). */
  maxWaiting: boundSchema.optional(),
  /** Commands one person may send per minute (default: quota.commandsPerMinute). */
  commandsPerMinute: boundSchema.optional(),
  /** The `audit` permission: see every image of the workspace (DMs and private channels too), export, legal holds. */
  audit: z.boolean().default(false),
}).strict();

export const quotaSchema = z.object({
  timezone: tzSchema.default('UTC'),
  default: limitSchema.default('50/day'),
  /** Identities (`platform:workspace:user`) with admin rights: they grant and revoke manager. */
  admins: z.array(z.string().regex(/^[a-z]+:[^:]+:[^:]+$/, 'write platform:workspace:user, e.g. slack:T0123:U0456'))
    // Playground identities are normalised names (NFKC, lower case): `playground:local:Alice` means alice.
    .transform((ids) => ids.map((id) => (id.startsWith('playground:') ? id.normalize('NFKC').toLowerCase() : id))).default([]),
  /** Jobs one person may have waiting at once, unless their role says otherwise. */
  maxWaiting: boundSchema.default(20),
  /** Commands (of any kind) one person may send per minute, unless their role says otherwise. */
  commandsPerMinute: boundSchema.default(30),
  roles: z.record(roleName, rolePolicySchema).default({}),
  /** Directory bindings: members of a Slack user group or a Lark department get a role. First match wins. */
  directory: z.array(z.object({ platform: z.string().min(1), group: z.string().min(1), role: roleName }).strict()).default([]),
}).strict();

export type QuotaSettings = z.infer<typeof quotaSchema>;
export type RolePolicy = z.infer<typeof rolePolicySchema>;

export const BUILTIN_ROLES = ['manager', 'member', 'intern'] as const;

/** Built-in role policies, overridden field by field by the settings file. */
const BUILTIN: Record<string, Partial<RolePolicy>> = {
  manager: { limit: 'unlimited', maxWaiting: 'unlimited', commandsPerMinute: 'unlimited' },
  member: {},
  intern: { limit: '20/day' },
};

export class QuotaPolicy {
  constructor(readonly s: QuotaSettings) {}

  static defaults(): QuotaPolicy {
    return new QuotaPolicy(quotaSchema.parse({}));
  }

  get timezone(): string { return this.s.timezone; }

  isAdmin(platform: string, workspace: string, user: string): boolean {
    return this.s.admins.includes(`${platform}:${workspace}:${user}`);
  }

  /** How many jobs a person of this role may have waiting (null: no bound). */
  maxWaiting(role: string): number | null {
    const b = this.role(role).maxWaiting ?? this.s.maxWaiting;
    return b === 'unlimited' ? null : b;
  }

  /** How many commands a person of this role may send per minute (null: no bound). */
  commandsPerMinute(role: string): number | null {
    const b = this.role(role).commandsPerMinute ?? this.s.commandsPerMinute;
    return b === 'unlimited' ? null : b;
  }

  /** A role of the settings file or a built-in one (own names only: `constructor` or `__proto__` are no role). */
  knownRole(role: string): boolean {
    return Object.hasOwn(this.s.roles, role) || (BUILTIN_ROLES as readonly string[]).includes(role);
  }

  role(role: string): RolePolicy {
    return rolePolicySchema.parse({ ...(Object.hasOwn(BUILTIN, role) ? BUILTIN[role] : {}), ...(Object.hasOwn(this.s.roles, role) ? this.s.roles[role] : {}) });
  }

  /** The configured limit of a role (role policy, else the default). */
  roleLimit(role: string): Limit {
    return parseLimit(this.role(role).limit ?? this.s.default)!;
  }

  /** Roles bound to directory groups on a platform, in order. */
  bindings(platform: string): Array<{ group: string; role: string }> {
    return this.s.directory.filter((b) => b.platform === platform);
  }
}
