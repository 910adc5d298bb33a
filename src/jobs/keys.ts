/** Every Redis key the core owns (BullMQ owns `<prefix>:<queue>:*`; ours live under `<prefix>:bot:*`). */
export class Keys {
  readonly root: string;
  constructor(readonly prefix: string) {
    this.root = `${prefix}:bot`;
  }
  /** Idempotency marker for a platform event id (SET NX, TTL > 6 h). */
  event(eventId: string): string { return `${this.root}:event:${eventId}`; }
  /** Hash: status message reference, platform, locale, final view of a job. */
  status(jobId: string): string { return `${this.root}:status:${jobId}`; }
  /** Sorted set of jobs whose status message is not final yet (score = accepted time). */
  tracked(): string { return `${this.root}:tracked`; }
  /** Sorted set of tracked jobs whose final state is recorded but not shown yet (score = time). */
  ended(): string { return `${this.root}:ended`; }
  /** Set of one user's jobs still waiting to start (drives fair-share priority). */
  userWaiting(platform: string, workspace: string, user: string): string {
    return `${this.root}:waiting:${platform}:${workspace}:${user}`;
  }
  /** The members of one workspace that have jobs waiting, score = their role's weight (fair share, src/jobs/fair-share.ts). */
  workspaceWaiting(platform: string, workspace: string): string {
    return `${this.root}:wswaiting:${platform}:${workspace}`;
  }
  /** The same members, score = the round they have reached (ranked waiting jobs / weight; src/jobs/fair-share.ts). */
  workspaceLevels(platform: string, workspace: string): string {
    return `${this.root}:wslevels:${platform}:${workspace}`;
  }
  /** Per round (in tenths): how many jobs of the workspace took a slot in it since nobody there last waited at it. */
  workspaceSlots(platform: string, workspace: string): string {
    return `${this.root}:wsslots:${platform}:${workspace}`;
  }
  /** BullMQ's hash of a `generate` job (BullMQ owns it; the quota script checks a waiting job still exists). */
  generateJob(jobId: string): string { return `${this.prefix}:generate:${jobId}`; }
  /** Sorted set of live workers, score = last heartbeat (ms). */
  workers(): string { return `${this.root}:workers`; }
  /** Hash of rolling generation statistics. */
  stats(): string { return `${this.root}:stats`; }
  /** Set of image indexes of a job already posted to its thread. */
  delivered(jobId: string): string { return `${this.root}:delivered:${jobId}`; }
  /** Marker: the job's delivery has finished (every image posted and the final state recorded). */
  deliveryDone(jobId: string): string { return `${this.root}:delivered:${jobId}:done`; }
  /** Marker: the job's delivery was offered to the fast lane (at most once per job). */
  deliveryOffered(jobId: string): string { return `${this.root}:delivered:${jobId}:offered`; }
  /** Lease of the fast lane on a job's delivery (the durable `deliver` job waits while it is held). */
  deliveryLease(jobId: string): string { return `${this.root}:delivered:${jobId}:lease`; }
  /** List of deliveries offered to the bots' fast lane (JSON, newest first). */
  deliverReady(): string { return `${this.root}:deliver:ready`; }
  /** Pub/sub channel asking whichever worker runs a job to stop it. */
  cancelChannel(): string { return `${this.root}:cancel`; }
  /** Leader lease of the status tracker. */
  trackerLock(): string { return `${this.root}:lock:tracker`; }
  /** Sorted set of recently finished jobs (score = time): p95 wait, mean response, failure rate (src/observability). */
  recentJobs(): string { return `${this.root}:obs:recent`; }
  /** List of deliveries that kept failing (newest first). */
  deadLetters(): string { return `${this.root}:obs:deadletters`; }
  /** Hash worker id → GPU memory sample (JSON), written by workers that have nvidia-smi. */
  gpu(): string { return `${this.root}:obs:gpu`; }
  /** List of delivered jobs' images (JSON) waiting to be written to the image index while its database is away. */
  libraryPending(): string { return `${this.root}:library:pending`; }
  /** List of jobs' images the image index refused for what they hold (newest first, bounded): never retried. */
  libraryRejected(): string { return `${this.root}:library:rejected`; }
  /** Leader lease of a named singleton (alerts, asset retention). */
  lock(name: string): string { return `${this.root}:lock:${name}`; }
}
