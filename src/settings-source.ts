/**
 * The settings file, hot-reloaded: the file is watched, and a valid edit replaces the settings within a
 * second or two. An invalid edit is logged with its file, line and field, and the working settings stay.
 */
import { unwatchFile, watchFile } from 'node:fs';
import { deepFreeze, loadSettingsFile, type Config, type FileConfig } from './config.js';
import type { Logger } from './infra/logger.js';

export class SettingsSource {
  private settings: Readonly<FileConfig>;
  private readonly listeners: Array<(s: Readonly<FileConfig>) => void> = [];

  constructor(private readonly config: Config, private readonly log: Logger) {
    this.settings = config.settings;
  }

  current(): Readonly<FileConfig> {
    return this.settings;
  }

  onChange(fn: (s: Readonly<FileConfig>) => void): void {
    this.listeners.push(fn);
  }

  /** Re-read the file now; returns the error text when the new content is invalid. */
  reload(): string | null {
    const file = this.config.settingsFile;
    if (!file) return null;
    try {
      this.settings = deepFreeze(loadSettingsFile(file).settings);
    } catch (err) {
      const message = (err as Error).message;
      this.log.error({ file }, `settings file not reloaded, the previous settings stay: ${message}`);
      return message;
    }
    this.log.info({ file }, 'settings reloaded');
    for (const fn of this.listeners) fn(this.settings);
    return null;
  }

  start(intervalMs = 1000): void {
    const file = this.config.settingsFile;
    if (!file) return;
    watchFile(file, { interval: intervalMs }, (cur, prev) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size) this.reload();
    });
  }

  stop(): void {
    if (this.config.settingsFile) unwatchFile(this.config.settingsFile);
  }
}
