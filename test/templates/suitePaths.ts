import { join, resolve } from 'node:path';
import { fingerprintPathOf } from '../../src/visual/index.js';

/**
 * Where the template suite reads templates and writes its results. The environment variables
 * exist for test/integration/templates.visual.test.ts, which runs the suite against a copy of a
 * template in a temp folder; a designer never needs them.
 */
const repoRoot = join(import.meta.dirname, '../..');

export const suitePaths = {
  repoRoot,
  /** Templates whose goldens are checked: one folder per template, each with its `__golden__/`. */
  templatesDir: resolve(process.env.MERGESHOT_VISUAL_TEMPLATES ?? join(repoRoot, 'templates')),
  /** Playwright's outputDir: actual and diff images of failed tests. */
  resultsDir: resolve(process.env.MERGESHOT_VISUAL_RESULTS ?? join(repoRoot, 'test-results')),
  /** The HTML report (`npx playwright show-report`). */
  reportDir: resolve(process.env.MERGESHOT_VISUAL_REPORT ?? join(repoRoot, 'playwright-report')),
  stylesDir: join(repoRoot, 'styles'),
} as const;

/** The renderer fingerprint shared by every golden under templatesDir. */
export const fingerprintPath = fingerprintPathOf(suitePaths.templatesDir);
