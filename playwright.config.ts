/**
 * mergeshot drives Chromium through playwright-core as a renderer, not as a test runner: the
 * tests run on vitest (vitest.config.ts). This file only records the browser defaults shared by
 * scripts that use the Playwright CLI against a template (e.g. `npx playwright codegen`).
 */
export default {
  use: {
    headless: true,
    launchOptions: {
      // The bundled Chromium; `mergeshot doctor` prints the path in use.
      executablePath: process.env.MERGESHOT_CHROMIUM ?? '/tmp/chromium',
      args: ['--disable-gpu', '--font-render-hinting=none', '--force-color-profile=srgb'],
    },
  },
};
