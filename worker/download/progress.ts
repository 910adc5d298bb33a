/**
 * Download progress: bars on a terminal (cli-progress: one per active file and a total, with bytes, speed and
 * time left), plain lines every few seconds otherwise (logs, CI). Speed is averaged over the last ~10 s.
 */
import cliProgress from 'cli-progress';

export interface ProgressSink {
  begin(total: number, done: number): void;
  fileStart(path: string, size: number): void;
  bytes(path: string, delta: number): void;
  fileDone(path: string, note: string): void;
  notice(message: string): void;
  end(): void;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = Math.max(0, n);
  let u = 0;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  return `${v.toFixed(u === 0 ? 0 : v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

/** Bytes per second over a sliding window of samples. */
class Rate {
  private readonly samples: Array<[number, number]> = [];
  constructor(private readonly windowMs = 10_000) {}
  push(now: number, done: number): void {
    this.samples.push([now, done]);
    while (this.samples.length > 2 && now - this.samples[0]![0] > this.windowMs) this.samples.shift();
  }
  perSecond(): number {
    const a = this.samples[0];
    const b = this.samples.at(-1);
    return a && b && b[0] > a[0] ? ((b[1] - a[1]) * 1000) / (b[0] - a[0]) : 0;
  }
}

interface FileState { size: number; done: number; rate: Rate }

abstract class Tracker implements ProgressSink {
  protected total = 0;
  protected done = 0;
  protected readonly rate = new Rate();
  protected readonly files = new Map<string, FileState>();

  begin(total: number, done: number): void { this.total = total; this.done = done; this.rate.push(Date.now(), done); }
  fileStart(path: string, size: number): void { this.files.set(path, { size, done: 0, rate: new Rate() }); }
  bytes(path: string, delta: number): void {
    const f = this.files.get(path);
    const now = Date.now();
    if (f) { f.done += delta; f.rate.push(now, f.done); }
    this.done += delta;
    this.rate.push(now, this.done);
  }
  fileDone(path: string, _note: string): void { this.files.delete(path); }
  abstract notice(message: string): void;
  abstract end(): void;
  protected left(): string {
    const speed = this.rate.perSecond();
    return speed > 0 ? formatDuration((this.total - this.done) / speed) : '?';
  }
}

/** Plain lines for logs: a summary every `intervalMs`, and one line per finished file. */
export class LineProgress extends Tracker {
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly write: (line: string) => void, intervalMs = 10_000) {
    super();
    this.timer = setInterval(() => this.summary(), intervalMs);
    this.timer.unref();
  }
  summary(): void {
    if (this.total === 0) return;
    const active = [...this.files].map(([p, f]) => `${p.split('/').pop()} ${Math.floor((f.done / Math.max(1, f.size)) * 100)}%`).join(', ');
    this.write(`downloading: ${formatBytes(this.done)} / ${formatBytes(this.total)} (${Math.floor((this.done / this.total) * 100)}%), ` +
      `${formatBytes(this.rate.perSecond())}/s, ~${this.left()} left${active ? `; ${active}` : ''}`);
  }
  override fileDone(path: string, note: string): void { super.fileDone(path, note); this.write(`${path}: ${note}`); }
  notice(message: string): void { this.write(message); }
  end(): void { clearInterval(this.timer); }
}

/** Bars on a terminal. */
export class BarProgress extends Tracker {
  private readonly multi = new cliProgress.MultiBar({
    format: '{name} |{bar}| {pct}% {doneH}/{sizeH} {speed}/s ETA {eta2}', barsize: 24, hideCursor: true, clearOnComplete: false,
    stopOnComplete: false, autopadding: true, forceRedraw: true,
  }, cliProgress.Presets.shades_grey);
  private totalBar: cliProgress.SingleBar | undefined;
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly timer = setInterval(() => this.redraw(), 250);

  constructor() { super(); this.timer.unref(); }

  override begin(total: number, done: number): void {
    super.begin(total, done);
    this.totalBar = this.multi.create(total, done, this.payload('total', total, done, this.rate));
  }
  override fileStart(path: string, size: number): void {
    super.fileStart(path, size);
    this.bars.set(path, this.multi.create(size, 0, this.payload(path.split('/').pop()!, size, 0, this.files.get(path)!.rate)));
  }
  override fileDone(path: string, note: string): void {
    const bar = this.bars.get(path);
    if (bar) { this.multi.remove(bar); this.bars.delete(path); }
    super.fileDone(path, note);
    this.multi.log(`${path}: ${note}\n`);
  }
  notice(message: string): void { this.multi.log(`${message}\n`); }
  end(): void { clearInterval(this.timer); this.redraw(); this.multi.update(); this.multi.stop(); } // update() flushes pending log lines

  private payload(name: string, size: number, done: number, rate: Rate): Record<string, string> {
    const speed = rate.perSecond();
    return { name: name.padEnd(40).slice(0, 40), pct: String(Math.floor((done / Math.max(1, size)) * 100)).padStart(3), doneH: formatBytes(done),
      sizeH: formatBytes(size), speed: formatBytes(speed), eta2: speed > 0 ? formatDuration((size - done) / speed) : '?' };
  }
  private redraw(): void {
    this.totalBar?.update(this.done, this.payload('total', this.total, this.done, this.rate));
    for (const [path, bar] of this.bars) {
      const f = this.files.get(path);
      if (f) bar.update(f.done, this.payload(path.split('/').pop()!, f.size, f.done, f.rate));
    }
  }
}
