/**
 * Requests are routed off the request's critical path: a platform (or the Playground page) gets its answer
 * first, and the routing — parsing, counting tokens, admission — runs after, at most `concurrency` at a time.
 * Tasks start only once `ready` says so (the bot passes "the HTTP server has answered what it received", see
 * HttpServer.answered; by default the next turn of the event loop), so a burst of commands is acknowledged
 * first and routed after, instead of every acknowledgement waiting behind the routing of the others.
 */
export class WorkQueue {
  private readonly waiting: Array<() => Promise<void>> = [];
  private running = 0;
  private gating = false;

  constructor(private readonly concurrency: number, private readonly ready: () => Promise<void> = nextTurn) {}

  /** Tasks waiting or running. */
  get pending(): number { return this.waiting.length + this.running; }

  run<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push(() => task().then(resolve, reject));
      this.next();
    });
  }

  private next(): void {
    if (this.gating || this.running >= this.concurrency || this.waiting.length === 0) return;
    this.gating = true;
    void this.ready().catch(() => undefined).then(() => {
      this.gating = false;
      while (this.running < this.concurrency && this.waiting.length > 0) {
        const task = this.waiting.shift()!;
        this.running++;
        void task().finally(() => {
          this.running--;
          this.next();
        });
      }
    });
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
