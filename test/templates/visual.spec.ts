import { readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { TestInfo } from '@playwright/test';
import type { Pipeline } from '../../src/pipeline/index.js';
import {
  changedInputs,
  comparableImage,
  describeTolerance,
  goldenFolder,
  goldenInputs,
  readSidecar,
  sidecarJson,
  sidecarOf,
  templateSuites,
  toleranceOf,
  writeFingerprint,
  writeSidecar,
  type GoldenSidecar,
  type TemplateCase,
  type TemplateSuite,
} from '../../src/visual/index.js';
import { differingRepetition } from './repeatCheck.js';
import { expect, test } from './suiteFixtures.js';
import { fingerprintPath, suitePaths } from './suitePaths.js';

/**
 * The template suite: each template × sample × size × checked preset is rendered by
 * mergeshot itself (the encoded image that is shipped, not a screenshot of the HTML) and
 * compared with its golden, `templates/<id>/__golden__/<sample>.<size>.<preset>.png`, by
 * Playwright's snapshot matching: exact unless template.json's `check.visual` allows more.
 * `npm run test:templates -- --update-snapshots` accepts the new images (README, "Check a
 * template's look").
 */
type UpdateMode = TestInfo['config']['updateSnapshots'];
const accepts = (mode: UpdateMode) => mode === 'all' || mode === 'changed';
const writesMissing = (mode: UpdateMode) => mode !== 'none';

test('renderer: the goldens were made by this renderer (Chromium, fonts, sharp)', async ({ renderer }, testInfo) => {
  const mode = testInfo.config.updateSnapshots;
  const where = relative(process.cwd(), fingerprintPath);
  if (!renderer.stored) {
    if (!writesMissing(mode)) throw new Error(`no renderer fingerprint at ${where}: record it with npm run test:templates -- --update-snapshots`);
    await writeFingerprint(suitePaths.templatesDir, renderer.current);
    // Playwright's default mode writes a missing snapshot and fails the test, so CI never passes on one.
    if (mode === 'default') throw new Error(`no renderer fingerprint at ${where} yet: wrote it; commit it with the goldens`);
    return;
  }
  if (!renderer.change) return;
  if (accepts(mode)) {
    await writeFingerprint(suitePaths.templatesDir, renderer.current);
    return;
  }
  throw new Error(renderer.change);
});

for (const suite of templateSuites(suitePaths.templatesDir)) {
  test.describe(suite.id, () => {
    if (suite.problem) {
      test('template.json declares what to check', () => {
        throw new Error(suite.problem);
      });
    }
    if (!suite.problem) {
      test('no golden is left from a sample, size or preset that is gone', async ({}, testInfo) => {
        const expected = new Set(suite.cases.flatMap((entry) => [`${entry.name}.png`, `${entry.name}.json`]));
        const orphans = (await readdir(join(suite.dir, goldenFolder)).catch(() => [] as string[])).filter((file) => !expected.has(file)).sort();
        if (orphans.length === 0) return;
        // Like a golden, an orphan is only ever removed on purpose: --update-snapshots=all.
        if (testInfo.config.updateSnapshots === 'all') {
          await Promise.all(orphans.map((file) => rm(join(suite.dir, goldenFolder, file))));
          return;
        }
        throw new Error(`${relative(process.cwd(), join(suite.dir, goldenFolder))} holds goldens no test uses (a sample, size or preset was removed or renamed): ${orphans.join(', ')}. Delete them, or run npm run test:templates -- --update-snapshots=all.`);
      });
    }
    for (const entry of suite.cases) {
      test(`${entry.sample} ${entry.size} ${entry.preset}`, async ({ pipeline, renderer }, testInfo) => {
        const mode = testInfo.config.updateSnapshots;
        // Skipped, with the reason in the report, only while the renderer fingerprint differs and
        // is not being accepted: the renderer test above then fails once with "the renderer
        // changed from X to Y", instead of every image failing without an explanation.
        test.skip(renderer.change !== undefined && !accepts(mode), renderer.change);
        await checkImage(suite, entry, pipeline, renderer.current.fonts, testInfo);
      });
    }
  });
}

async function checkImage(suite: TemplateSuite, entry: TemplateCase, pipeline: Pipeline, fonts: Readonly<Record<string, string>>, testInfo: TestInfo): Promise<void> {
  const result = await pipeline.renderOne({ template: suite.dir, data: entry.data, preset: entry.preset, size: entry.size });
  const image = await comparableImage(result, entry.sizeWidth, entry.masks);
  const goldenDir = join(suite.dir, goldenFolder);
  const goldenPath = join(goldenDir, `${entry.name}.png`);
  const inputs = await goldenInputs(suite.dir, suitePaths.stylesDir, fonts, entry.data);
  const accepted = await readSidecar(suite.dir, entry.name);
  const tolerance = toleranceOf(suite.visual);
  const where = relative(process.cwd(), goldenPath);

  try {
    expect(image, `${suite.id} ${entry.name} against ${where}: ${describeTolerance(tolerance, entry.masks)}`).toMatchSnapshot([suite.id, goldenFolder, `${entry.name}.png`], tolerance);
  } catch (error) {
    await testInfo.attach('mergeshot: what changed', { body: mismatchReport(accepted, sidecarOf(image, result.warnings, inputs), describeTolerance(tolerance, entry.masks)), contentType: 'text/plain' });
    throw error;
  }

  // The golden now on disk is this image (just written, or equal): its sidecar describes this render.
  const golden = await readFile(goldenPath).catch(() => undefined);
  const sidecar = sidecarOf(image, result.warnings, inputs);
  const stale = accepted === undefined ? writesMissing(testInfo.config.updateSnapshots) : accepts(testInfo.config.updateSnapshots) && sidecarJson(accepted) !== sidecarJson(sidecar);
  if (golden?.equals(image) && stale) await writeSidecar(suite.dir, entry.name, sidecar);

  const repetition = await differingRepetition(testInfo, `${suite.id}.${entry.name}`, image);
  expect(repetition, 'the same render, repeated, must give the same bytes').toBeUndefined();
}

/** The attachment of a mismatch: both renders' warnings and the inputs that changed since acceptance. */
function mismatchReport(accepted: GoldenSidecar | undefined, current: GoldenSidecar, tolerance: string): string {
  const warnings = (sidecar: GoldenSidecar) => (sidecar.warnings.length === 0 ? ['  (none)'] : sidecar.warnings.map((w) => `  ${w.code}:${w.field} — ${w.message}`));
  if (!accepted) return [`tolerance: ${tolerance}`, '', 'no sidecar beside the golden: its inputs and warnings are unknown (accepting it writes one).', '', 'warnings of this render:', ...warnings(current)].join('\n');
  const changed = changedInputs(accepted.inputs, current.inputs);
  return [
    `tolerance: ${tolerance}`,
    '',
    'inputs changed since the golden was accepted:',
    ...(changed.length === 0 ? ['  none of the template files, styles, fonts or the record: the renderer or the machine differs'] : changed.map((line) => `  ${line}`)),
    '',
    'warnings of the golden render:',
    ...warnings(accepted),
    '',
    'warnings of this render:',
    ...warnings(current),
  ].join('\n');
}
