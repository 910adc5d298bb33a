/**
 * The explicit signal a "delivered once" check waits for, instead of a fixed sleep: nothing in the bot's queues
 * can post anything any more. No generation is waiting or running (a run hands over a delivery), and no delivery
 * is waiting, delayed or running — the durable deliver job stays until its delivery is done, by the fast lane
 * (which removes it) or by itself, and a fast-lane offer is made together with it (src/delivery/handoff.ts).
 * Once this holds, a second image or status message cannot arrive.
 *
 * Read from the bot's /metrics (zimage_queue_jobs), so it serves a bot in another process as well.
 */
import { setTimeout as sleep } from 'node:timers/promises';

const PENDING = ['waiting', 'prioritized', 'active', 'delayed'];

/** The jobs still pending in the bot's queues, e.g. `{ 'deliver:delayed': 1 }` (empty when nothing is). */
export async function pendingJobs(base: string): Promise<Record<string, number>> {
  const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET /metrics → ${res.status}`);
  const pending: Record<string, number> = {};
  for (const m of (await res.text()).matchAll(/^zimage_queue_jobs\{queue="([^"]+)",state="([^"]+)"\} (\d+)$/gm)) {
    if (PENDING.includes(m[2]!) && Number(m[3]) > 0) pending[`${m[1]}:${m[2]}`] = Number(m[3]);
  }
  return pending;
}

/**
 * Wait until nothing is left to deliver (see above). The default timeout is past the durable job's 30 s grace:
 * a durable job left behind runs within it, so whatever it would post shows up before this returns.
 */
export async function untilNothingLeftToDeliver(base: string, timeoutMs = 45_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: Record<string, number> | string = 'no answer yet';
  for (;;) {
    // A bot that is restarting, or has Redis unreachable for a moment, answers later.
    last = await pendingJobs(base).catch((err: unknown) => String(err));
    if (typeof last !== 'string' && Object.keys(last).length === 0) return;
    if (Date.now() > until) throw new Error(`still pending after ${timeoutMs} ms: ${JSON.stringify(last)}`);
    await sleep(100);
  }
}
