import setupBrowser from './globalSetup.js';
import setupRedis from './redisGlobalSetup.js';

/**
 * vitest's global setup: the browser unpack shared with Playwright Test, then the run's
 * redis-server for the distributed tests (redisGlobalSetup.ts); returns its teardown.
 */
export default async function setup(): Promise<() => Promise<void>> {
  await setupBrowser();
  return setupRedis();
}
