import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { assertCacheable, cacheKeyPattern, decodeEntry, encodeEntry, type CacheEntry, type CacheStats, type CacheStore, type PurgeFilter } from '../cache/index.js';
import { CacheError } from '../errors/index.js';
import type { StoreLocation } from './storeUrl.js';

/** Waits between the reads of getWritten: about 4.5 s in all. */
const writtenRetryMs = [100, 400, 1_000, 3_000];

/**
 * The shared cache tier: images in an S3-compatible bucket (AWS S3, MinIO, R2, GCS interop),
 * one object per cache key at `<prefix>/cache/<key>`, in the same verified format
 * as a disk-cache file (cache/entryCodec.ts), so a damaged or foreign object is a miss, never
 * a 200 with the wrong bytes.
 *
 * Same keys as the disk cache (cache/key.ts): a batch output and an image URL for the same
 * normalized record are one object. Writes are idempotent: a render of a key always makes the
 * same bytes, so two nodes (or a retried chunk) writing one key write the same object.
 *
 * Outages: a request that fails for any reason but "no such key" throws STORE_UNAVAILABLE and
 * opens a breaker: for `retryMs` every request fails at once instead of waiting `timeoutMs`
 * each (a flood of image requests during an outage would otherwise pile up connections), then
 * the next request tries the store again, so the service recovers by itself.
 */
export interface S3StoreOptions {
  readonly location: StoreLocation;
  readonly region: string;
  readonly endpoint?: string | undefined;
  readonly forcePathStyle: boolean;
  readonly timeoutMs: number;
  readonly retryMs: number;
  /** Each request's outcome, for metrics (distributed/metrics.ts). */
  readonly observe?: ((operation: StoreOperation, seconds: number, failed: boolean) => void) | undefined;
}

export type StoreOperation = 'get' | 'put' | 'delete' | 'list';

export class S3Store implements CacheStore {
  readonly #client: S3Client;
  /** For purges only: see #deleteMany. */
  readonly #purgeClient: S3Client;
  readonly #bucket: string;
  readonly #root: string;
  readonly #options: S3StoreOptions;
  #unavailableUntil = 0;
  #lastError = '';
  #closed = false;
  readonly #written = { entries: 0, bytes: 0 };

  constructor(options: S3StoreOptions) {
    this.#options = options;
    this.#bucket = options.location.bucket;
    this.#root = options.location.prefix ? `${options.location.prefix}/` : '';
    // Credentials: the SDK's default chain (env, shared profile, instance/task role). Never passed
    // in, never logged. One attempt per request: the breaker, not SDK retries, handles outages,
    // so a request never waits several timeouts.
    // Checksums only where an operation requires one: every entry carries its own SHA-256,
    // checked on each read from the writer's bytes to the reader's (stronger than a per-hop CRC),
    // so the SDK's default CRC32 on each PUT and GET is work done twice; and several
    // S3-compatible stores (R2, B2, older MinIO) refuse the headers that default sends.
    const settings = {
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      requestChecksumCalculation: 'WHEN_REQUIRED' as const,
      responseChecksumValidation: 'WHEN_REQUIRED' as const,
      requestHandler: { connectionTimeout: Math.min(options.timeoutMs, 2_000), requestTimeout: options.timeoutMs },
    };
    this.#client = new S3Client({ ...settings, maxAttempts: 1 });
    // A purge is rare, waits for its answer, and its deletes are idempotent: the SDK's standard
    // retries ride over a store's transient 500s ("InternalError: please try again"; s3rver
    // gives one when parallel deletes empty the same folder) instead of failing the purge.
    this.#purgeClient = new S3Client({ ...settings, maxAttempts: 3 });
  }

  /** False while the breaker is open (a recent request failed). */
  isAvailable(): boolean {
    return Date.now() >= this.#unavailableUntil;
  }

  /** The object name of a cache key. */
  objectKey(key: string): string {
    return `${this.#root}cache/${key}`;
  }

  /** The verified entry, or undefined for a miss (a damaged object counts as one). */
  async get(key: string): Promise<CacheEntry | undefined> {
    if (!cacheKeyPattern.test(key)) return undefined;
    const bytes = await this.getObject(this.objectKey(key));
    if (!bytes) return undefined;
    // A damaged object is a miss, not deleted: the next render of its key overwrites it, and a
    // store whose PUTs are not atomic (some self-hosted ones) may show a write in progress.
    return decodeEntry(bytes);
  }

  /**
   * An entry a worker has recorded as written: a miss is read again a few times before it
   * counts. S3 itself is read-after-write consistent; some S3-compatible servers are not (s3rver
   * answers a PUT before its bytes are on disk and overwrites in place, so a duplicate render of
   * a row, after a worker lost its chunk, can show a half-written object for a moment).
   */
  async getWritten(key: string): Promise<CacheEntry | undefined> {
    for (const waitMs of writtenRetryMs) {
      const entry = await this.get(key);
      if (entry) return entry;
      await sleep(waitMs);
    }
    return this.get(key);
  }

