/**
 * `/zimage status`: the operational numbers at a glance, in the thread. Everyone sees the line, workers,
 * waits and failures; the dead-letter count is for managers (see README "Operations").
 */
import type { BotRequest } from '../chat/types.js';
import { t } from '../i18n/index.js';
import type { SubcommandContext, SubcommandHandler } from '../commands/subcommand.js';
import { opsReport } from './ops-text.js';
import type { OpsSnapshot } from './snapshot.js';

export interface StatusCommandDeps {
  snapshot: () => Promise<OpsSnapshot>;
  /** Whether the requester is a manager. Without roles (undefined), the count shows whenever it is not zero. */
  isManager?: (req: BotRequest) => Promise<boolean>;
}

export function statusSubcommand(d: StatusCommandDeps): SubcommandHandler {
  return {
    name: 'status',
    aliases: ['状态', 'stats'],
    async handle(ctx: SubcommandContext): Promise<void> {
      const s = await d.snapshot();
      const manager = d.isManager ? await d.isManager(ctx.request).catch(() => false) : true;
      let text = opsReport(s, ctx.locale, { showDeadLetters: manager });
      if (ctx.rest !== '') text += `\n${t(ctx.locale, 'ops.args_ignored', { rest: ctx.rest.slice(0, 200) })}`;
      await ctx.adapter.reply(ctx.request.thread, text);
    },
  };
}
