/**
 * Fair-share ranks on a real Redis: rounds per person (weights count), slots per workspace, and a person's
 * round dropping when one of their jobs leaves the line (started, cancelled, never written), so later arrivals
 * are counted against who is really waiting.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/infra/redis.js';
import { fairRank, leaveLine } from '../../src/jobs/fair-share.js';
import { Keys } from '../../src/jobs/keys.js';
import { jobPriority } from '../../src/jobs/priority.js';
import { REDIS_URL } from '../helpers/harness.js';

let redis: Redis;
let keys: Keys;
beforeAll(() => { redis = createRedis(REDIS_URL(), 'fair-share-test'); });
afterAll(async () => { await redis?.quit(); });
beforeEach(() => { keys = new Keys(`fs${randomBytes(4).toString('hex')}`); });

const who = (user: string, workspace = 'W') => ({ platform: 'slack', workspace, user });
let n = 0;
const rank = (user: string, workspace = 'W', weight = 1) => fairRank(redis, keys, who(user, workspace), `j${++n}`, weight);

describe('fair share', () => {
  it('rounds per person, slots per workspace, weights give more turns', async () => {
    expect(await rank('ann')).toEqual({ round: 1, slot: 1 });
    expect(await rank('ann')).toEqual({ round: 2, slot: 1 });
    expect(await rank('bob')).toEqual({ round: 1, slot: 2 }); // ann reached round 1 too
    expect(await rank('ann')).toEqual({ round: 3, slot: 1 });
    expect(await rank('bob')).toEqual({ round: 2, slot: 2 });
    // Another workspace counts its own slots.
    expect(await rank('cy', 'V')).toEqual({ round: 1, slot: 1 });
    // Weight 2: two jobs in round 1 — the first is round 0.5 (the first of the workspace there), the second
    // round 1, after ann's and bob's.
    expect(await rank('dee', 'W', 2)).toEqual({ round: 0.5, slot: 1 });
    expect(await rank('dee', 'W', 2)).toEqual({ round: 1, slot: 3 });
  });

  it('a job that leaves the line lowers its owner’s round; a later arrival still comes after everyone who took a slot before it', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) { const id = `a${i}`; ids.push(id); await fairRank(redis, keys, who('ann'), id); }
    await fairRank(redis, keys, who('bob'), 'b0');
    expect(await rank('cy')).toEqual({ round: 1, slot: 3 }); // ann (round 3) and bob (round 1) are ahead in round 1
    expect((await rank('cy')).slot).toBe(2); // round 2: only ann has reached it
    // Two of ann's jobs start: she is at round 1 now; bob's job starts: he is gone.
    await leaveLine(redis, keys, who('ann'), ids[0]!);
    await leaveLine(redis, keys, who('ann'), ids[1]!);
    await leaveLine(redis, keys, who('bob'), 'b0');
    expect(await rank('dan')).toEqual({ round: 1, slot: 4 }); // after cy's slot 3, although bob has gone
    expect(await rank('dan')).toEqual({ round: 2, slot: 3 }); // after cy's round-2 job
    // Everything of ann's gone: she leaves the workspace's sets.
    await leaveLine(redis, keys, who('ann'), ids[2]!);
    expect(await redis.zscore(keys.workspaceLevels('slack', 'W'), 'ann')).toBeNull();
    expect(await redis.zscore(keys.workspaceWaiting('slack', 'W'), 'ann')).toBeNull();
    expect(await redis.zscore(keys.workspaceLevels('slack', 'W'), 'dan')).toBe('2');
  });

  it('in one workspace, a later arrival is never put ahead of people already waiting in the same round', async () => {
    // Five people queue one job each; three of them start; a sixth arrives while the other two still wait.
    const first = await Promise.all(['p1', 'p2', 'p3', 'p4', 'p5'].map(async (u) => ({ u, r: await fairRank(redis, keys, who(u), `${u}-1`) })));
    for (const { u } of first.slice(0, 3)) await leaveLine(redis, keys, who(u), `${u}-1`);
    const later = await rank('p6');
    const waiting = first.slice(3).map(({ r }) => r);
    for (const r of waiting) expect(jobPriority(later), `p6 ${JSON.stringify(later)} against ${JSON.stringify(r)}`).toBeGreaterThanOrEqual(jobPriority(r));
    // Once nobody of the workspace is waiting, the count starts over.
    for (const { u } of first.slice(3)) await leaveLine(redis, keys, who(u), `${u}-1`);
    await leaveLine(redis, keys, who('p6'), `j${n}`);
    expect(await rank('p7')).toEqual({ round: 1, slot: 1 });
  });

  it('ranking a job that is already waiting (a retried submit) changes nobody\'s place', async () => {
    expect(await rank('gil', 'R')).toEqual({ round: 1, slot: 1 });
    const o = who('hal', 'R');
    const first = await fairRank(redis, keys, o, 'h1');
    expect(first).toEqual({ round: 1, slot: 2 });
    const slots = await redis.hgetall(keys.workspaceSlots(o.platform, o.workspace));
    expect(await fairRank(redis, keys, o, 'h1')).toEqual(first);
    expect(await redis.hgetall(keys.workspaceSlots(o.platform, o.workspace))).toEqual(slots);
    // The next person of the workspace in the same round takes the third slot, not a fourth.
    expect(await rank('ida', 'R')).toEqual({ round: 1, slot: 3 });
  });

  it('jobs sent together are rounds 1, 2 and 3; a job that leaves lowers its owner\'s round', async () => {
    const o = who('eve');
    const rounds = await Promise.all(['e1', 'e2', 'e3'].map((id) => fairRank(redis, keys, o, id)));
    expect(rounds.map((r) => r.round).sort()).toEqual([1, 2, 3]);
    await leaveLine(redis, keys, o, 'e2');
    expect(Number(await redis.zscore(keys.workspaceLevels(o.platform, o.workspace), 'eve'))).toBe(2);
    // A job that was never written leaves: with nothing left waiting its owner leaves the workspace's sets.
    await fairRank(redis, keys, who('fay', 'X'), 'f1');
    await leaveLine(redis, keys, who('fay', 'X'), 'f1');
    expect(await redis.zscore(keys.workspaceLevels('slack', 'X'), 'fay')).toBeNull();
    expect(await rank('gus', 'X')).toEqual({ round: 1, slot: 1 });
  });
});
