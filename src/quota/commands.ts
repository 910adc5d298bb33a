/**
 * Chat commands for quotas and roles: `quota`, `quota set|reset`, `role set`, `usage`, `audit`.
 * Members see their own standing; managers change limits and roles; admins grant and revoke manager.
 * Every change is written to the audit log.
 */
import type { SubcommandContext, SubcommandHandler } from '../commands/subcommand.js';
import { t } from '../i18n/index.js';
import type { AuditLog } from './audit.js';
import { resetText } from './format.js';
import { formatLimit, parseLimit } from './limits.js';
import { BUILTIN_ROLES, type QuotaPolicy } from './policy.js';
import type { Identity, QuotaService } from './service.js';
import { parseTarget, words, type Target } from './targets.js';
import { windowAt, type Period } from './windows.js';

export interface QuotaCommandDeps {
  quota: QuotaService;
  audit: AuditLog;
  policy: () => QuotaPolicy;
  /** After the figures of `/zimage usage`: e.g. the usage chart in the thread (src/library/usage-report.ts). */
  afterUsage?: (ctx: SubcommandContext, period: Period) => Promise<void>;
}

const idOf = (ctx: SubcommandContext): Identity => ({ platform: ctx.request.platform, workspace: ctx.request.workspace, user: ctx.request.user });
/** The words of `/zimage usage [today|week|month]` (and of a scheduled usage report). */
const PERIOD_WORDS: Record<string, Period> = { today: 'day', day: 'day', week: 'week', month: 'month', 今天: 'day', 本周: 'week', 本月: 'month' };

/** The period a word names, if it is one of PERIOD_WORDS (own names only: `constructor` names none). */
export function periodOfWord(word: string): Period | undefined {
  return Object.hasOwn(PERIOD_WORDS, word) ? PERIOD_WORDS[word] : undefined;
}

