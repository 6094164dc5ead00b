import { CacheError } from '../errors/index.js';

/**
 * The cache contract the server codes against. The embedded disk store implements it today; a
 * shared store (S3-compatible, Redis) can implement the same five methods later without the
 * routes changing.
 */
/**
 * The only content types the cache stores and serves. A stored entry names one of these and the
 * stores return the constant, never text read back from disk: an entry edited to say
 * `text/html` would otherwise turn the image origin into a page any attacker with write access
 * to the cache folder (or a bug) could script.
 */
export const cacheContentTypes = ['image/png', 'image/jpeg', 'image/webp'] as const;
export type CacheContentType = (typeof cacheContentTypes)[number];

/** The constant from cacheContentTypes equal to `value`, or undefined. */
export function knownContentType(value: unknown): CacheContentType | undefined {
  return cacheContentTypes.find((type) => type === value);
}

/** Throws CACHE_FAILED for an entry whose content type the cache would not serve back. */
export function assertCacheable(entry: CacheEntry): void {
  if (!knownContentType(entry.meta.contentType)) {
    throw new CacheError('CACHE_FAILED', `cache entry content type "${String(entry.meta.contentType).slice(0, 40)}" is not one the cache serves: ${cacheContentTypes.join(', ')}. Only encoded images are cached.`);
  }
}

export interface CacheMeta {
  /** One of cacheContentTypes: put() refuses anything else. */
  readonly contentType: string;
  /** Template id, so one template's images can be purged. */
  readonly template: string;
  readonly createdAt: number;
  readonly width?: number;
  readonly height?: number;
  /** `code:field` per warning of the render, for X-Mergeshot-Warnings on an API hit. */
  readonly warnings?: readonly string[];
}

export interface CacheEntry {
  readonly bytes: Buffer;
  readonly meta: CacheMeta;
}

export interface PurgeFilter {
  readonly template?: string | undefined;
  /**
   * `local`: only this process's layers (memory, disk), for a purge another node already made
   * in a shared store below them. Default: every layer. Stores with one layer ignore it.
   */
  readonly scope?: 'everywhere' | 'local' | undefined;
}

export interface CacheStats {
  readonly entries: number;
  readonly bytes: number;
}

export interface CacheStore {
  get(key: string): Promise<CacheEntry | undefined>;
  put(key: string, entry: CacheEntry): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Drops one template's entries, or every entry; returns how many were dropped. */
  purge(filter?: PurgeFilter): Promise<number>;
  /** Marks a key as recently used without reading it (a hit served by a layer in front). */
  touch?(key: string): void;
  stats(): CacheStats;
  close(): Promise<void>;
}
