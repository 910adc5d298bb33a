/**
 * Inbound Slack traffic → the core. Every listener acks first (Slack wants an answer within 3 s; events
 * are acked by Bolt itself), then does the slow part: `/zimage` opens a thread with a channel message (or
 * a modal when it has no text), a mention or a DM is answered in its own thread, buttons go to the action
 * handler and the clicker is told the outcome ephemerally. Where the bot cannot post, the person gets an
 * ephemeral explanation of how to let it in.
 */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { ActionKind, InboundHandlers } from '../../src/chat/types.js';
import type { Logger } from '../../src/infra/logger.js';
import { t } from '../../src/i18n/index.js';
import { randomHex } from '../../src/infra/random-ids.js';
import type { ChannelKind } from '../../src/jobs/types.js';
import { ACTION_ID_PATTERN } from './blocks.js';
import { slackChannelKind } from './channel-kind.js';
import { MODAL_CALLBACK_ID, modalView, parseModalOrigin, submissionText, type ModalDefaults } from './modal.js';
import { encodePrivateRef, encodeRef, PLATFORM } from './refs.js';
import { cannotPostExplanation } from './slack-errors.js';
import { commandText, escapeMrkdwn, plainText } from './text.js';

/** The slash commands this app registers (manifest.yml lists the same; a unit test keeps them in sync). */
export const SLASH_COMMANDS = ['/zimage'] as const;

/** What the listeners need of the adapter (slack-adapter.ts implements it). */
export interface SlackConversations {
  /** Start a thread for a slash command with a channel message saying who asked; the thread reference. */
  openThread(team: string, channel: string, user: string, request: string, locale: string): Promise<string>;
  /** Whether this inbound id is new (then it is remembered). */
  firstSight(id: string): Promise<boolean>;
  /** An ephemeral message to one person in a conversation. */
  tellPrivately(channel: string, user: string, text: string, threadTs?: string): Promise<void>;
  /** A direct message to one person. */
  tellDirectly(user: string, text: string): Promise<void>;
}

export interface ListenerContext {
  adapter: SlackConversations;
  inbound: InboundHandlers;
  botUserId: string;
  modal: () => ModalDefaults;
  localeFor: (team: string) => string;
  /**
   * Runs the slow part after an ack: in HTTP mode a few at a time, each batch once the bot has answered the
   * requests it received (a burst of commands is acknowledged first, not slowed by the posting and routing
   * of the ones before); at once otherwise.
   */
  afterAck: (work: () => Promise<void>) => Promise<void>;
  log: Logger;
}

interface ChannelRequest {
  team: string;
  channel: string;
  channelKind: ChannelKind | undefined;
  user: string;
  userName?: string;
  text: string;
  eventId: string;
  locale: string;
  /** Reach the person privately (response_url or ephemeral) when the channel refuses the bot. */
  tellUser: (text: string) => Promise<unknown>;
}

