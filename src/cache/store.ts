/**
 * The cache contract the server codes against. The embedded disk store implements it today; a
 * shared store (S3-compatible, Redis) can implement the same five methods later without the
 * routes changing.
 */
export interface CacheMeta {
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

export interface CacheStats {
  readonly entries: number;
  readonly bytes: number;
}

export interface CacheStore {
  get(key: string): Promise<CacheEntry | undefined>;
  put(key: string, entry: CacheEntry): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Drops one template's entries, or every entry; returns how many were dropped. */
  purge(filter?: { readonly template?: string | undefined }): Promise<number>;
  /** Marks a key as recently used without reading it (a hit served by a layer in front). */
  touch?(key: string): void;
  stats(): CacheStats;
  close(): Promise<void>;
}
