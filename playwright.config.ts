import { defineConfig } from '@playwright/test';
import { suitePaths } from './test/templates/suitePaths.js';

/**
 * Two Playwright Test projects, neither of which downloads a browser:
 * - `templates` (`npm run test:templates`): compares mergeshot's own renders of every bundled
 *   template with the goldens beside it (test/templates/visual.spec.ts). It uses no browser
 *   fixture: each worker's Pipeline finds Chromium the way mergeshot does (MERGESHOT_CHROMIUM,
 *   else the build bundled in @sparticuz/chromium), unpacked once by the global setup.
 * - `studio` (`npm run test:studio`): end-to-end tests of the studio web page against a running
 *   `mergeshot serve`, in mergeshot's Chromium (test/e2e/studioFixtures.ts replaces the browser fixture).
 * Unit and integration tests run on vitest (vitest.config.ts), which never reads *.spec.ts.
 */
export default defineConfig({
  globalSetup: './test/globalSetup.ts',
  // The machine has 2 cores; each worker owns one Chromium.
  workers: 2,
  fullyParallel: true,
  forbidOnly: Boolean(process.env.CI),
  timeout: 60_000,
  outputDir: suitePaths.resultsDir,
  reporter: [['list'], ['html', { outputFolder: suitePaths.reportDir, open: 'never' }]],
  projects: [
    {
      name: 'templates',
      testDir: './test/templates',
      testMatch: '**/*.spec.ts',
      // templates/<id>/__golden__/<sample>.<size>.<preset>.png: the spec passes that path as the snapshot name.
      snapshotDir: suitePaths.templatesDir,
      snapshotPathTemplate: '{snapshotDir}/{arg}{ext}',
      expect: {
        // Renders are deterministic: any changed pixel fails unless the template's check.visual allows it.
        toMatchSnapshot: { maxDiffPixels: 0, threshold: 0 },
      },
    },
    {
      name: 'studio',
      testDir: './test/e2e',
      testMatch: '**/*.spec.ts',
      // Each test file has its own server (a worker fixture); its tests share it, one at a time.
      fullyParallel: false,
      timeout: 90_000,
      expect: { timeout: 15_000 },
      use: { trace: 'retain-on-failure', screenshot: 'only-on-failure' },
    },
  ],
});
