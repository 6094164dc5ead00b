import { defineConfig } from '@playwright/test';
import { suitePaths } from './test/templates/suitePaths.js';

/**
 * The template suite (`npm run test:templates`): Playwright Test compares mergeshot's own
 * renders of every bundled template with the goldens beside it (test/templates/visual.spec.ts).
 * The tests use no Playwright browser fixture, so Playwright never needs (or downloads) a
 * browser: each worker's Pipeline finds Chromium the way mergeshot does (MERGESHOT_CHROMIUM, else
 * the build bundled in @sparticuz/chromium), unpacked once by the global setup.
 * Unit and integration tests run on vitest (vitest.config.ts), which never reads *.spec.ts.
 */
export default defineConfig({
  testDir: './test/templates',
  testMatch: '**/*.spec.ts',
  globalSetup: './test/globalSetup.ts',
  // The machine has 2 cores; each worker owns one Chromium (suiteFixtures.ts).
  workers: 2,
  fullyParallel: true,
  forbidOnly: Boolean(process.env.CI),
  timeout: 60_000,
  outputDir: suitePaths.resultsDir,
  reporter: [['list'], ['html', { outputFolder: suitePaths.reportDir, open: 'never' }]],
  // templates/<id>/__golden__/<sample>.<size>.<preset>.png: the spec passes that path as the snapshot name.
  snapshotDir: suitePaths.templatesDir,
  snapshotPathTemplate: '{snapshotDir}/{arg}{ext}',
  expect: {
    // Renders are deterministic: any changed pixel fails unless the template's check.visual allows it.
    toMatchSnapshot: { maxDiffPixels: 0, threshold: 0 },
  },
});
