import { constants, mkdirSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { open, readdir, realpath, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { ZimageError } from '../errors.js';
import { dayNumber, isValidKey, sidecarKey, type AssetStore } from './asset-store.js';

/** Asset store on a local (or shared network) directory: `<dir>/YYYY/MM/DD/<job>-<i>.png` + `.json`. */
export class LocalAssetStore implements AssetStore {
  /** Day directories known to exist: creating one is a file-system round trip on every image otherwise. */
  private readonly made = new Set<string>();

  constructor(readonly dir: string) {}

  private path(key: string): string {
    if (!isValidKey(key)) throw new ZimageError('ASSET_KEY_INVALID', `invalid asset key: ${key}`);
    return join(this.dir, key);
  }

  /**
   * Written synchronously, on purpose: an image and its sidecar go to the page cache in well under a
   * millisecond, while the same writes through the thread pool take four hand-offs in a row (open, write,
   * close, rename, each waking the event loop again) on the requester's path between the GPU and the chat.
   * Only workers store images, and their event loops carry nothing that a millisecond's pause would hurt.
   */
  async put(key: string, png: Buffer, sidecar: object): Promise<void> {
    const file = this.path(key);
    const side = this.path(sidecarKey(key));
    const dir = dirname(file);
    if (!this.made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.made.add(dir);
    }
    // Write-then-rename: a reader never sees half a file, and a re-run job simply replaces it.
    const write = (): void => {
      writeFileSync(`${file}.tmp`, png);
      renameSync(`${file}.tmp`, file);
      writeFileSync(`${side}.tmp`, JSON.stringify(sidecar, null, 2));
      renameSync(`${side}.tmp`, side);
    };
    try {
      write();
    } catch (err) {
      // The directory went away (retention, an operator): make it again once.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.made.delete(dir);
      mkdirSync(dir, { recursive: true });
      this.made.add(dir);
      write();
    }
  }

  /**
   * Read a stored file without ever leaving the store: the directory (often shared) could hold a planted
   * symbolic link. The file itself is opened with O_NOFOLLOW and must be a regular file, and the directory it
   * sits in must resolve inside the store's own real path.
   */
  private async withFile<T>(key: string, use: (handle: FileHandle) => Promise<T>): Promise<T> {
    const file = this.path(key);
    const root = realpathSync(this.dir);
    const parent = await realpath(dirname(file));
    if (parent !== root && !parent.startsWith(root + sep)) throw new ZimageError('ASSET_MISSING', `asset not found: ${key}`);
    const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      if (!(await handle.stat()).isFile()) throw new ZimageError('ASSET_MISSING', `asset not found: ${key}`);
      return await use(handle);
    } finally {
      await handle.close();
    }
  }

  private readInside(key: string): Promise<Buffer> {
    return this.withFile(key, (h) => h.readFile());
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await this.readInside(key);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ELOOP: the file is a symbolic link (O_NOFOLLOW).
      if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') throw new ZimageError('ASSET_MISSING', `asset not found: ${key}`);
      throw err;
    }
  }

  async sidecar(key: string): Promise<unknown> {
    try {
      return JSON.parse((await this.readInside(sidecarKey(key))).toString('utf8'));
    } catch {
      return null;
    }
  }

  async has(key: string): Promise<boolean> {
    try { return await this.withFile(key, async () => true); } catch { return false; }
  }

  async prune(before: Date): Promise<number> {
    const cutoff = dayNumber(before);
    const numbered = async (dir: string): Promise<string[]> =>
      (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory() && /^\d+$/.test(e.name)).map((e) => e.name);
    let deleted = 0;
    for (const y of await numbered(this.dir)) {
      for (const m of await numbered(join(this.dir, y))) {
        for (const d of await numbered(join(this.dir, y, m))) {
          if (Number(y) * 10_000 + Number(m) * 100 + Number(d) >= cutoff) continue;
          const dayDir = join(this.dir, y, m, d);
          deleted += (await readdir(dayDir)).length;
          await rm(dayDir, { recursive: true, force: true });
          this.made.delete(dayDir);
        }
        if ((await readdir(join(this.dir, y, m))).length === 0) await rm(join(this.dir, y, m), { recursive: true, force: true });
      }
      if ((await readdir(join(this.dir, y))).length === 0) await rm(join(this.dir, y), { recursive: true, force: true });
    }
    return deleted;
  }
}
