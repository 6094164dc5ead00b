import type { CacheEntry, CacheStats, CacheStore, PurgeFilter } from '../cache/index.js';
import type { PurgeMarkers } from './purgeMarkers.js';
import type { S3Store } from './s3Store.js';

/**
 * A server node's cache in distributed mode: its own disk (the hot tier, as in the embedded
 * mode) in front of the shared store every node reads. Sits under the server's MemoryLayer:
 * memory → local disk → shared store.
 *
 * - get: local first; a local miss reads the shared store and keeps a copy locally, so a
 *   campaign's hot images are served from this node's disk after their first open here.
 * - put: local, then shared; a shared failure is the caller's (the image was still served).
 * - purge: this node's layers at once; the shared store by marker (purgeMarkers.ts), which
 *   every other node applies to its own layers. `scope: 'local'` (a purge another node made)
 *   touches this node's layers only.
 * The shared store is owned by the distribution (closed there); the local store by this cache.
 */
export class SharedCache implements CacheStore {
  readonly #local: CacheStore;
  readonly #shared: S3Store;
  readonly #purges: PurgeMarkers;

  constructor(local: CacheStore, shared: S3Store, purges: PurgeMarkers) {
    this.#local = local;
    this.#shared = shared;
    this.#purges = purges;
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const local = await this.#local.get(key);
    if (local && !this.#purges.isPurged(local.meta)) return local;
    const shared = await this.#shared.get(key);
    if (!shared || this.#purges.isPurged(shared.meta)) return undefined;
    await this.#local.put(key, shared).catch(() => undefined);
    return shared;
  }

  async put(key: string, entry: CacheEntry): Promise<void> {
    await this.#local.put(key, entry);
    await this.#shared.put(key, entry);
  }

  async delete(key: string): Promise<boolean> {
    const local = await this.#local.delete(key);
    return (await this.#shared.delete(key)) || local;
  }

  async purge(filter: PurgeFilter = {}): Promise<number> {
    const dropped = await this.#local.purge(filter);
    if (filter.scope !== 'local') await this.#purges.record(filter);
    return dropped;
  }

  touch(key: string): void {
    this.#local.touch?.(key);
  }

  stats(): CacheStats {
    return this.#local.stats();
  }

  async close(): Promise<void> {
    await this.#local.close();
  }
}
