/**
 * The live set of template presets: loaded at start, reloaded when a file in the directory changes
 * (debounced) or on demand. A reload swaps the whole set at once; an invalid edit keeps the old set.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../infra/logger.js';
import { formatProblem, loadTemplates, type TemplateProblem } from './loader.js';
import type { Template } from './schema.js';

export interface ReloadReport {
  ok: boolean;
  added: string[];
  removed: string[];
  changed: string[];
  problems: TemplateProblem[];
}

const DEBOUNCE_MS = 300;

export class TemplateLibrary {
  private set = new Map<string, Template>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<ReloadReport> | undefined;
  private loads = 0;

  constructor(readonly dir: string, private readonly sizeOk: (w: number, h: number) => boolean, private readonly log: Logger) {}

  get(name: string): Template | undefined { return this.set.get(name.toLowerCase()); }
  has(name: string): boolean { return this.set.has(name.toLowerCase()); }
  all(): Template[] { return [...this.set.values()].sort((a, b) => a.name.localeCompare(b.name)); }

  /** Load the directory now and swap the set if every file is valid. */
  async reload(): Promise<ReloadReport> {
    // Serialise: a watcher event during a manual reload waits for it, then loads again.
    const run = async (): Promise<ReloadReport> => {
      const res = await loadTemplates(this.dir, this.sizeOk);
      if (!res.ok) {
        this.log.error({ dir: this.dir, problems: res.problems.map(formatProblem) }, 'templates not reloaded; the previous set stays');
        return { ok: false, added: [], removed: [], changed: [], problems: res.problems };
      }
      const before = this.set;
      const after = res.templates;
      const report: ReloadReport = {
        ok: true,
        added: [...after.keys()].filter((n) => !before.has(n)),
        removed: [...before.keys()].filter((n) => !after.has(n)),
        changed: [...after.keys()].filter((n) => before.has(n) && before.get(n)!.version !== after.get(n)!.version),
        problems: [],
      };
      const first = this.loads++ === 0;
      this.set = after;
      const changed = report.added.length + report.removed.length + report.changed.length > 0;
      if (changed) this.log[first ? 'debug' : 'info']({ ...report, problems: undefined }, first ? 'templates loaded' : 'templates reloaded');
      return report;
    };
    const previous = this.reloading ?? Promise.resolve(undefined);
    const next = previous.then(run, run);
    this.reloading = next;
    return next;
  }

  /** Watch the directory; changes take effect within about a second. */
  watch(): void {
    try {
      this.watcher = watch(this.dir, () => {
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.reload(), DEBOUNCE_MS);
      });
      this.watcher.on('error', (err) => this.log.warn({ err }, 'template watcher error'));
    } catch (err) {
      this.log.warn({ err, dir: this.dir }, 'cannot watch the templates directory; use /zimage reload');
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.watcher?.close();
  }
}
