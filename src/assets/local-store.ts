import { constants, mkdirSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { open, readdir, realpath, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { ZimageError } from '../errors.js';
import { dayNumber, isImageKey, isValidKey, keptFiles, sidecarKey, thumbnailKey, type AssetStore } from './asset-store.js';

/** Sub-directories whose names are numbers (the YYYY, MM and DD levels), in order. */
async function numbered(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && /^\d+$/.test(e.name)).map((e) => e.name).sort();
}

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
    this.writeInDir(dirname(file), () => {
      writeAtomically(file, png);
      writeAtomically(side, JSON.stringify(sidecar, null, 2));
    });
  }

  async putFile(key: string, data: Buffer): Promise<void> {
    const file = this.path(key);
    this.writeInDir(dirname(file), () => writeAtomically(file, data));
  }

  /** Run `write` with the day directory made (once per directory, and again if it went away meanwhile). */
  private writeInDir(dir: string, write: () => void): void {
    if (!this.made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.made.add(dir);
    }
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

  async *list(): AsyncIterable<string> {
    for (const y of await numbered(this.dir)) {
      for (const m of await numbered(join(this.dir, y))) {
        for (const d of await numbered(join(this.dir, y, m))) {
          const names = (await readdir(join(this.dir, y, m, d)).catch(() => [])).sort();
          for (const name of names) {
            const key = `${y}/${m}/${d}/${name}`;
            if (isImageKey(key)) yield key;
          }
        }
      }
    }
  }

  /**
   * The files go only if their directory resolves inside the store (a planted symbolic link to a directory
   * elsewhere leaves everything alone); a link in the file's own place is removed itself, never its target.
   */
  async remove(key: string): Promise<void> {
    const dir = dirname(this.path(key));
    const parent = await realpath(dir).catch(() => null);
    if (parent === null) return; // nothing there
    const root = realpathSync(this.dir);
    if (parent !== root && !parent.startsWith(root + sep)) throw new ZimageError('ASSET_KEY_INVALID', `asset ${key} is not inside the store`);
    await Promise.all([key, sidecarKey(key), thumbnailKey(key)].map((k) => rm(this.path(k), { force: true })));
  }

  async prune(before: Date, keep?: ReadonlySet<string>): Promise<number> {
    const cutoff = dayNumber(before);
    const kept = keptFiles(keep);
    let deleted = 0;
    for (const y of await numbered(this.dir)) {
      for (const m of await numbered(join(this.dir, y))) {
        for (const d of await numbered(join(this.dir, y, m))) {
          if (Number(y) * 10_000 + Number(m) * 100 + Number(d) >= cutoff) continue;
          const dayDir = join(this.dir, y, m, d);
          const names = await readdir(dayDir);
          const going = names.filter((n) => !kept.has(`${y}/${m}/${d}/${n}`));
          if (going.length === names.length) {
            await rm(dayDir, { recursive: true, force: true });
            this.made.delete(dayDir);
          } else {
            await Promise.all(going.map((n) => rm(join(dayDir, n), { recursive: true, force: true })));
          }
          deleted += going.length;
        }
        if ((await readdir(join(this.dir, y, m))).length === 0) await rm(join(this.dir, y, m), { recursive: true, force: true });
      }
      if ((await readdir(join(this.dir, y))).length === 0) await rm(join(this.dir, y), { recursive: true, force: true });
    }
    return deleted;
  }
}

/** Write-then-rename: a reader never sees half a file, and a re-run job simply replaces it. */
function writeAtomically(file: string, data: Buffer | string): void {
  writeFileSync(`${file}.tmp`, data);
  renameSync(`${file}.tmp`, file);
}
