/**
 * Bot-side subcommands (`/zimage quota`, `/zimage usage`, `/zimage status` …). The grammar recognises the
 * first word (src/commands: botSubcommand); the handler parses the rest and answers in the thread.
 * Register one with `BotSubcommands.add` when the bot is composed (src/app/bot-app.ts).
 */
import type { BotRequest, ChatAdapter } from '../chat/types.js';
import { botSubcommand, buildRegistry, helpCommand, type SubcommandRegistry } from './index.js';
import { firstWord } from './parse.js';

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
  private privateWords: ReadonlySet<string> | undefined;

  add(handler: SubcommandHandler): this {
    this.handlers.set(handler.name, handler);
    this.registryCache = undefined;
    this.privateWords = undefined;
    return this;
  }

  get(name: string): SubcommandHandler | undefined {
    return this.handlers.get(name);
  }

  /** Whether `text` (a request after `/zimage`) names a subcommand that answers its asker only. */
  answersPrivately(text: string): boolean {
    // The words as the registry keeps them (buildRegistry), read as the grammar reads the first word.
    this.privateWords ??= new Set([...this.handlers.values()].filter((h) => h.private).flatMap((h) => [h.name, ...(h.aliases ?? [])].map((w) => w.toLowerCase())));
    const word = firstWord(text)?.word;
    return word !== undefined && this.privateWords.has(word);
  }

  /** The grammar's registry: help plus every registered subcommand's words. */
  registry(): SubcommandRegistry {
    this.registryCache ??= buildRegistry([helpCommand, ...[...this.handlers.values()].map((h) => botSubcommand(h.name, h.aliases))]);
    return this.registryCache;
  }
}
