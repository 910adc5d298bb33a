/** Schedule definitions in Redis: who owns it, where it posts, which template with which variables. */
import type { Redis } from 'ioredis';
import type { Keys } from '../jobs/keys.js';
import type { ChannelKind } from '../jobs/types.js';
import type { Period } from '../quota/windows.js';

export interface ScheduleDef {
  id: string;
  platform: string;
  workspace: string;
  /** The channel the runs post into. */
  channel: string;
  /** What that channel is, when known (the schedule was added in it); otherwise its images count as private. */
  channelKind?: ChannelKind;
  owner: string;
  ownerName?: string;
  locale: string;
  cron: string;
  tz: string;
  template: string;
  /** Fixed variables. */
  vars: Record<string, string>;
  /** Variables that rotate through a list, one value per run. */
  rotate: Record<string, string[]>;
  paused: boolean;
  createdAt: number;
  /** A usage report (`schedule add "0 9 * * 1" usage week #managers`) instead of a generation: the previous window's figures and chart. */
  kind?: 'usage';
  usage?: { period: Period };
}

export class ScheduleStore {
  private readonly key: string;
  private readonly runsKey: string;
  constructor(private readonly redis: Redis, keys: Keys) {
    this.key = `${keys.root}:schedules`;
    this.runsKey = `${keys.root}:schedule-runs`;
  }

  async save(def: ScheduleDef): Promise<void> {
    await this.redis.hset(this.key, def.id, JSON.stringify(def));
  }

  async get(id: string): Promise<ScheduleDef | null> {
    const raw = await this.redis.hget(this.key, id);
    return raw ? (JSON.parse(raw) as ScheduleDef) : null;
  }

  async list(platform: string, workspace: string): Promise<ScheduleDef[]> {
    const all = Object.values(await this.redis.hgetall(this.key)).map((r) => JSON.parse(r) as ScheduleDef);
    return all.filter((d) => d.platform === platform && d.workspace === workspace).sort((a, b) => a.createdAt - b.createdAt);
  }

  async remove(id: string): Promise<void> {
    await this.redis.multi().hdel(this.key, id).hdel(this.runsKey, id).exec();
  }

  /** Count one more run; returns the 1-based run number (drives rotation). */
  async nextRun(id: string): Promise<number> {
    return this.redis.hincrby(this.runsKey, id, 1);
  }
}
