import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Logger } from 'pino';

/**
 * Watches the templates and styles folders and calls `onChange` when the CONTENT of a file in
 * them changed: the registry then re-reads the templates, their version hash changes, and so
 * does every cache key derived from it. Old entries are never served again and age out of the
 * LRU.
 *
 * By content, whatever wrote the file (in-place write, rename, `cp`, git checkout, an editor's
 * safe-write): fs.watch alone is not enough. Node's recursive watch on Linux watches each file's
 * inode, so after one replace-by-rename (`sed -i`, safe-write) a later in-place save of that path
 * went unseen; network mounts give no events at all. So the watcher keeps a stat (mtime, size,
 * inode) and a SHA-256 of every file, and re-checks them on fs.watch events on the folders (not
 * the files: a folder's watch survives its files being replaced) and on a short poll.
 *
 * Cost of a poll: one readdir per folder and one stat per file; a file is read and hashed only
 * when its stat changed. Measured with bench/templateWatcher.bench.ts on the bundled templates
 * and styles (119 files, goldens included), 2 cores shared with a load average of 13: 9-20 ms
 * per poll, about 0.1 ms per file: 2-4 ms per bundled template folder with its goldens (~20
 * files), ~0.5 ms for a template of 5 files.
 * The first check reads and hashes every file once (23 MB: 120-400 ms), at server start.
 */
/** What changed in one check: files by watched folder, relative to it. */
export type ChangedFiles = ReadonlyMap<string, readonly string[]>;

export interface TemplateWatcherOptions {
  /** Events arriving within this window make one check. */
  readonly debounceMs?: number;
  /** Re-check this often whatever fs.watch says (config server.templatePollMs); 0: events only. */
  readonly pollMs: number;
}

interface Seen {
  /** mtime (ns), size and inode: equal means unchanged without reading the file. */
  readonly stat: string;
  readonly hash: string;
}

export class TemplateWatcher {
  readonly #dirs: readonly string[];
  readonly #onChange: (changed: ChangedFiles) => void;
  readonly #logger: Logger;
  readonly #debounceMs: number;
  /** Folder (absolute) → its fs.watch; re-armed after each check for folders added or removed. */
  readonly #watchers = new Map<string, FSWatcher>();
  /** File (absolute) → what it was at the last check. */
  #seen = new Map<string, Seen>();
  #debounce: NodeJS.Timeout | undefined;
  readonly #poll: NodeJS.Timeout | undefined;
  /** The check running now; a request meanwhile makes one more check after it. */
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;
  #baselined = false;
  /** The first check: what the files are when the server starts (nothing is reported). */
  readonly ready: Promise<void>;

  constructor(dirs: readonly string[], onChange: (changed: ChangedFiles) => void, logger: Logger, options: TemplateWatcherOptions) {
    this.#dirs = dirs;
    this.#onChange = onChange;
    this.#logger = logger;
    this.#debounceMs = options.debounceMs ?? 100;
    this.ready = this.check();
    if (options.pollMs > 0) {
      this.#poll = setInterval(() => void this.check(), options.pollMs);
      this.#poll.unref();
    }
  }

  /** Compares every file with the last check and reports the ones whose content changed. */
  check(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#checkOnce()
      .catch((error: unknown) => this.#logger.warn({ err: error }, 'checking template files failed; the next check tries again'))
      .finally(() => {
        this.#running = undefined;
        if (this.#again && !this.#closed) {
          this.#again = false;
          void this.check();
        }
      });
    return this.#running;
  }

  async #checkOnce(): Promise<void> {
    const seen = new Map<string, Seen>();
    const changed = new Map<string, string[]>();
    const folders = new Set<string>();
    for (const dir of this.#dirs) {
      const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => undefined);
      if (!entries) continue;
      folders.add(dir);
      const names: string[] = [];
      for (const entry of entries) {
        const path = join(entry.parentPath, entry.name);
        if (entry.isDirectory()) folders.add(path);
        if (!entry.isFile()) continue;
        const now = await fingerprint(path, this.#seen.get(path));
        if (!now) continue; // removed while listing: the next check sees it gone
        seen.set(path, now);
        if (now.hash !== this.#seen.get(path)?.hash) names.push(relative(dir, path));
      }
      for (const path of this.#seen.keys()) if (!seen.has(path) && isUnder(path, dir)) names.push(relative(dir, path));
      if (names.length) changed.set(dir, names.sort());
    }
    if (this.#closed) return;
    this.#seen = seen;
    this.#arm(folders);
    const baseline = !this.#baselined;
    this.#baselined = true;
    if (baseline || changed.size === 0) return;
    this.#logger.info({ dirs: [...changed.keys()] }, 'template files changed; templates will be re-read');
    this.#onChange(changed);
  }

  /** Watches each folder (not each file), so replacing a file by rename does not end its watch. */
  #arm(folders: ReadonlySet<string>): void {
    for (const [folder, watcher] of this.#watchers) {
      if (folders.has(folder)) continue;
      watcher.close();
      this.#watchers.delete(folder);
    }
    for (const folder of folders) {
      if (this.#watchers.has(folder)) continue;
      try {
        const watcher = watch(folder, { persistent: false }, () => this.#soon());
        watcher.on('error', (error) => {
          this.#logger.warn({ err: error, dir: folder }, 'template watcher failed; edits are seen at the next poll');
          watcher.close();
          this.#watchers.delete(folder);
        });
        this.#watchers.set(folder, watcher);
      } catch (error) {
        this.#logger.warn({ err: error, dir: folder }, 'cannot watch folder; edits are seen at the next poll');
      }
    }
  }

  /** An fs event: check once the burst is over (a save is often several events). */
  #soon(): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.check(), this.#debounceMs);
    this.#debounce.unref();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#debounce);
    clearInterval(this.#poll);
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }
}

/** The file's stat, and its hash: the one seen before when the stat did not change, else read now. */
async function fingerprint(path: string, before: Seen | undefined): Promise<Seen | undefined> {
  try {
    const info = await stat(path, { bigint: true });
    const now = `${info.mtimeNs}:${info.size}:${info.ino}`;
    if (before?.stat === now) return before;
    return { stat: now, hash: createHash('sha256').update(await readFile(path)).digest('hex') };
  } catch {
    return undefined;
  }
}

function isUnder(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..');
}
