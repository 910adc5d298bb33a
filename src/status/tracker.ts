/**
 * The status tracker: the single writer of status messages, and only a renderer. Each tick it reads the line,
 * works out what every tracked job's message should say, and sends the edits the pacer allows (front of the
 * line first). How a job ended is decided by the job lifecycle (src/jobs/lifecycle.ts) — by delivery, by a
 * button, or, for a tracked job that is in the line no more, by asking the lifecycle to settle it; the tracker
 * shows the final state recorded, so no two writers ever race on a message. With several bot replicas, only
 * the holder of the Redis lease runs ticks.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ChatAdapter, StatusView } from '../chat/types.js';
import { statusHeadline } from '../chat/status-text.js';
import { isPermanent, isZimageError, retryAfterOf } from '../errors.js';
import { LeaderLock } from '../infra/leader-lock.js';
import type { Logger } from '../infra/logger.js';
import { isRedisUnavailable } from '../infra/redis-health.js';
import type { ObservabilityHooks } from '../jobs/hooks.js';
import type { Keys } from '../jobs/keys.js';
import type { GenerateJobData } from '../jobs/types.js';
import { EditPacer, type EditCandidate } from './edit-pacer.js';
import { estimateMs, placesInLine } from './line.js';
import { LineReader } from './line-reader.js';
import { replaceStatusMessage } from './replace-message.js';
import { readSpeed } from '../jobs/speed.js';
import type { JobLifecycle } from '../jobs/lifecycle.js';
import type { StatusRecord, StatusStore } from '../jobs/status-store.js';
import { liveWorkers } from '../jobs/workers.js';

const MAX_PARALLEL_EDITS = 8;
/** Delay of a nudged tick: lets a burst of finishing jobs share one tick. */
const NUDGE_MS = 15;
/** Attempts (per replica) to post a missing status message before leaving it to the result delivery. */
const MAX_POST_TRIES = 5;
/** A job this young without a status message is being posted by the bot that accepted it (submit.ts). */
const POST_GRACE_MS = 5000;

export interface TrackerDeps {
  redis: Redis;
  keys: Keys;
  queue: Queue<GenerateJobData>;
  store: StatusStore;
  lifecycle: JobLifecycle;
  adapters: ReadonlyMap<string, ChatAdapter>;
  tickMs: number;
  /**
   * Per-platform overrides of the pacing (settings `status`: the least time between two edits of one message,
   * edits per workspace per minute), read at every tick so a settings reload applies at once.
   */
  pacing?: () => { minEditIntervalMs: Readonly<Record<string, number>>; editsPerMinute: Readonly<Record<string, number>> };
  hooks?: ObservabilityHooks;
  log: Logger;
}

interface Planned { rec: StatusRecord; view: StatusView; rank: number }

export class StatusTracker {
  private readonly reader: LineReader;
  private readonly lock: LeaderLock;
  private readonly pacers = new Map<string, EditPacer>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly postTries = new Map<string, { n: number; next: number }>();
  /**
   * Status records of the tracked jobs. A record changes only when its message is posted (here, or by the
   * bot that accepted the job) and when its job ends (listed in the store's `ended` set), so a tick reads
   * only new jobs, ended jobs and jobs still without a message — not every job in a long line.
   */
  private readonly records = new Map<string, StatusRecord>();
  /** Status messages the platform refused to edit for good (deleted, the bot shut out), with their job. */
  private readonly refused = new Map<string, string>();

  constructor(private readonly deps: TrackerDeps) {
    this.reader = new LineReader(deps.queue);
    this.lock = new LeaderLock(deps.redis, deps.keys.trackerLock(), Math.max(5000, deps.tickMs * 6));
  }

  start(): void {
    this.stopped = false;
    void this.loop();
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    this.timer = undefined;
    this.running = this.runOnce();
    await this.running;
    if (!this.stopped) this.timer = setTimeout(() => void this.loop(), this.deps.tickMs);
  }

  /**
   * Something ended (a delivery recorded a final state): look again soon instead of at the next tick, so
   * "Done" follows the image at once. Does nothing while a tick is running (it will see the change).
   */
  nudge(): void {
    if (this.stopped || !this.timer) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.loop(), NUDGE_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.lock.release().catch(() => undefined);
  }

