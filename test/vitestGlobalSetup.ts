import setupBrowser from './globalSetup.js';
import { ensureRedisServer } from './support/redis.js';

/**
 * vitest's global setup: the browser unpack shared with Playwright Test, then redis-server for
 * the distributed tests, installed with apt here, once, when it is missing (two test files
 * installing at the same time would race for dpkg's lock).
 */
export default async function setup(): Promise<void> {
  await setupBrowser();
  ensureRedisServer();
}
