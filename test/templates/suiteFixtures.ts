import { test as base } from '@playwright/test';
import type { Pipeline } from '../../src/pipeline/index.js';
import { testPipeline } from '../support/pipeline.js';
import { currentFingerprint, readFingerprint, rendererChange, type RendererFingerprint } from '../../src/visual/index.js';
import { suitePaths } from './suitePaths.js';

export interface RendererState {
  readonly current: RendererFingerprint;
  /** The fingerprint stored with the goldens, when there is one. */
  readonly stored: RendererFingerprint | undefined;
  /** "the renderer changed from … to …: review and accept", when it did. */
  readonly change: string | undefined;
}

interface SuiteWorkerFixtures {
  /** One Pipeline (one Chromium) per Playwright worker: a worker runs its tests one at a time. */
  pipeline: Pipeline;
  renderer: RendererState;
}

export const test = base.extend<object, SuiteWorkerFixtures>({
  pipeline: [
    async ({}, use) => {
      // The suite compares pixels, not speed: a generous render deadline, so a loaded machine's
      // first emoji render (fonts decoding on a cold page) is never a failure.
      const pipeline = testPipeline({ templatesDir: suitePaths.templatesDir, stylesDir: suitePaths.stylesDir, render: { pages: 1, timeoutMs: 30_000 } });
      try {
        await use(pipeline);
      } finally {
        await pipeline.close();
      }
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  renderer: [
    async ({ pipeline }, use) => {
      const current = await currentFingerprint(pipeline);
      const stored = await readFingerprint(suitePaths.templatesDir);
      await use({ current, stored, change: stored && rendererChange(stored, current) });
    },
    { scope: 'worker', timeout: 120_000 },
  ],
});

export { expect } from '@playwright/test';
