/**
 * Decides which status edits go out now. Coalescing rules:
 * - an edit is sent only when its rendered text differs from what the message shows;
 * - one message is edited at most once per `minIntervalMs`, never twice at the same time — except for its final
 *   state, which goes out at once (it is the message's last edit, and the image is already in the thread);
 * - a workspace gets at most `perWorkspacePerMinute` edits in any 60 s window (platform rate limits), spread
 *   over the minute: a burst of at most one second's share (at least 3), then the rest as it accrues — so a long
 *   line does not spend the minute's budget at once (leaving the jobs that finish next waiting for the window)
 *   and a tick never sends hundreds of edits in one go;
 * - when the budget is short, final states go first, then running jobs, then the front of the line;
 * - a refused edit (HTTP 429 with Retry-After) holds its message back for the time asked, final or not.
 * Anything not sent now stays pending and is re-offered next tick with its newest text (last state wins).
 */
import type { EditPacing } from '../chat/types.js';

export interface EditCandidate {
  message: string;
  workspace: string;
  /** The rendered text (or any string that changes exactly when the rendering changes). */
  key: string;
  /** Lower goes first: 0 final, 1 running, 2 + position for queued jobs. */
  rank: number;
}

interface MessageState { key: string | null; at: number; inFlight: boolean; heldUntil: number }

const WINDOW_MS = 60_000;

export class EditPacer {
  private readonly messages = new Map<string, MessageState>();
  private readonly windows = new Map<string, number[]>();
  /** Per workspace: edits that may go out now (refilled at perWorkspacePerMinute / 60 s, up to `burst`). */
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private pacing: EditPacing;
  private burst: number;

  constructor(pacing: EditPacing) {
    this.pacing = pacing;
    this.burst = burstOf(pacing);
  }

  /** The limits in force (a settings reload may change them: see `reconfigure`). */
  get limits(): EditPacing { return this.pacing; }

  /** New limits from now on; what was sent and what is pending stay as they are. */
  reconfigure(pacing: EditPacing): void {
    this.pacing = pacing;
    this.burst = burstOf(pacing);
  }

  /** The candidates to send now, in send order. Call `begin` for each one actually sent. */
  plan(candidates: EditCandidate[], now: number): EditCandidate[] {
    const due = candidates
      .filter((c) => {
        const m = this.messages.get(c.message);
        if (!m) return true;
        if (m.inFlight || m.key === c.key || now < m.heldUntil) return false;
        return c.rank === 0 || now - m.at >= this.pacing.minIntervalMs;
      })
      .sort((a, b) => a.rank - b.rank);
    const budget = new Map<string, number>();
    const chosen: EditCandidate[] = [];
    for (const c of due) {
      let left = budget.get(c.workspace);
      if (left === undefined) {
        const recent = this.recent(c.workspace, now);
        left = Math.min(this.pacing.perWorkspacePerMinute - recent.length, Math.floor(this.bucket(c.workspace, now).tokens));
      }
      if (left <= 0) { budget.set(c.workspace, 0); continue; }
      budget.set(c.workspace, left - 1);
      chosen.push(c);
    }
    return chosen;
  }

  /** Mark an edit as started (counts against the budget immediately). */
  begin(c: EditCandidate, now: number): void {
    const m = this.messages.get(c.message) ?? { key: null, at: 0, inFlight: false, heldUntil: 0 };
    m.inFlight = true;
    m.at = now;
    this.messages.set(c.message, m);
    this.recent(c.workspace, now).push(now);
    this.bucket(c.workspace, now).tokens -= 1;
  }

  /** Mark an edit as finished; on failure the text is not recorded, so it will be retried. */
  end(c: EditCandidate, ok: boolean, now: number, retryAfterMs = 0): void {
    const m = this.messages.get(c.message);
    if (!m) return;
    m.inFlight = false;
    if (ok) m.key = c.key;
    if (!ok) {
      // After a refusal (e.g. HTTP 429 Retry-After) hold this message back for the time asked, then let it go at once.
      m.heldUntil = now + Math.max(0, retryAfterMs);
      m.at = m.heldUntil - this.pacing.minIntervalMs;
    }
  }

  /** Tell the pacer what a message shows without sending an edit (e.g. the first post). */
  shown(message: string, key: string, now: number): void {
    this.messages.set(message, { key, at: now, inFlight: false, heldUntil: 0 });
  }

  forget(message: string): void {
    this.messages.delete(message);
  }

  private bucket(workspace: string, now: number): { tokens: number; at: number } {
    let b = this.buckets.get(workspace);
    if (!b) {
      b = { tokens: this.burst, at: now };
      this.buckets.set(workspace, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + (Math.max(0, now - b.at) * this.pacing.perWorkspacePerMinute) / WINDOW_MS);
    b.at = Math.max(b.at, now);
    return b;
  }

  private recent(workspace: string, now: number): number[] {
    const list = (this.windows.get(workspace) ?? []).filter((t) => now - t < WINDOW_MS);
    this.windows.set(workspace, list);
    return list;
  }
}

function burstOf(pacing: EditPacing): number {
  return Math.max(3, Math.ceil(pacing.perWorkspacePerMinute / 60));
}
