import { LRUCache } from 'lru-cache';
import { assertCacheable, knownContentType, type CacheEntry, type CacheStats, type CacheStore, type PurgeFilter } from './store.js';

/**
 * A bounded in-memory layer in front of any CacheStore: the hot images of a campaign (the
 * first hours after a send) are answered without a file read. Bounded by bytes, least recently
 * used out first; writes go through to the store below. It holds only what the store below
 * verified on read (a damaged disk entry comes back as a miss and is never remembered) or what
 * put() accepted, whose content type is one of cacheContentTypes.
 */
export class MemoryLayer implements CacheStore {
  readonly #inner: CacheStore;
  readonly #memory: LRUCache<string, CacheEntry> | undefined;

  constructor(inner: CacheStore, options: { readonly maxBytes: number }) {
    this.#inner = inner;
    // lru-cache refuses maxSize 0: a zero budget turns the layer off.
    this.#memory = options.maxBytes > 0 ? new LRUCache<string, CacheEntry>({ maxSize: options.maxBytes, sizeCalculation: (entry) => entry.bytes.length + 256 }) : undefined;
  }

  /** A memory hit without a promise, for the hot path; undefined means "ask get()". */
  peek(key: string): CacheEntry | undefined {
    const entry = this.#memory?.get(key);
    if (entry) this.#inner.touch?.(key);
    return entry;
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const hot = this.peek(key);
    if (hot) return hot;
    const entry = await this.#inner.get(key);
    if (!entry) return undefined;
    // Whatever store is below (the disk today, a shared one later), only an image type is served.
    if (!knownContentType(entry.meta.contentType)) return undefined;
    this.#remember(key, entry);
    return entry;
  }

  async put(key: string, entry: CacheEntry): Promise<void> {
    // Checked before the entry is remembered: memory serves it at once, before the store below
    // would refuse it, so memory must not hold what no store would (a text/html entry).
    assertCacheable(entry);
    this.#remember(key, entry);
    await this.#inner.put(key, entry);
  }

  async delete(key: string): Promise<boolean> {
    const inMemory = this.#memory?.delete(key) ?? false;
    return (await this.#inner.delete(key)) || inMemory;
  }

  async purge(filter: PurgeFilter = {}): Promise<number> {
    if (this.#memory) {
      for (const [key, entry] of this.#memory.entries()) {
        if (filter.template === undefined || entry.meta.template === filter.template) this.#memory.delete(key);
      }
    }
    return this.#inner.purge(filter);
  }

  touch(key: string): void {
    this.#inner.touch?.(key);
  }

  stats(): CacheStats {
    return this.#inner.stats();
  }

  memoryStats(): CacheStats {
    return { entries: this.#memory?.size ?? 0, bytes: this.#memory?.calculatedSize ?? 0 };
  }

  async close(): Promise<void> {
    this.#memory?.clear();
    await this.#inner.close();
  }

  #remember(key: string, entry: CacheEntry): void {
    this.#memory?.set(key, entry);
  }
}
