/**
 * `/zimage schedule add "0 9 * * 1-5" poster subject="Daily deal|Weekend sale" [#channel] [tz=Asia/Shanghai]`,
 * `schedule list`, `schedule pause|resume|remove <id>` — managers only. A value with `|` rotates: one item
 * per run, in order.
 */
import type { SubcommandContext, SubcommandHandler } from '../commands/subcommand.js';
import { t } from '../i18n/index.js';
import type { AuditLog } from '../quota/audit.js';
import { periodOfWord } from '../quota/commands.js';
import type { QuotaService } from '../quota/service.js';
import type { Period } from '../quota/windows.js';
import { assertTimeZone } from '../quota/windows.js';
import { parseArgs } from '../templates/invocation.js';
import type { TemplateLibrary } from '../templates/library.js';
import { prepareTemplate } from '../templates/prepare.js';
import type { CommandRules } from '../commands/index.js';
import { checkCron, nextRuns } from './cron.js';
import { varsForRun } from './runner.js';
import { ScheduleService } from './service.js';
import type { ScheduleDef, ScheduleStore } from './store.js';

export interface ScheduleCommandDeps {
  service: ScheduleService;
  store: ScheduleStore;
  templates: TemplateLibrary;
  quota: QuotaService;
  audit: AuditLog;
  /** The grammar's rules as the settings say now. */
  rules: () => CommandRules;
  defaultTz: () => string;
  /** The least time between two runs of a schedule (settings `schedules.minIntervalMinutes`, read when used). */
  minIntervalMinutes: () => number;
}