  /** One tick, if this replica is the leader. Errors are logged, never thrown: the next tick tries again. */
  async runOnce(now = Date.now()): Promise<void> {
    try {
      if (!(await this.lock.hold())) {
        this.records.clear(); // another replica writes meanwhile; read afresh when this one leads again
        return;
      }
      await this.tick(now);
    } catch (err) {
      // An outage is logged once by the Redis watch; the next tick tries again either way.
      if (isRedisUnavailable(err)) this.deps.log.debug({ err }, 'status tracker tick skipped: Redis unreachable');
      else this.deps.log.warn({ err }, 'status tracker tick failed');
    }
  }

  private pacer(platform: string, adapter: ChatAdapter): EditPacer {
    const overrides = this.deps.pacing?.();
    const interval = overrides?.minEditIntervalMs[platform];
    const perMinute = overrides?.editsPerMinute[platform];
    const want = {
      minIntervalMs: interval ?? adapter.pacing.minIntervalMs, perWorkspacePerMinute: perMinute ?? adapter.pacing.perWorkspacePerMinute,
    };
    let p = this.pacers.get(platform);
    if (!p) {
      p = new EditPacer(want);
      this.pacers.set(platform, p);
    } else if (p.limits.minIntervalMs !== want.minIntervalMs || p.limits.perWorkspacePerMinute !== want.perWorkspacePerMinute) {
      p.reconfigure(want);
    }
    return p;
  }

  private async tick(now: number): Promise<void> {
    const { store } = this.deps;
    const [ids, ended] = await Promise.all([store.trackedIds(), store.endedIds()]);
    if (ids.length === 0) { this.records.clear(); return; }
    const endedNow = new Set(ended);
    const toRead = ids.filter((id) => { const r = this.records.get(id); return !r || !r.message || endedNow.has(id); });
    const [fresh, line, msPerUnit, workers] = await Promise.all([
      store.getMany(toRead), this.reader.read(), readSpeed(this.deps.redis, this.deps.keys), liveWorkers(this.deps.redis, this.deps.keys, now),
    ]);
    for (const id of toRead) {
      const rec = fresh.get(id);
      if (rec) this.records.set(id, rec);
      else this.records.delete(id);
    }
    if (this.records.size > ids.length) {
      const live = new Set(ids);
      for (const id of this.records.keys()) if (!live.has(id)) this.records.delete(id);
    }
    for (const [message, jobId] of this.refused) if (!this.records.has(jobId)) this.refused.delete(message);
    const places = placesInLine(line);
    const active = new Map(line.active.map((j) => [j.id, j]));
    const ownUnits = new Map(line.waiting.map((j) => [j.id, j.units]));
    const planned: Planned[] = [];
    for (const id of ids) {
      const rec = this.records.get(id);
      if (!rec) { await store.forget(id); continue; }
      if (rec.final) { planned.push({ rec, view: rec.final, rank: 0 }); continue; }
      const run = active.get(id);
      if (run) {
        const p = run.progress;
        planned.push({ rec, rank: 1, view: { phase: 'generating', jobId: id, image: p?.image ?? 1, count: p?.count ?? run.count, step: p?.step ?? 0, steps: p?.steps ?? run.steps } });
        continue;
      }
      const place = places.get(id);
      if (place) {
        const etaMs = estimateMs(place, ownUnits.get(id) ?? 0, msPerUnit, workers);
        planned.push({ rec, rank: 2 + place.position, view: { phase: 'queued', jobId: id, position: place.position, total: place.total, etaMs } });
        continue;
      }
      const view = await this.deps.lifecycle.settle(id, rec, now);
      if (view) planned.push({ rec, view, rank: view.phase === 'finishing' ? 1 : 0 });
    }
    await this.ensurePosted(planned, now);
    await this.sendEdits(planned, now);
  }

