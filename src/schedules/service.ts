/**
 * Scheduled generations on BullMQ Job Schedulers: each schedule is one scheduler (cron + time zone) on the
 * `schedules` queue whose runs any bot replica may take — BullMQ hands each run to exactly one. The
 * definitions live in Redis beside it, so schedules survive restarts. Pause removes the scheduler and keeps
 * the definition; resume puts it back.
 */
import { randomHex } from '../infra/random-ids.js';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ScheduleDef, ScheduleStore } from './store.js';
import { quiet } from '../jobs/queues.js';

export const SCHEDULES_QUEUE = 'schedules';

export interface ScheduleRunData { scheduleId: string }

export class ScheduleService {
  readonly queue: Queue<ScheduleRunData>;

  constructor(connection: Redis, prefix: string, private readonly store: ScheduleStore) {
    this.queue = quiet(new Queue<ScheduleRunData>(SCHEDULES_QUEUE, { connection, prefix }));
  }

  static newId(): string {
    return `s${randomHex(3)}`;
  }

  async add(def: ScheduleDef): Promise<void> {
    await this.store.save(def);
    if (!def.paused) await this.arm(def);
  }

  private async arm(def: ScheduleDef): Promise<void> {
    await this.queue.upsertJobScheduler(def.id, { pattern: def.cron, tz: def.tz }, {
      name: 'scheduled-run',
      data: { scheduleId: def.id },
      opts: { removeOnComplete: { count: 200 }, removeOnFail: { count: 200 } },
    });
  }

  async setPaused(def: ScheduleDef, paused: boolean): Promise<void> {
    const next = { ...def, paused };
    await this.store.save(next);
    if (paused) await this.queue.removeJobScheduler(def.id);
    else await this.arm(next);
  }

  async remove(def: ScheduleDef): Promise<void> {
    await this.queue.removeJobScheduler(def.id);
    await this.store.remove(def.id);
  }

  /** Next run time BullMQ has planned (null while paused). */
  async nextRunAt(id: string): Promise<number | null> {
    const s = await this.queue.getJobScheduler(id);
    return s?.next ?? null;
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
