import { ensureRedisServer, reapStaleRedis, runRedisEnv, startRunRedis } from './support/redis.js';

/**
 * vitest's global setup for Redis: installs redis-server with apt when it is missing (once: two
 * files installing at the same time would race for dpkg's lock), removes what crashed runs left,
 * and starts the run's one redis-server; the test files find it in MERGESHOT_TEST_REDIS_URL
 * (support/redis.ts: a database per file). The teardown stops it; if this process is killed
 * instead, the kernel stops it (support/redis.ts: parent-death signal).
 */
export default async function setup(): Promise<() => Promise<void>> {
  ensureRedisServer();
  await reapStaleRedis();
  const redis = await startRunRedis();
  process.env[runRedisEnv] = redis.url;
  return async () => {
    delete process.env[runRedisEnv];
    await redis.close();
  };
}
