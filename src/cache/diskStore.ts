import { mkdir, readdir, readFile, rm, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { CacheError } from '../errors/index.js';
import { writeFileAtomic } from '../files/index.js';
import { cacheKeyPattern } from './key.js';
import { decodeEntry, encodeEntry } from './entryCodec.js';
import { assertCacheable, type CacheEntry, type CacheStats, type CacheStore, type PurgeFilter } from './store.js';

/**
 * Rendered images on local disk, so `mergeshot serve` needs nothing else installed and a
 * restart does not re-render a campaign.
 *
 * Layout: `<dir>/objects/<template>/<key>`, one file per image: "MSC2", the 32-byte SHA-256
 * of everything after it, a 4-byte big-endian meta length, the meta JSON (with the image's
 * byte `length`), then the image bytes. The template is in the path so the index can be
 * rebuilt from `readdir` alone and a purge by template needs no file reads.
 *
 * - Verified: an entry is served only if its digest, its recorded length, its meta's shape and
 *   template all check out. The file is outside the process: a bad disk sector, a truncating
 *   copy or a hand edit would otherwise be answered 200 with the key's ETag and a day of
 *   max-age, so every proxy would keep the broken image. A bad entry is deleted and reported as
 *   a miss, and the image is rendered again. The digest covers the meta too, so an edited
 *   content type, template or warning list is caught like flipped image bytes; the content type
 *   is in any case one of cacheContentTypes, returned as the constant.
 *   Files of the previous layout ("MSC1", no digest) count as damaged: they are re-rendered once.
 *
 * - Atomic: every write goes to `<dir>/tmp/` and is renamed into place after an fsync, so a
 *   crash mid-write leaves at worst a stray temp file (deleted at a later start), never a
 *   truncated image under a key.
 * - Bounded: the index tracks sizes; past `maxBytes` the least recently used entries are
 *   deleted. Use order lives in the index (a Map in LRU order) and is persisted coarsely as
 *   file mtimes (touched at most once per `touchIntervalMs` per entry), which order the index
 *   when it is rebuilt at start.
 */
export interface DiskStoreOptions {
  readonly dir: string;
  readonly maxBytes: number;
  /** Minimum gap between mtime updates of one entry. Default one minute. */
  readonly touchIntervalMs?: number;
}

interface IndexEntry {
  readonly template: string;
  readonly size: number;
  touchedAt: number;
}

/** A temp file older than this is a write that will never finish. */
const staleTempMs = 60_000;
const templatePattern = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export class DiskStore implements CacheStore {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #touchIntervalMs: number;
  /** Iteration order is use order: the first entry is the least recently used. */
  readonly #index = new Map<string, IndexEntry>();
  #bytes = 0;
  #closed = false;
  /** Counts purges, so a write that started before one is not indexed after it. */
  #purges = 0;

  private constructor(options: DiskStoreOptions) {
    this.#dir = options.dir;
    this.#maxBytes = options.maxBytes;
    this.#touchIntervalMs = options.touchIntervalMs ?? 60_000;
  }

  /** Opens (creating) the store and rebuilds its index from the files on disk. */
  static async open(options: DiskStoreOptions): Promise<DiskStore> {
    if (!Number.isInteger(options.maxBytes) || options.maxBytes < 1) throw new CacheError('CONFIG_INVALID', `server.cacheMaxBytes must be a positive whole number of bytes, got ${options.maxBytes}.`);
    const store = new DiskStore(options);
    try {
      await store.#rebuild();
    } catch (error) {
      throw new CacheError('CACHE_FAILED', `cache folder ${options.dir} cannot be used (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}). Set server.cacheDir or MERGESHOT_CACHE_DIR to a writable folder.`, { source: options.dir }, { cause: error });
    }
    return store;
  }

  async #rebuild(): Promise<void> {
    await mkdir(join(this.#dir, 'objects'), { recursive: true });
    // Temp files are writes a crash interrupted: never complete, never referenced. Recent ones
    // may belong to another process sharing the folder, mid-write: left alone.
    const tmp = join(this.#dir, 'tmp');
    await mkdir(tmp, { recursive: true });
    for (const name of await readdir(tmp)) {
      const info = await stat(join(tmp, name)).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > staleTempMs) await rm(join(tmp, name), { force: true, recursive: true });
    }
    const found: { key: string; entry: IndexEntry }[] = [];
    for (const template of await readdir(join(this.#dir, 'objects'))) {
      if (!templatePattern.test(template)) continue;
      const folder = join(this.#dir, 'objects', template);
      const names = await readdir(folder).catch(() => [] as string[]);
      for (const key of names) {
        if (!cacheKeyPattern.test(key)) continue;
        const info = await stat(join(folder, key)).catch(() => undefined);
        if (!info?.isFile()) continue;
        found.push({ key, entry: { template, size: info.size, touchedAt: info.mtimeMs } });
      }
    }
    found.sort((a, b) => a.entry.touchedAt - b.entry.touchedAt);
    for (const { key, entry } of found) {
      this.#index.set(key, entry);
      this.#bytes += entry.size;
    }
    await this.#evict();
  }

  #path(key: string, template: string): string {
    return join(this.#dir, 'objects', template, key);
  }

  /** The entry, verified; undefined for a miss, including an entry that fails verification (then deleted). */
  async get(key: string): Promise<CacheEntry | undefined> {
    const indexed = this.#index.get(key);
    if (!indexed || this.#closed) return undefined;
    let file: Buffer;
    try {
      file = await readFile(this.#path(key, indexed.template));
    } catch {
      // Evicted or purged between the index lookup and the read: a miss.
      this.#forget(key);
      return undefined;
    }
    const entry = decodeEntry(file, indexed.template);
    if (!entry) {
      this.#forget(key);
      await unlink(this.#path(key, indexed.template)).catch(() => undefined);
      return undefined;
    }
    this.touch(key);
    return entry;
  }

  touch(key: string): void {
    const indexed = this.#index.get(key);
    if (!indexed) return;
    this.#index.delete(key);
    this.#index.set(key, indexed);
    const now = Date.now();
    if (now - indexed.touchedAt >= this.#touchIntervalMs) {
      indexed.touchedAt = now;
      const seconds = now / 1000;
      utimes(this.#path(key, indexed.template), seconds, seconds).catch(() => undefined);
    }
  }

  async put(key: string, entry: CacheEntry): Promise<void> {
    if (this.#closed) return;
    if (!cacheKeyPattern.test(key)) throw new CacheError('CACHE_FAILED', `cache key must be 16–64 hex digits, got ${key.length} characters.`);
    if (!templatePattern.test(entry.meta.template)) throw new CacheError('CACHE_FAILED', `cache entry template id "${entry.meta.template.slice(0, 40)}" is not a template id.`);
    assertCacheable(entry);
    const file = encodeEntry(entry);
    if (file.length > this.#maxBytes) return; // would evict everything and still not fit
    // A purge while this write is in flight must win: the write is dropped instead of indexed.
    const purgesAtStart = this.#purges;
    const folder = join(this.#dir, 'objects', entry.meta.template);
    const purged = () => this.#purges !== purgesAtStart || this.#closed;
    try {
      await mkdir(folder, { recursive: true });
      if (!(await writeFileAtomic(join(folder, key), file, { tempDir: join(this.#dir, 'tmp'), commit: () => !purged() }))) return;
      // A purge during the rename found nothing to delete: the file is this write's to remove.
      if (purged()) {
        if (!this.#index.has(key)) await unlink(join(folder, key)).catch(() => undefined);
        return;
      }
    } catch (error) {
      throw new CacheError('CACHE_FAILED', `cannot write to the cache folder ${this.#dir} (${(error as NodeJS.ErrnoException).code ?? 'unknown error'}).`, {}, { cause: error });
    }
    this.#forget(key);
    this.#index.set(key, { template: entry.meta.template, size: file.length, touchedAt: Date.now() });
    this.#bytes += file.length;
    await this.#evict();
  }

  async delete(key: string): Promise<boolean> {
    const indexed = this.#index.get(key);
    if (!indexed) return false;
    this.#forget(key);
    await unlink(this.#path(key, indexed.template)).catch(() => undefined);
    return true;
  }

  async purge(filter: PurgeFilter = {}): Promise<number> {
    this.#purges += 1;
    const keys = [...this.#index.entries()].filter(([, entry]) => filter.template === undefined || entry.template === filter.template);
    await Promise.all(keys.map(([key]) => this.delete(key)));
    return keys.length;
  }

  stats(): CacheStats {
    return { entries: this.#index.size, bytes: this.#bytes };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #forget(key: string): void {
    const indexed = this.#index.get(key);
    if (!indexed) return;
    this.#index.delete(key);
    this.#bytes -= indexed.size;
  }

  async #evict(): Promise<void> {
    const victims: { key: string; template: string }[] = [];
    for (const [key, entry] of this.#index) {
      if (this.#bytes <= this.#maxBytes) break;
      victims.push({ key, template: entry.template });
      this.#forget(key);
    }
    await Promise.all(victims.map(({ key, template }) => unlink(this.#path(key, template)).catch(() => undefined)));
  }
}
