/**
 * An adapter as the core uses it: `reply`, `replyPrivately` and `startThread` go through the core's one retry (reply-retry.ts);
 * every other member is the adapter's own, untouched — `postImage` in particular, which the `deliver` queue
 * retries, and `updateStatus`, which the status tracker paces. A Proxy rather than a class listing the port's
 * methods, so optional methods an adapter adds later reach the core unchanged.
 */
import type { Conversation } from '../jobs/types.js';
import type { ChatAdapter } from './types.js';
import type { ReplyRetry } from './reply-retry.js';

export function withReplyRetry<A extends ChatAdapter>(adapter: A, retry: ReplyRetry): A {
  const own: Partial<Record<keyof ChatAdapter, unknown>> = {
    reply: (thread: string, text: string) => retry.run(adapter.platform, 'reply', () => adapter.reply(thread, text)),
  };
  if (adapter.replyPrivately) {
    own.replyPrivately = (to: Conversation, text: string) =>
      retry.run(adapter.platform, 'private reply', () => adapter.replyPrivately!(to, text));
  }
  if (adapter.startThread) {
    own.startThread = (workspace: string, channel: string, text: string) =>
      retry.run(adapter.platform, 'new thread', () => adapter.startThread!(workspace, channel, text));
  }
  const bound = new Map<PropertyKey, { fn: unknown; bound: unknown }>();
  return new Proxy(adapter, {
    get(target, prop) {
      if (Object.hasOwn(own, prop)) return own[prop as keyof ChatAdapter];
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      // Methods run on the adapter itself (its fields, its listeners' `this`), not on the proxy.
      const cached = bound.get(prop);
      if (cached?.fn === value) return cached.bound;
      const fn = (value as (...args: unknown[]) => unknown).bind(target);
      bound.set(prop, { fn: value, bound: fn });
      return fn;
    },
    // Replacing `reply` on the core's view replaces the retrying one (which keeps calling the adapter's own);
    // anything else is set on the adapter itself.
    set(target, prop, value) {
      if (Object.hasOwn(own, prop)) {
        own[prop as keyof ChatAdapter] = value;
        return true;
      }
      return Reflect.set(target, prop, value, target);
    },
  });
}
