import type { Queue } from 'bullmq';
import type { GenerateJobData, GenerateProgress } from '../jobs/types.js';
import { workUnits, type LineSnapshot } from './line.js';

/** What the line needs to know of a job; job data never changes, so it is cached by id. */
interface JobFacts { units: number; steps: number; count: number }

function isProgress(p: unknown): p is GenerateProgress {
  return typeof p === 'object' && p !== null && 'step' in p && 'steps' in p;
}

function facts(d: GenerateJobData): JobFacts {
  return { units: workUnits(d.params), steps: d.params.steps, count: d.params.count };
}

/** Takes snapshots of the `generate` queue in processing order (see facts §3 on BullMQ priorities). */
export class LineReader {
  private readonly facts = new Map<string, JobFacts>();
  constructor(private readonly queue: Queue<GenerateJobData>) {}

  async read(): Promise<LineSnapshot> {
    const [active, waitingIds] = await Promise.all([
      this.queue.getActive(),
      this.queue.getRanges(['wait', 'prioritized'], 0, -1, true),
    ]);
    const missing = waitingIds.filter((id) => !this.facts.has(id));
    const fetched = await Promise.all(missing.map((id) => this.queue.getJob(id)));
    fetched.forEach((job, i) => {
      if (job?.data?.params) this.facts.set(missing[i]!, facts(job.data));
    });
    for (const job of active) {
      if (job.id && job.data?.params && !this.facts.has(job.id)) this.facts.set(job.id, facts(job.data));
    }
    const live = new Set<string>([...waitingIds, ...active.map((j) => j.id ?? '')]);
    for (const id of this.facts.keys()) if (!live.has(id)) this.facts.delete(id);
    return {
      active: active.filter((j) => j.id).map((j) => ({
        id: j.id!,
        units: this.facts.get(j.id!)?.units ?? 0,
        steps: this.facts.get(j.id!)?.steps ?? 0,
        count: this.facts.get(j.id!)?.count ?? 1,
        progress: isProgress(j.progress) ? j.progress : null,
      })),
      waiting: waitingIds.map((id) => ({ id, units: this.facts.get(id)?.units ?? 0 })),
    };
  }
}
