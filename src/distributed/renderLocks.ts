import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CacheEntry } from '../cache/index.js';
import { CacheError } from '../errors/index.js';
import type { S3Store } from './s3Store.js';

/**
 * How a server node renders an image URL that missed every cache, given other nodes may be
 * missing the same key at the same moment (an email opened by thousands in one minute, behind a
 * load balancer): the implementation lives in distributed/, the server codes against it.
 */
export interface RenderCoordinator {
  /**
   * `render` renders and stores the entry in the shared store before it resolves; `lookup`
   * reads the caches (what another node stored becomes visible there).
   */
  run(key: string, render: () => Promise<CacheEntry>, lookup: () => Promise<CacheEntry | undefined>): Promise<CacheEntry>;
}

/** An entry to write to the shared store under its cache key. */
export interface PendingWrite {
  readonly key: string;
  readonly entry: CacheEntry;
}

/**
 * How a worker writes a group of rendered rows to the shared store, one writer per key across
 * workers and server nodes (identical records in different chunks are rendered at the same
 * moment by different workers, and a store whose PUTs are not atomic, s3rver, can keep one
 * writer's metadata with the other's bytes).
 */
export interface EntryWriter {
  /** Resolves once every entry is in the store, written here or by the writer that held its key. */
  writeMany(writes: readonly PendingWrite[]): Promise<void>;
}

export interface RenderLocksOptions {
  readonly redis: Redis;
  readonly store: S3Store;
  readonly prefix: string;
  /** Longer than one render: a node that dies holding the lock frees it after this. */
  readonly ttlMs: number;
  readonly logger: Logger;
  readonly onOutcome?: ((outcome: 'leader' | 'waited' | 'redis-down' | 'gave-up') => void) | undefined;
}

/** Deletes the lock only if it is still ours: an expired lock another node took is left alone. */
const releaseScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
/** SET NX PX of every key (ARGV: token, ttl): 1 where the lock is now ours, 0 where another writer holds it. */
const acquireManyScript = "local taken = {} for i, key in ipairs(KEYS) do if redis.call('set', key, ARGV[1], 'PX', ARGV[2], 'NX') then taken[i] = 1 else taken[i] = 0 end end return taken";
/** releaseScript over every key. */
const releaseManyScript = "local freed = 0 for _, key in ipairs(KEYS) do if redis.call('get', key) == ARGV[1] then freed = freed + redis.call('del', key) end end return freed";

/**
 * One render per key across every node: a Redis lock (SET NX PX) per cache key. The node that
 * takes it renders and stores; the others poll the shared store (25 ms doubling to 200 ms) until
 * the entry is there, or the lock is gone without one (the holder failed or died) and they try
 * to take it themselves. The lock expires after `ttlMs`, so a node killed mid-render blocks
 * nobody for longer than that. Within a node the server's SingleFlight already merges callers,
 * so each node has at most one waiter per key.
 *
 * Degraded modes, each chosen so an image request never hangs:
 * - shared store down (its breaker open): STORE_UNAVAILABLE, and the image route answers the
 *   fallback. Rendering anyway would turn every open of a campaign, on every node, into a
 *   render nobody can share (no store to hand results over): the render tier would melt at
 *   the moment the store comes back too.
 * - Redis down: render locally; the per-node SingleFlight bounds it to one render per node.
 * - waited two TTLs without a result: render locally.
 */
export class RenderLocks implements RenderCoordinator, EntryWriter {
  readonly #options: RenderLocksOptions;
  readonly #token = randomUUID();

  constructor(options: RenderLocksOptions) {
    this.#options = options;
  }

  async run(key: string, render: () => Promise<CacheEntry>, lookup: () => Promise<CacheEntry | undefined>): Promise<CacheEntry> {
    const { redis, store, ttlMs, onOutcome } = this.#options;
    if (!store.isAvailable()) throw new CacheError('STORE_UNAVAILABLE', 'the shared image store is unavailable; answering the fallback until it is back');
    const lock = this.#lock(key);
    const deadline = Date.now() + 2 * ttlMs;
    while (Date.now() < deadline) {
      let acquired: boolean;
      try {
        acquired = (await redis.set(lock, this.#token, 'PX', ttlMs, 'NX')) === 'OK';
      } catch (error) {
        this.#options.logger.warn({ code: 'QUEUE_UNAVAILABLE', err: { message: (error as Error).message } }, 'render lock unavailable (Redis); rendering on this node only');
        onOutcome?.('redis-down');
        return render();
      }
      if (acquired) {
        onOutcome?.('leader');
        try {
          return await render();
        } finally {
          await redis.eval(releaseScript, 1, lock, this.#token).catch(() => undefined);
        }
      }
      for (let wait = 25; Date.now() < deadline; wait = Math.min(wait * 2, 200)) {
        await sleep(wait);
        const found = await lookup().catch(() => undefined);
        if (found) {
          onOutcome?.('waited');
          return found;
        }
        const held = await redis.exists(lock).catch(() => 0);
        if (!held) {
          // Released just after the lookup above: the holder may have stored it in between.
          const stored = await lookup().catch(() => undefined);
          if (stored) {
            onOutcome?.('waited');
            return stored;
          }
          break;
        }
      }
    }
    onOutcome?.('gave-up');
    return render();
  }

  /**
   * A worker's group of rows in two Redis round trips whatever its size (take the free locks,
   * release them after the parallel PUTs), where run() per entry takes two each: the row outcomes of a campaign are
   * the bulk of its Redis traffic (docs/scale.md, capacity model). A key another writer holds
   * goes through run(), which waits for that writer's entry; Redis down: written without locks,
   * as run() renders without one.
   */
  async writeMany(writes: readonly PendingWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const { redis, store, ttlMs } = this.#options;
    if (!store.isAvailable()) throw new CacheError('STORE_UNAVAILABLE', 'the shared image store is unavailable; the chunk is retried with backoff');
    const locks = writes.map((write) => this.#lock(write.key));
    let taken: readonly number[];
    try {
      taken = (await redis.eval(acquireManyScript, locks.length, ...locks, this.#token, ttlMs)) as number[];
    } catch (error) {
      this.#options.logger.warn({ code: 'QUEUE_UNAVAILABLE', err: { message: (error as Error).message } }, 'render locks unavailable (Redis); writing without them');
      await Promise.all(writes.map((write) => store.put(write.key, write.entry)));
      return;
    }
    const ours = locks.filter((_, at) => taken[at] === 1);
    try {
      await Promise.all(
        writes.map(async (write, at) => {
          if (taken[at] === 1) return store.put(write.key, write.entry);
          const put = async () => {
            await store.put(write.key, write.entry);
            return write.entry;
          };
          await this.run(write.key, put, () => store.get(write.key));
        }),
      );
    } finally {
      if (ours.length) await redis.eval(releaseManyScript, ours.length, ...ours, this.#token).catch(() => undefined);
    }
  }

  #lock(key: string): string {
    return `${this.#options.prefix}:lock:${key}`;
  }
}