  /**
   * Jobs whose status message was never posted (e.g. the bot stopped right after queueing) get one now.
   * A platform that keeps refusing (the bot was removed from the channel) is asked a few times, spaced out.
   */
  private async ensurePosted(planned: Planned[], now: number): Promise<void> {
    for (const p of planned) {
      if (p.rec.message || now - p.rec.acceptedAt < POST_GRACE_MS) continue;
      const tries = this.postTries.get(p.rec.jobId) ?? { n: 0, next: 0 };
      if (tries.n >= MAX_POST_TRIES) {
        // Give up on this message; a final job stops being tracked (its images were delivered or it failed).
        if (isFinal(p.view)) { await this.deps.store.close(p.rec.jobId, p.view); this.postTries.delete(p.rec.jobId); }
        continue;
      }
      if (now < tries.next) continue;
      this.postTries.set(p.rec.jobId, { n: tries.n + 1, next: now + 2000 * 2 ** tries.n });
      const adapter = this.deps.adapters.get(p.rec.platform);
      if (!adapter) continue;
      try {
        const message = await adapter.postStatus(p.rec.thread, p.view, p.rec.locale);
        p.rec.message = message;
        await this.deps.store.setMessage(p.rec.jobId, message);
        this.postTries.delete(p.rec.jobId);
        this.pacer(p.rec.platform, adapter).shown(message, statusHeadline(p.view, p.rec.locale), now);
        if (isFinal(p.view)) await this.deps.store.close(p.rec.jobId, p.view);
      } catch (err) {
        this.deps.log.warn({ err, jobId: p.rec.jobId }, 'could not post status message');
      }
    }
  }

  private async sendEdits(planned: Planned[], now: number): Promise<void> {
    const byPlatform = new Map<string, Planned[]>();
    for (const p of planned) {
      if (!p.rec.message) continue;
      if (this.refused.has(p.rec.message)) {
        // Not edited again; an ended job stops being tracked (its end was recorded, and its images delivered).
        if (isFinal(p.view)) await this.deps.store.close(p.rec.jobId, p.view);
        continue;
      }
      const list = byPlatform.get(p.rec.platform) ?? [];
      list.push(p);
      byPlatform.set(p.rec.platform, list);
    }
    const tasks: Array<() => Promise<void>> = [];
    for (const [platform, list] of byPlatform) {
      const adapter = this.deps.adapters.get(platform);
      if (!adapter) continue;
      const pacer = this.pacer(platform, adapter);
      const byMessage = new Map<string, Planned>();
      const candidates: EditCandidate[] = list.map((p) => {
        byMessage.set(p.rec.message!, p);
        return { message: p.rec.message!, workspace: p.rec.workspace, key: statusHeadline(p.view, p.rec.locale) + (isFinal(p.view) ? '\u0000final' : ''), rank: p.rank };
      });
      for (const c of pacer.plan(candidates, now)) {
        const p = byMessage.get(c.message)!;
        // The send happens now, not at the tick's start: the per-minute budget window must not run early.
        pacer.begin(c, Date.now());
        tasks.push(async () => {
          try {
            await adapter.updateStatus(c.message, p.view, p.rec.locale);
            pacer.end(c, true, Date.now());
            this.deps.hooks?.statusEdit(platform, 'ok');
            if (isFinal(p.view) && await this.deps.store.close(p.rec.jobId, p.view)) pacer.forget(c.message);
          } catch (err) {
            this.deps.hooks?.statusEdit(platform, isZimageError(err, 'RATE_LIMITED') ? 'rate_limited' : 'error');
            if (isZimageError(err, 'MESSAGE_NOT_EDITABLE')) { await replaceStatusMessage(this.deps, adapter, pacer, c, p.rec, p.view, isFinal(p.view)); return; }
            if (isPermanent(err)) {
              // Asking again cannot help (the message was deleted, the bot was removed from the channel).
              this.refused.set(c.message, p.rec.jobId);
              pacer.forget(c.message);
              this.deps.log.warn({ err, jobId: p.rec.jobId, platform }, 'status edit refused for good; this message is not edited again');
              return;
            }
            const retryAfterMs = retryAfterOf(err);
            pacer.end(c, false, Date.now(), retryAfterMs);
            this.deps.log.warn({ err, jobId: p.rec.jobId, platform }, 'status edit failed; will retry');
          }
        });
      }
    }
    await runLimited(tasks, MAX_PARALLEL_EDITS);
  }
}

function isFinal(view: StatusView): boolean {
  return view.phase === 'done' || view.phase === 'failed' || view.phase === 'cancelled';
}

async function runLimited(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, tasks.length) }, async () => {
    while (next < tasks.length) await tasks[next++]!();
  });
  await Promise.all(lanes);
}
