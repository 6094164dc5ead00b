import { Redis } from 'ioredis';

/**
 * Redis connections. Two kinds, because they fail differently on purpose:
 * - `queue`: BullMQ's (workers, queues), which must wait out an outage (maxRetriesPerRequest
 *   null, offline queue on): a chunk in progress carries on once Redis is back.
 * - `fast`: the image path's (locks, purge markers), which must fail at once when Redis is
 *   down (no offline queue, one retry): an image request never waits for Redis, it degrades
 *   to one render per node instead (distributed/renderLocks.ts).
 * Both reconnect by themselves with a capped backoff. Errors are reported through `onError`
 * (never thrown as unhandled 'error' events); the URL, which may hold a password, never is.
 */
export type RedisRole = 'queue' | 'fast';

export function connectRedis(url: string, role: RedisRole, onError: (error: Error) => void = () => undefined): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1_000),
    ...(role === 'queue' ? { maxRetriesPerRequest: null, enableOfflineQueue: true } : { maxRetriesPerRequest: 1, enableOfflineQueue: false }),
  });
  redis.on('error', onError);
  return redis;
}