  async put(key: string, entry: CacheEntry): Promise<void> {
    if (this.#closed) return;
    if (!cacheKeyPattern.test(key)) throw new CacheError('CACHE_FAILED', `cache key must be 16–64 hex digits, got ${key.length} characters.`);
    assertCacheable(entry);
    const body = encodeEntry(entry);
    await this.#request('put', (signal) => this.#client.send(new PutObjectCommand({ Bucket: this.#bucket, Key: this.objectKey(key), Body: body, ContentType: 'application/octet-stream' }), { abortSignal: signal }));
    this.#written.entries += 1;
    this.#written.bytes += body.length;
  }

  async delete(key: string): Promise<boolean> {
    await this.#request('delete', (signal) => this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.objectKey(key) }), { abortSignal: signal }));
    return true;
  }

  /**
   * Every entry: one list per 1,000 objects, one delete per object. One template: the objects carry no
   * listable template, so each is read; O(objects). The server's shared cache never calls it
   * for a template, it records a purge marker instead (distributed/sharedCache.ts).
   */
  async purge(filter: PurgeFilter = {}): Promise<number> {
    if (filter.scope === 'local') return 0;
    let names = await this.#list(`${this.#root}cache/`);
    if (filter.template !== undefined) {
      const matching: string[] = [];
      for (const name of names) {
        const bytes = await this.getObject(name);
        if (bytes && decodeEntry(bytes)?.meta.template === filter.template) matching.push(name);
      }
      names = matching;
    }
    await this.#deleteMany(names);
    return names.length;
  }

  /** Entries this node wrote since it started: a bucket has no cheap count, and stats() is synchronous. */
  stats(): CacheStats {
    return { ...this.#written };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.destroy();
    this.#purgeClient.destroy();
  }

  /** Raw object bytes under the store's prefix (batch state), or undefined when there is none. */
  async getObject(name: string): Promise<Buffer | undefined> {
    try {
      return await this.#request('get', async (signal) => {
        const answer = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: name }), { abortSignal: signal });
        return answer.Body ? Buffer.from(await answer.Body.transformToByteArray()) : Buffer.alloc(0);
      });
    } catch (error) {
      if (error instanceof CacheError && error.cause instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  /** Runs one request under the timeout and the breaker; any failure but "no such key" opens it. */
  async #request<T>(operation: StoreOperation, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.#closed) throw new CacheError('STORE_UNAVAILABLE', 'the shared store is closed');
    if (!this.isAvailable()) throw new CacheError('STORE_UNAVAILABLE', `the shared store is unavailable (last error: ${this.#lastError}); trying again in ${Math.max(0, this.#unavailableUntil - Date.now())} ms`);
    const started = performance.now();
    try {
      const result = await send(AbortSignal.timeout(this.#options.timeoutMs));
      this.#options.observe?.(operation, (performance.now() - started) / 1000, false);
      return result;
    } catch (error) {
      const missing = error instanceof NoSuchKey || (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404 && error.name !== 'NoSuchBucket');
      this.#options.observe?.(operation, (performance.now() - started) / 1000, !missing);
      if (missing) throw new CacheError('CACHE_FAILED', 'no such object', {}, { cause: error instanceof NoSuchKey ? error : new NoSuchKey({ message: 'not found', $metadata: {} }) });
      this.#lastError = describeStoreError(error);
      this.#unavailableUntil = Date.now() + this.#options.retryMs;
      throw new CacheError('STORE_UNAVAILABLE', `shared store ${operation} failed: ${this.#lastError}. Check distributed.storeUrl, distributed.endpoint and the credentials (AWS_ACCESS_KEY_ID / AWS_PROFILE / role).`, {}, { cause: error });
    }
  }

  async #list(prefix: string): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#request('list', (signal) => this.#client.send(new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: signal }));
      for (const item of page.Contents ?? []) if (item.Key) names.push(item.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return names;
  }

  async #deleteMany(names: readonly string[]): Promise<void> {
    // One DeleteObject per key, 16 at a time, rather than DeleteObjects: the batch call's
    // checksum rules differ between S3-compatible servers (Content-MD5 vs CRC32), and a purge of
    // the shared store is rare (the server purges by marker, distributed/purgeMarkers.ts).
    let next = 0;
    const lane = async () => {
      for (let at = next++; at < names.length; at = next++) {
        const Key = names[at]!;
        await this.#request('delete', (signal) => this.#purgeClient.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key }), { abortSignal: signal }));
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, names.length) }, lane));
  }

}

/** A short reason without URLs or credentials: the error's name and code. */
function describeStoreError(error: unknown): string {
  if (error instanceof S3ServiceException) return `${error.name} (HTTP ${error.$metadata.httpStatusCode ?? '?'})`;
  if (error instanceof Error) return `${error.name}${(error as NodeJS.ErrnoException).code ? ` ${(error as NodeJS.ErrnoException).code}` : ''}`;
  return 'unknown error';
}