const CHANNEL = /(?:^|\s)(#[\p{L}\p{N}_-]+|<#([A-Za-z0-9_-]+)(?:\|[^>]*)?>)(?=\s|$)/u;

/** `Asia/Shanghai 2026-11-25 09:00` */
export function formatWhen(at: number, tz: string): string {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  }).formatToParts(new Date(at)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} (${tz})`;
}

export function describeSchedule(def: ScheduleDef): string {
  if (def.kind === 'usage') return `${USAGE_REPORT} ${def.usage?.period ?? 'week'}`;
  const vars = [...Object.entries(def.vars).map(([k, v]) => `${k}="${v}"`), ...Object.entries(def.rotate).map(([k, v]) => `${k}="${v.join('|')}"`)];
  return `${def.template} ${vars.join(' ')}`.trim();
}

/** The word that schedules a usage report instead of a template. */
export const USAGE_REPORT = 'usage';

/** `week [tz=…]` after `usage`: the period (default week) and what follows it; null for an unknown period. */
export function usageReportOf(text: string): { period: Period; rest: string } | null {
  const m = /^(\S*)\s*([\s\S]*)$/.exec(text.trim())!;
  const word = m[1]!.toLowerCase();
  if (word === '' || word.includes('=')) return { period: 'week', rest: text };
  const period = periodOfWord(word);
  return period ? { period, rest: m[2]! } : null;
}

export function scheduleCommand(d: ScheduleCommandDeps): SubcommandHandler {
  const reply = (ctx: SubcommandContext, key: string, params?: Record<string, string | number>) =>
    ctx.adapter.reply(ctx.request.thread, t(ctx.locale, key, params)).then(() => undefined);

  const add = async (ctx: SubcommandContext, text: string): Promise<void> => {
    const cronMatch = /^["“”]([^"“”]+)["“”]\s*([\s\S]*)$/.exec(text);
    if (!cronMatch) return reply(ctx, 'schedules.usage');
    const cron = cronMatch[1]!.trim();
    let rest = cronMatch[2]!;
    let channel = ctx.request.channel;
    const ch = CHANNEL.exec(rest);
    if (ch) {
      channel = ch[2] ?? ch[1]!.slice(1);
      rest = rest.slice(0, ch.index) + rest.slice(ch.index + ch[0].length);
    }
    const m = /^(\S+)\s*([\s\S]*)$/.exec(rest.trim());
    if (!m) return reply(ctx, 'schedules.usage');
    const template = m[1]!.toLowerCase();
    // `usage [today|week|month]`: a usage report, not a template.
    const report = template === USAGE_REPORT ? usageReportOf(m[2]!) : undefined;
    const args = report === null ? null : parseArgs(report ? report.rest : m[2]!);
    if (!args || args.flags) return reply(ctx, 'schedules.usage');
    const tz = args.vars.tz ?? d.defaultTz();
    delete args.vars.tz;
    try { assertTimeZone(tz); } catch { return reply(ctx, 'schedules.bad_tz', { tz }); }
    const cronProblem = checkCron(cron, tz, d.minIntervalMinutes());
    if (cronProblem?.kind === 'fields') return reply(ctx, 'schedules.bad_cron_fields', { cron, fields: cronProblem.fields });
    if (cronProblem?.kind === 'too_often') return reply(ctx, 'schedules.bad_cron_too_often', { cron, gap: cronProblem.gapMinutes, min: cronProblem.minMinutes });
    if (cronProblem) return reply(ctx, 'schedules.bad_cron', { cron, problem: cronProblem.detail });
    const vars: Record<string, string> = {};
    const rotate: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(args.vars)) {
      if (v.includes('|')) rotate[k] = v.split('|').map((x) => x.trim()).filter(Boolean);
      else vars[k] = v;
    }
    const def: ScheduleDef = {
      id: ScheduleService.newId(), platform: ctx.request.platform, workspace: ctx.request.workspace, channel,
      // Known only for the channel the command was typed in; another channel's kind is not told by the platform.
      ...(channel === ctx.request.channel && ctx.request.channelKind ? { channelKind: ctx.request.channelKind } : {}),
      owner: ctx.request.user, ...(ctx.request.userName ? { ownerName: ctx.request.userName } : {}), locale: ctx.locale,
      cron, tz, template, vars, rotate, paused: false, createdAt: Date.now(),
      ...(report ? { kind: 'usage' as const, usage: { period: report.period } } : {}),
    };
    // Check every rotation value now, not at 9 a.m. tomorrow.
    const runs = report ? 0 : Math.max(1, ...Object.values(rotate).map((l) => l.length));
    for (let run = 1; run <= runs; run++) {
      const p = prepareTemplate(d.templates, { template, vars: varsForRun(def, run), flags: '' }, d.rules(), ctx.locale);
      if (!p.ok) return ctx.adapter.reply(ctx.request.thread, p.reply).then(() => undefined);
    }
    await d.service.add(def);
    await d.audit.record({ platform: def.platform, workspace: def.workspace, channel: ctx.request.channel, actor: ctx.request.user, action: 'schedule.add', target: def.id, detail: `"${cron}" ${tz} ${describeSchedule(def)} → ${channel}` });
    const [next] = nextRuns(cron, tz, Date.now());
    return reply(ctx, 'schedules.added', { id: def.id, what: describeSchedule(def), cron, channel, next: formatWhen(next!, tz) });
  };

  const list = async (ctx: SubcommandContext): Promise<void> => {
    const defs = await d.store.list(ctx.request.platform, ctx.request.workspace);
    if (defs.length === 0) return reply(ctx, 'schedules.none');
    const lines = await Promise.all(defs.map(async (def) => {
      const next = def.paused ? null : await d.service.nextRunAt(def.id);
      const state = def.paused ? t(ctx.locale, 'schedules.paused') : next ? t(ctx.locale, 'schedules.next', { when: formatWhen(next, def.tz) }) : '';
      return `• ${def.id} · "${def.cron}" ${def.tz} · ${describeSchedule(def)} · #${def.channel} · ${state}`;
    }));
    await ctx.adapter.reply(ctx.request.thread, [t(ctx.locale, 'schedules.title'), ...lines].join('\n'));
  };

  return {
    name: 'schedule',
    aliases: ['schedules', '定时'],
    async handle(ctx) {
      if (!(await d.quota.roleOf(ctx.request)).manager) return reply(ctx, 'quota.not_manager');
      const m = /^(\S+)\s*([\s\S]*)$/.exec(ctx.rest);
      const verb = m?.[1]?.toLowerCase();
      const arg = m?.[2]?.trim() ?? '';
      if (verb === 'add') return add(ctx, arg);
      if (verb === 'list' || verb === undefined) return list(ctx);
      if (verb === 'pause' || verb === 'resume' || verb === 'remove') {
        const def = await d.store.get(arg);
        if (!def || def.platform !== ctx.request.platform || def.workspace !== ctx.request.workspace) return reply(ctx, 'schedules.unknown', { id: arg });
        if (verb === 'remove') await d.service.remove(def);
        else await d.service.setPaused(def, verb === 'pause');
        await d.audit.record({ platform: def.platform, workspace: def.workspace, channel: ctx.request.channel, actor: ctx.request.user, action: `schedule.${verb}`, target: def.id, detail: describeSchedule(def) });
        return reply(ctx, `schedules.${verb}_done`, { id: def.id });
      }
      return reply(ctx, 'schedules.usage');
    },
  };
}