export function quotaCommands(d: QuotaCommandDeps): SubcommandHandler[] {
  const reply = (ctx: SubcommandContext, key: string, params?: Record<string, string | number>) =>
    ctx.adapter.reply(ctx.request.thread, t(ctx.locale, key, params)).then(() => undefined);

  const requireManager = async (ctx: SubcommandContext): Promise<boolean> => {
    if ((await d.quota.roleOf(idOf(ctx))).manager) return true;
    await reply(ctx, 'quota.not_manager');
    return false;
  };

  const record = (ctx: SubcommandContext, action: string, target: string, detail: string) => d.audit.record({
    platform: ctx.request.platform, workspace: ctx.request.workspace, channel: ctx.request.channel,
    actor: actorOf(ctx.request), action, target, detail,
  });

  const showMine = async (ctx: SubcommandContext): Promise<void> => {
    const s = await d.quota.standing(idOf(ctx));
    const source = (s.role.source === 'directory' ? t(ctx.locale, 'quota.source_directory') : '') + (s.role.admin ? t(ctx.locale, 'quota.source_admin') : '');
    const period = t(ctx.locale, `quota.period_${s.period}`);
    if (s.limit.limit.unlimited) return reply(ctx, 'quota.mine_unlimited', { role: s.role.role, source, used: s.used, period });
    return reply(ctx, 'quota.mine', {
      role: s.role.role, source, limit: formatLimit(s.limit.limit), used: s.used, period,
      left: Math.max(0, s.limit.limit.amount - s.used), reset: resetText(s.window.end, d.quota.timezone, ctx.locale, d.quota.now()),
    });
  };

  const targetOr = async (ctx: SubcommandContext, word: string | undefined): Promise<Target | null> => {
    const target = word ? parseTarget(word) : null;
    if (!target) await reply(ctx, 'quota.bad_target', { fragment: word ?? '' });
    return target;
  };

  const quota: SubcommandHandler = {
    name: 'quota',
    aliases: ['配额'],
    async handle(ctx) {
      const [verb, who, value, ...extra] = words(ctx.rest);
      if (!verb) return showMine(ctx);
      if (verb === 'set' && who && value && extra.length === 0) {
        if (!(await requireManager(ctx))) return;
        const target = await targetOr(ctx, who);
        if (!target) return;
        const limit = parseLimit(value);
        if (!limit) return reply(ctx, 'quota.bad_limit', { fragment: value });
        if (target.kind === 'role' && !d.policy().knownRole(target.role)) {
          return reply(ctx, 'quota.unknown_role', { role: target.role, roles: knownRoles(d.policy()) });
        }
        await d.quota.store.setOverride(ctx.request, target.kind === 'user' ? `user:${target.id}` : `role:${target.role}`, limit);
        await record(ctx, 'quota.set', target.label, formatLimit(limit));
        return target.kind === 'user'
          ? reply(ctx, 'quota.set_user', { target: target.label, limit: formatLimit(limit) })
          : reply(ctx, 'quota.set_role', { role: target.role, limit: formatLimit(limit) });
      }
      if (verb === 'reset' && who && !value) {
        if (!(await requireManager(ctx))) return;
        const target = await targetOr(ctx, who);
        if (!target) return;
        if (target.kind !== 'user') return reply(ctx, 'quota.bad_target', { fragment: who });
        const id = { ...idOf(ctx), user: target.id };
        const s = await d.quota.standing(id);
        await d.quota.store.resetUsed(id, target.id, s.window.id);
        await record(ctx, 'quota.reset', target.label, s.window.id);
        return reply(ctx, 'quota.reset_done', { target: target.label, period: t(ctx.locale, `quota.period_${s.period}`) });
      }
      return reply(ctx, 'quota.usage_help');
    },
  };

  const role: SubcommandHandler = {
    name: 'role',
    aliases: ['角色'],
    async handle(ctx) {
      const [verb, who, name, ...extra] = words(ctx.rest);
      if (verb !== 'set' || !who || !name || extra.length > 0) return reply(ctx, 'quota.usage_help');
      const me = await d.quota.roleOf(idOf(ctx));
      if (!me.manager) return reply(ctx, 'quota.not_manager');
      const target = await targetOr(ctx, who);
      if (!target) return;
      if (target.kind !== 'user') return reply(ctx, 'quota.bad_target', { fragment: who });
      const newRole = name.toLowerCase();
      if (!d.policy().knownRole(newRole)) return reply(ctx, 'quota.unknown_role', { role: newRole, roles: knownRoles(d.policy()) });
      const current = await d.quota.roleOf({ ...idOf(ctx), user: target.id });
      if ((newRole === 'manager' || current.role === 'manager') && !me.admin) return reply(ctx, 'quota.not_admin');
      await d.quota.store.setRole(ctx.request, target.id, newRole);
      await record(ctx, 'role.set', target.label, `${current.role} → ${newRole}`);
      return reply(ctx, 'quota.role_done', { target: target.label, role: newRole });
    },
  };

  const usage: SubcommandHandler = {
    name: 'usage',
    aliases: ['用量'],
    async handle(ctx) {
      if (!(await requireManager(ctx))) return;
      const word = ctx.rest.trim().toLowerCase() || 'today';
      const period = periodOfWord(word);
      if (!period) return reply(ctx, 'quota.usage_help');
      const win = windowAt(period, d.quota.timezone, d.quota.now());
      const [users, channels, total] = await Promise.all([
        d.quota.store.top(ctx.request, win.id, 'users'), d.quota.store.top(ctx.request, win.id, 'channels'), d.quota.store.total(ctx.request, win.id),
      ]);
      const periodText = t(ctx.locale, `quota.period_${period}`);
      if (total === 0) return reply(ctx, 'quota.usage_none', { period: periodText });
      const lines = [
        t(ctx.locale, 'quota.usage_title', { period: periodText, total }),
        t(ctx.locale, 'quota.usage_users'), ...users.map((u, i) => `  ${i + 1}. ${u.id} — ${u.amount}`),
        t(ctx.locale, 'quota.usage_channels'), ...channels.map((c) => `  ${c.id} — ${c.amount}`),
      ];
      await ctx.adapter.reply(ctx.request.thread, lines.join('\n'));
      await d.afterUsage?.(ctx, period);
    },
  };

  const audit: SubcommandHandler = {
    name: 'audit',
    aliases: ['审计'],
    async handle(ctx) {
      if (!(await requireManager(ctx))) return;
      const entries = await d.audit.recent(ctx.request.platform, ctx.request.workspace, 20);
      if (entries.length === 0) return reply(ctx, 'quota.audit_none');
      const lines = entries.map((e) => `${new Date(e.at).toISOString().replace('T', ' ').slice(0, 16)} · ${e.actor} · ${e.action} ${e.target} ${e.detail}`.trim());
      await ctx.adapter.reply(ctx.request.thread, [t(ctx.locale, 'quota.audit_title'), ...lines].join('\n'));
    },
  };

  return [quota, role, usage, audit];
}

function knownRoles(policy: QuotaPolicy): string {
  return [...new Set([...BUILTIN_ROLES, ...Object.keys(policy.s.roles)])].join(', ');
}

/**
 * How the audit log names who acted: the identity, and the name they go by where it says more (a Slack id and
 * its handle) — not a mere spelling of the same identity (a Playground `ALICE` is recorded as `alice`).
 */
export function actorOf(r: { user: string; userName?: string }): string {
  const shown = r.userName?.normalize('NFKC').toLowerCase();
  return r.userName && shown !== r.user.toLowerCase() ? `${r.user} (${r.userName})` : r.user;
}
