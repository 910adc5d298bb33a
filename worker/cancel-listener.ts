import type { Redis } from 'ioredis';

/** Listens for cancel requests (published by any bot replica) and stops the job if this worker runs it. */
export class CancelListener {
  constructor(private readonly sub: Redis, private readonly channel: string, private readonly cancel: (jobId: string) => boolean) {}

  async start(): Promise<void> {
    this.sub.on('message', (channel: string, jobId: string) => {
      if (channel === this.channel) this.cancel(jobId);
    });
    await this.sub.subscribe(this.channel);
  }

  /** Ignore further cancel requests (the connection is closed by its owner). */
  stopListening(): void {
    this.sub.removeAllListeners('message');
  }
}
