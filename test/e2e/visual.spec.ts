import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { repoRoot } from '../support/pipeline.js';
import { expect, test } from './studioFixtures.js';

/**
 * The studio's visual review in a real browser against a real `mergeshot serve`: a template's
 * CSS edited on disk makes its images differ from their goldens; the review shows golden,
 * render and diff; accepting in the studio makes `npm run test:templates` (run for real, as a
 * child process, over the server's templates folder) pass where it failed before.
 */
test.use({ templates: ['welcome-banner'] });

const id = 'welcome-banner';
const typical = 'typical.default.original';

interface SuiteRun {
  readonly code: number;
  readonly output: string;
}

/** `npx playwright test --project=templates` over the studio's templates, results kept in its temp root. */
function runSuite(templatesDir: string, root: string, label: string): Promise<SuiteRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, MERGESHOT_VISUAL_TEMPLATES: templatesDir, MERGESHOT_VISUAL_RESULTS: join(root, `suite-${label}/results`), MERGESHOT_VISUAL_REPORT: join(root, `suite-${label}/report`) };
  // This test runs inside a Playwright worker: none of its settings belong to the child run.
  for (const name of Object.keys(env)) if (name === 'CI' || name.startsWith('TEST_') || name.startsWith('PW_') || name.startsWith('PLAYWRIGHT_')) delete env[name];
  return new Promise((resolve) => {
    execFile('npx', ['playwright', 'test', '--project=templates', '--workers=1'], { cwd: repoRoot, env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}\n${stderr}` });
    });
  });
}

/** A 40×40 CSS px pure green square in the banner's top-left corner, in every image. */
async function paintCorner(templatesDir: string): Promise<void> {
  const path = join(templatesDir, id, 'template.html');
  const html = await readFile(path, 'utf8');
  await writeFile(path, html.replace('</style>', '  .banner::after { content: ""; position: absolute; left: 0; top: 0; width: 40px; height: 40px; background: #00ff00; }\n</style>'));
}

/** The RGB of one pixel of a loaded <img>, read through a canvas (same origin, so not tainted). */
function pixelOf(page: Page, selector: string, x: number, y: number): Promise<number[]> {
  return page.locator(selector).evaluate(async (img: HTMLImageElement, [px, py]) => {
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext('2d')!;
    context.drawImage(img, 0, 0);
    return [...context.getImageData(px!, py!, 1, 1).data.slice(0, 3)];
  }, [x, y]);
}

test('a failing visual test: see golden, render and diff, accept in the studio, then npm run test:templates passes', async ({ page, studio }) => {
  test.setTimeout(300_000);
  await paintCorner(studio.templatesDir);

  // The suite fails on the edited template: the studio has something to fix.
  const before = await runSuite(studio.templatesDir, studio.root, 'before');
  expect(before.code, before.output).not.toBe(0);
  expect(before.output).toContain(typical);

  await page.goto(`/templates/${id}`);
  await page.getByRole('tab', { name: 'Visual review' }).click();
  const review = page.locator('#visual');
  const item = review.locator(`[data-case="${typical}"]`);
  await expect(item).toBeVisible({ timeout: 60_000 });
  await expect(review.locator('.visual-summary')).toHaveText(/^8 differ \(of 8 images\)\.$/);
  await expect(item.getByRole('heading')).toContainText('pixels differ');
  await expect(item).toContainText('template.html changed');
  await expect(item).toContainText('exact (maxDiffPixels 0, threshold 0), no masks');

  // Golden, render and Playwright's diff, each an image the browser decoded.
  const expected = `[data-case="${typical}"] img[alt^="Expected"]`;
  const actual = `[data-case="${typical}"] img[alt^="Actual"]`;
  const diff = `[data-case="${typical}"] img[alt^="Diff"]`;
  expect(await pixelOf(page, actual, 5, 5)).toEqual([0, 255, 0]);
  expect(await pixelOf(page, expected, 5, 5)).not.toEqual([0, 255, 0]);
  expect(await pixelOf(page, diff, 5, 5)).toEqual([255, 0, 0]);
  expect(await pixelOf(page, diff, 300, 250)).not.toEqual([255, 0, 0]);

  // The slider is a labelled range the keyboard moves; it sets how much of the render shows.
  const slider = item.getByLabel('Reveal the render over the golden');
  await slider.focus();
  await page.keyboard.press('Home');
  await expect(slider).toHaveValue('0');
  await expect(item.locator('.visual-compare')).toHaveAttribute('style', /--reveal: 0%/);
  await page.keyboard.press('End');
  await expect(item.locator('.visual-compare')).toHaveAttribute('style', /--reveal: 100%/);
  await page.keyboard.press('Home');
  for (let i = 0; i < 30; i++) await page.keyboard.press('ArrowRight');
  await expect(slider).toHaveAttribute('aria-valuetext', '30% of the render shown over the golden, from the left');

  const axe = await new AxeBuilder({ page }).include('#visual').analyze();
  expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`)).toEqual([]);

  if (process.env.MERGESHOT_STUDIO_SCREENSHOTS) {
    await page.setViewportSize({ width: 1280, height: 1280 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await mkdir(join(repoRoot, 'docs/images'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'docs/images/studio-visual-review.png'), fullPage: false });
  }

  // Accept one image with the keyboard: only its golden is written.
  const goldenPath = join(studio.templatesDir, id, '__golden__', `${typical}.png`);
  const goldenBefore = await readFile(goldenPath);
  await item.getByRole('button', { name: 'Accept this image' }).focus();
  await page.keyboard.press('Enter');
  const status = review.getByRole('status');
  await expect(status).toHaveText(`Accepted ${typical}: golden written. 7 images still differ.`, { timeout: 60_000 });
  await expect(item).toHaveCount(0);
  await expect(review.locator('.visual-case')).toHaveCount(7);
  const goldenAfter = await readFile(goldenPath);
  expect(goldenAfter.equals(goldenBefore)).toBe(false);
  // Focus moved on to the next image's Accept button, not lost to <body>.
  await expect(page.locator(':focus')).toHaveText('Accept this image');

  await review.getByRole('button', { name: 'Accept all 7 images' }).click();
  await expect(status).toContainText('Accepted 7 images: goldens written. Every image now matches', { timeout: 60_000 });
  await expect(review.locator('.visual-summary')).toHaveText('All 8 images match their goldens.');

  const after = await runSuite(studio.templatesDir, studio.root, 'after');
  expect(after.code, after.output).toBe(0);
  expect(after.output).toMatch(/\d+ passed/);
});

test('the review follows edits on disk: a change to the template re-runs it without a reload', async ({ page, studio }) => {
  test.setTimeout(120_000);
  await page.goto(`/templates/${id}#visual`);
  const review = page.locator('#visual');
  // Whatever the test before left (all accepted, or a fresh copy): every image matches now.
  await expect(review.locator('.visual-summary')).toHaveText('All 8 images match their goldens.', { timeout: 60_000 });
  const path = join(studio.templatesDir, id, 'template.html');
  const html = await readFile(path, 'utf8');
  await writeFile(path, html.replace('</style>', '  .banner::before { background: #0000ff; }\n</style>'));
  await expect(review.locator('.visual-summary')).toHaveText(/^8 differ \(of 8 images\)\.$/, { timeout: 60_000 });
  await expect(review.getByRole('status')).toHaveText('The template changed on disk: reviewed again.');
  await expect(review.locator('.visual-case')).toHaveCount(8);
});