export function registerListeners(app: App, ctx: ListenerContext): void {
  const { inbound, log } = ctx;

  /** A channel request (slash command, modal): a bot message in the channel becomes the thread parent. */
  const startInChannel = async (r: ChannelRequest): Promise<void> => {
    let thread: string;
    try {
      // A request answered to its asker only (`/zimage history` …) starts no thread in everyone's view.
      thread = inbound.answersPrivately?.(r.text)
        ? encodePrivateRef({ team: r.team, channel: r.channel, user: r.user })
        : await ctx.adapter.openThread(r.team, r.channel, r.user, r.text, r.locale);
    } catch (err) {
      const why = cannotPostExplanation(err, r.locale);
      if (why) {
        log.info({ team: r.team, channel: r.channel, reason: why }, 'cannot post in the channel; told the user');
        await r.tellUser(why);
        return;
      }
      // Slack down or throttling after the parent's one retry: the person must not be left with nothing.
      const ref = randomHex(4);
      log.warn({ err, ref, team: r.team, channel: r.channel }, 'could not start the thread; told the user to try again');
      await r.tellUser(t(r.locale, 'slack.thread_failed', { ref }));
      return;
    }
    await inbound.onRequest({
      platform: PLATFORM, workspace: r.team, channel: r.channel, thread, user: r.user, text: r.text,
      eventId: r.eventId, locale: r.locale, ...(r.userName ? { userName: r.userName } : {}), ...(r.channelKind ? { channelKind: r.channelKind } : {}),
    });
  };

  for (const name of SLASH_COMMANDS) {
    app.command(name, async ({ command, ack, respond, client }) => {
      await ack();
      const team = command.team_id;
      const locale = ctx.localeFor(team);
      const text = plainText(command.text ?? '');
      const channelKind = slackChannelKind({ channelId: command.channel_id, channelName: command.channel_name });
      // Slack does not retry slash commands and the trigger id is unique per invocation, so the same trigger id
      // again is a replay: it must not post anything (the thread parent is posted before the core sees it).
      const firstSight = (): Promise<boolean> => ctx.adapter.firstSight(`command:${command.trigger_id}`);
      if (text === '') {
        // The form opens at once: its trigger id is valid for 3 s only.
        if (!(await firstSight())) return;
        await client.views.open({
          trigger_id: command.trigger_id,
          view: modalView({ team, channel: command.channel_id, responseUrl: command.response_url, locale, channelKind }, ctx.modal()),
        });
        return;
      }
      await ctx.afterAck(async () => {
        if (!(await firstSight())) {
          log.debug({ team }, 'replayed slash command ignored');
          return;
        }
        await startInChannel({
          team, channel: command.channel_id, user: command.user_id, userName: command.user_name, text, locale, channelKind,
          eventId: `command:${command.trigger_id}`,
          tellUser: (msg) => respond({ response_type: 'ephemeral', text: escapeMrkdwn(msg) }),
        });
      });
    });
  }

  app.view(MODAL_CALLBACK_ID, async ({ ack, view, body }) => {
    await ack();
    await ctx.afterAck(async () => {
      const origin = parseModalOrigin(view.private_metadata);
      if (!origin) { log.warn({ viewId: view.id }, 'modal submission without its origin'); return; }
      if (!(await ctx.adapter.firstSight(`view:${view.id}`))) return;
      await startInChannel({
        team: origin.team, channel: origin.channel, user: body.user.id, userName: body.user.name, locale: origin.locale,
        channelKind: origin.channelKind ?? slackChannelKind({ channelId: origin.channel }),
        text: submissionText(view.state.values), eventId: `view:${view.id}`,
        tellUser: (msg) => (origin.responseUrl
          ? postJson(origin.responseUrl, { response_type: 'ephemeral', text: escapeMrkdwn(msg) })
          : ctx.adapter.tellDirectly(body.user.id, escapeMrkdwn(msg))),
      });
    });
  });

  app.event('app_mention', async ({ event, body }) => {
    const user = event.user;
    if (!user) return;
    await ctx.afterAck(async () => {
      const team = body.team_id;
      const ts = event.thread_ts ?? event.ts;
      const locale = ctx.localeFor(team);
      try {
        await inbound.onRequest({
          platform: PLATFORM, workspace: team, channel: event.channel, thread: encodeRef({ team, channel: event.channel, ts }),
          user, text: commandText(event.text, ctx.botUserId), eventId: body.event_id, locale,
          channelKind: slackChannelKind({ channelId: event.channel, channelType: (event as { channel_type?: string }).channel_type }),
        });
      } catch (err) {
        const why = cannotPostExplanation(err, locale);
        if (!why) throw err;
        await ctx.adapter.tellPrivately(event.channel, user, escapeMrkdwn(why), ts).catch((e: unknown) => log.warn({ err: e }, 'could not explain'));
      }
    });
  });

  // Direct messages to the bot: the whole message is the command (a mention or a leading /zimage is optional).
  app.event('message', async ({ event, body }) => {
    const m = event as { channel_type?: string; subtype?: string; bot_id?: string; user?: string; text?: string; ts: string; thread_ts?: string; channel: string };
    const { user, text } = m;
    if (m.channel_type !== 'im' || m.subtype !== undefined || m.bot_id || !user || !text) return;
    await ctx.afterAck(async () => {
      const team = body.team_id;
      await inbound.onRequest({
        platform: PLATFORM, workspace: team, channel: m.channel, channelKind: 'dm', thread: encodeRef({ team, channel: m.channel, ts: m.thread_ts ?? m.ts }),
        user, text: commandText(text, ctx.botUserId), eventId: body.event_id, locale: ctx.localeFor(team),
      });
    });
  });

  app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: ACTION_ID_PATTERN }, async ({ ack, action, body, respond }) => {
    await ack();
    const kind = ACTION_ID_PATTERN.exec(action.action_id)![1] as ActionKind;
    const team = body.team?.id ?? body.user.team_id ?? '';
    const channel = body.channel?.id ?? String(body.container.channel_id ?? '');
    const threadTs = String(body.message?.thread_ts ?? body.container.thread_ts ?? body.message?.ts ?? body.container.message_ts ?? '');
    const locale = ctx.localeFor(team);
    const result = await inbound.onAction({
      kind, jobId: action.value ?? '', platform: PLATFORM, workspace: team, channel, thread: encodeRef({ team, channel, ts: threadTs }),
      // Unknown for most channels: the core then keeps the kind recorded with the job the button belongs to.
      ...(slackChannelKind({ channelId: channel }) ? { channelKind: slackChannelKind({ channelId: channel })! } : {}),
      user: body.user.id, userName: body.user.username ?? body.user.name ?? body.user.id,
      // Slack does not retry interactions; the trigger id is unique per click.
      eventId: body.trigger_id, locale,
    });
    if (result.message) await respond({ response_type: 'ephemeral', replace_original: false, text: escapeMrkdwn(result.message) });
  });
}

async function postJson(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${new URL(url).host} → ${res.status}`);
}
