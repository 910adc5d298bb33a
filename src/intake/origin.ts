/**
 * Where a job comes from and where its results go — built in one place for commands, buttons, schedules and
 * the gallery's "generate again" — and the two things every request gets the same way: a random seed when
 * none was given, and mentions inside a prompt turned into the person's name.
 */
import { randomInt } from 'node:crypto';
import type { Conversation } from '../jobs/types.js';
import { channelKindOf, type GenerateParams, type JobOrigin } from '../jobs/types.js';

export interface OriginFacts {
  locale: string;
  /** The idempotency key of what started it (platform event, button click, schedule run). */
  eventId: string;
  /** Scheduled runs: failures are reported to the owner in the thread. */
  schedule?: JobOrigin['schedule'];
}

export function originOf(c: Conversation, f: OriginFacts): JobOrigin {
  return {
    platform: c.platform, workspace: c.workspace, channel: c.channel, channelKind: channelKindOf(c.channelKind), thread: c.thread,
    user: c.user, locale: f.locale, eventId: f.eventId, ...(c.userName ? { userName: c.userName } : {}), ...(f.schedule ? { schedule: f.schedule } : {}),
  };
}

/** A seed for a request that did not give one (0 … 2³²−1, like --seed). */
export function newSeed(): number {
  return randomInt(0, 2 ** 32);
}

/** The parameters a generation runs with: its seed settled, platform mention markup turned into names. */
export function settle(request: Omit<GenerateParams, 'seed'> & { seed: number | undefined }): GenerateParams {
  const prompt = request.prompt.replace(/<@([A-Za-z0-9_.-]+)(?:\|([^>]*))?>/g, (_, id: string, name?: string) => `@${name || id}`);
  return { ...request, prompt, seed: request.seed ?? newSeed() };
}
