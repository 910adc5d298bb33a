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
    // Weight 2: two jobs in round 1 and 0.5 … a second job is round 1, behind nobody who has not reached it.
    expect(await rank('dee', 'W', 2)).toEqual({ round: 0.5, slot: 3 });
    expect(await rank('dee', 'W', 2)).toEqual({ round: 1, slot: 3 });
  });

  it('a job that leaves the line lowers its owner’s round: a new arrival no longer counts them', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) { const id = `a${i}`; ids.push(id); await fairRank(redis, keys, who('ann'), id); }
    await fairRank(redis, keys, who('bob'), 'b0');
    expect(await rank('cy')).toEqual({ round: 1, slot: 3 }); // ann (round 3) and bob (round 1) are ahead in round 1
    expect((await rank('cy')).slot).toBe(2); // round 2: only ann has reached it
    // Two of ann's jobs start: she is at round 1 now; bob's job starts: he is gone.
    await leaveLine(redis, keys, who('ann'), ids[0]!);
    await leaveLine(redis, keys, who('ann'), ids[1]!);
    await leaveLine(redis, keys, who('bob'), 'b0');
    expect(await rank('dan')).toEqual({ round: 1, slot: 3 }); // ann (1) and cy (2)
    expect(await rank('dan')).toEqual({ round: 2, slot: 2 }); // cy only: ann dropped to round 1
    // Everything of ann's gone: she leaves the workspace's sets.
    await leaveLine(redis, keys, who('ann'), ids[2]!);
    expect(await redis.zscore(keys.workspaceLevels('slack', 'W'), 'ann')).toBeNull();
    expect(await redis.zscore(keys.workspaceWaiting('slack', 'W'), 'ann')).toBeNull();
    expect(await redis.zscore(keys.workspaceLevels('slack', 'W'), 'dan')).toBe('2');
  });

  it('jobs admitted together and not ranked yet do not count ahead of each other', async () => {
    const o = who('eve');
    // Admission adds each job to both sets (the quota script); ranking takes them out of the unranked one.
    await redis.sadd(keys.userWaiting(o.platform, o.workspace, o.user), 'e1', 'e2', 'e3');
    await redis.sadd(keys.userUnranked(o.platform, o.workspace, o.user), 'e1', 'e2', 'e3');
    const rounds = await Promise.all(['e1', 'e2', 'e3'].map((id) => fairRank(redis, keys, o, id)));
    expect(rounds.map((r) => r.round).sort()).toEqual([1, 2, 3]);
    // A job that was never written leaves while two are unranked — it is not counted as reached.
    await redis.sadd(keys.userWaiting(o.platform, 'X', 'fay'), 'f1', 'f2');
    await redis.sadd(keys.userUnranked(o.platform, 'X', 'fay'), 'f1', 'f2');
    await fairRank(redis, keys, who('fay', 'X'), 'f1');
    await leaveLine(redis, keys, who('fay', 'X'), 'f1');
    expect(await redis.zscore(keys.workspaceLevels('slack', 'X'), 'fay')).toBeNull();
    expect(await rank('gus', 'X')).toEqual({ round: 1, slot: 1 });
  });
});
