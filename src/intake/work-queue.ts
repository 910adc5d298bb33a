/**
 * Requests are routed off the request's critical path: a platform (or the Playground page) gets its answer
 * first, and the routing — parsing, counting tokens, admission — runs after, at most `concurrency` at a time.
 * Each task starts from `setImmediate`, i.e. after the event loop has taken the I/O waiting (new requests
 * and their answers), so a burst of commands does not hold back the acknowledgements of the others.
 */
export class WorkQueue {
  private readonly waiting: Array<() => Promise<void>> = [];
  private running = 0;

  constructor(private readonly concurrency: number) {}

  /** Tasks waiting or running. */
  get pending(): number { return this.waiting.length + this.running; }

  run<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push(() => task().then(resolve, reject));
      this.next();
    });
  }

  private next(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const task = this.waiting.shift()!;
      this.running++;
      setImmediate(() => {
        void task().finally(() => {
          this.running--;
          this.next();
        });
      });
    }
  }
}
