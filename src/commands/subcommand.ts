/**
 * Bot-side subcommands (`/zimage quota`, `/zimage usage`, `/zimage status` …). The grammar recognises the
 * first word (src/commands: botSubcommand); the handler parses the rest and answers in the thread.
 * Register one with `BotSubcommands.add` when the bot is composed (src/app/bot-app.ts).
 */
import type { BotRequest, ChatAdapter } from '../chat/types.js';
import { botSubcommand, buildRegistry, helpCommand, type SubcommandRegistry } from './index.js';

export interface SubcommandContext {
  request: BotRequest;
  adapter: ChatAdapter;
  locale: string;
  /** The text after the subcommand's name, trimmed. */
  rest: string;
}

export interface SubcommandHandler {
  name: string;
  aliases?: readonly string[];
  /** Parse `rest`, act, and reply in the thread (never throw for bad input: reply instead). */
  handle(ctx: SubcommandContext): Promise<void>;
  /** Answers only the asker (through `replyPrivately`): no visible thread is started for it. */
  private?: boolean;
}

export class BotSubcommands {
  private readonly handlers = new Map<string, SubcommandHandler>();
  private registryCache: SubcommandRegistry | undefined;

  add(handler: SubcommandHandler): this {
    this.handlers.set(handler.name, handler);
    this.registryCache = undefined;
    return this;
  }

  get(name: string): SubcommandHandler | undefined {
    return this.handlers.get(name);
  }

  /** Whether `text` (a request after `/zimage`) names a subcommand that answers its asker only. */
  answersPrivately(text: string): boolean {
    const word = text.trim().split(/\s+/, 1)[0]!.toLowerCase();
    for (const h of this.handlers.values()) if (h.private && (h.name === word || h.aliases?.includes(word))) return true;
    return false;
  }

  /** The grammar's registry: help plus every registered subcommand's words. */
  registry(): SubcommandRegistry {
    this.registryCache ??= buildRegistry([helpCommand, ...[...this.handlers.values()].map((h) => botSubcommand(h.name, h.aliases))]);
    return this.registryCache;
  }
}
