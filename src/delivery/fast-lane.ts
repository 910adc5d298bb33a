/**
 * The bot side of the fast lane (handoff.ts): block on the list of offered deliveries and deliver each one
 * the moment it arrives. One bot takes each offer (BRPOP). On success the durable `deliver` job is removed;
 * on failure it is set to run after the first retry's backoff, so the retries, backoff and dead letters of
 * the durable path take over. After Redis was away, offers may have been lost on the way (pushed or popped as
 * it went): once no lane may take them any more, the lane runs their durable jobs instead of leaving them to
 * the end of their grace.
 */
import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../infra/logger.js';
import { isRedisUnavailable } from '../infra/redis-health.js';
import type { Keys } from '../jobs/keys.js';
import { deliverJobId } from '../jobs/queues.js';
import type { DeliverJobData } from '../jobs/types.js';
import type { DeliverWorker } from './deliver-worker.js';
import { isPermanent } from '../errors.js';
import { FAST_LANE, type Offer } from './handoff.js';
import { DELIVERY_BACKOFF, deliveryBackoff } from './backoff.js';

export interface FastLaneOptions {
  /** A connection of its own: BRPOP blocks it. */
  blocking: Redis;
  /** For the lease and for the durable job (the deliver worker's connection). */
  connection: Redis;
  keys: Keys;
  queue: Queue<DeliverJobData>;
  deliver: DeliverWorker;
  log: Logger;
  /** Deliveries in flight at once; further offers wait on the list (default 16). */
  concurrency?: number;
}

/** Seconds a BRPOP waits before looking at `stop` again. */
const POLL_S = 1;

export class FastLane {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private freed: (() => void) | undefined;
  /** The look for offers lost in an outage, due once the lane could no longer take them. */
  private recovery: NodeJS.Timeout | undefined;

  constructor(private readonly o: FastLaneOptions) {}

  async start(): Promise<void> {
    this.running = true;
    // The lane's own connection tells when Redis was away (its BRPOP is just sent again, it does not fail).
    let away = false;
    this.o.blocking.on('close', () => { if (this.running) away = true; });
    this.o.blocking.on('ready', () => {
      if (!away) return;
      away = false;
      this.afterOutage();
    });
    this.loop = this.run();
    await this.promoteLeftovers('fast lane: delivering what arrived while no bot was running');
  }

  /**
   * Offers no bot took (all bots were down) wait for their grace; a bot that starts runs them at once.
   * Only offers too old for the lane: a fresh one may be on its way through a lane right now.
   */
  private async promoteLeftovers(why: string): Promise<void> {
    const jobs = await this.o.queue.getDelayed(0, 999).catch(() => []);
    const cutoff = Date.now() - FAST_LANE.staleMs;
    const waiting = jobs.filter((j) => j.attemptsMade === 0 && j.timestamp < cutoff);
    await Promise.all(waiting.map((j) => j.promote().catch(() => undefined)));
    if (waiting.length > 0) this.o.log.info({ deliveries: waiting.length }, why);
  }

  /** Redis answers again: once offers made before or during the outage are too old for any lane, run their durable jobs. */
  private afterOutage(): void {
    if (this.recovery) return;
    this.recovery = setTimeout(() => {
      this.recovery = undefined;
      if (this.running) void this.promoteLeftovers('fast lane: delivering what Redis being away may have kept from the lane');
    }, FAST_LANE.staleMs + 500);
    this.recovery.unref();
  }

  /** Stop taking offers and let the deliveries in flight finish. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.recovery);
    this.o.blocking.disconnect();
    this.freed?.();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    const max = this.o.concurrency ?? 16;
    while (this.running) {
      if (this.inFlight.size >= max) {
        await new Promise<void>((ok) => { this.freed = ok; });
        continue;
      }
      let popped: [string, string] | null;
      try {
        popped = await this.o.blocking.brpop(this.o.keys.deliverReady(), POLL_S);
      } catch (err) {
        if (!this.running) break;
        if (!isRedisUnavailable(err)) this.o.log.warn({ err }, 'fast lane: could not read offers; retrying');
        await new Promise((ok) => setTimeout(ok, 1000));
        continue;
      }
      const offer = popped ? parseOffer(popped[1]) : null;
      // An old offer is the durable job's (it may be running already).
      if (!offer || Date.now() - offer.offeredAt > FAST_LANE.staleMs) continue;
      const p = this.take(offer).finally(() => {
        this.inFlight.delete(p);
        this.freed?.();
        this.freed = undefined;
      });
      this.inFlight.add(p);
    }
  }

  private async take(offer: Offer): Promise<void> {
    const { jobId } = offer.data;
    const lease = this.o.keys.deliveryLease(jobId);
    const durableId = deliverJobId(jobId);
    // The lease is written on the way (not waited for): the durable job cannot run before the grace ends.
    this.o.connection.set(lease, 'fast', 'PX', FAST_LANE.leaseMs).catch(() => undefined);
    try {
      await this.o.deliver.deliver(offer.data, { queuedAt: offer.offeredAt, firstRun: true, path: 'fast_lane' });
    } catch (err) {
      // Counted; a refusal no retry could change is final at once (dead-lettered, and no durable job left).
      const final = isPermanent(err);
      await this.o.deliver.recordFailure(offer.data, { deliveryId: durableId, attemptsMade: final ? 1 : 0, queuedAt: offer.offeredAt }, err, final);
      if (!final) {
        await this.o.connection.del(lease).catch(() => undefined);
        // The durable job runs after the same backoff as its own first retry (a platform's Retry-After included).
        const job = await Job.fromId(this.o.queue, durableId).catch(() => undefined);
        if (job) await job.changeDelay(deliveryBackoff(1, DELIVERY_BACKOFF, err as Error, job)).catch(() => undefined);
        return;
      }
    }
    await this.o.queue.remove(durableId).catch(() => undefined);
    await this.o.connection.del(lease).catch(() => undefined);
  }
}

function parseOffer(raw: string): Offer | null {
  try {
    const o = JSON.parse(raw) as Offer;
    return o && typeof o.offeredAt === 'number' && o.data && typeof o.data.jobId === 'string' ? o : null;
  } catch {
    return null;
  }
}
