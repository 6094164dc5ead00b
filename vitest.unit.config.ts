import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: test/unit alone, in seconds: no global setup, so no browser unpack, no
 * redis-server and no apt. `npm test` (vitest.config.ts) still runs these with the rest.
 */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    // As vitest.config.ts: a busy shared machine makes sharp fixtures slow, never wrong.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
