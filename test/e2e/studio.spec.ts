import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './studioFixtures.js';

/**
 * The studio in a real browser against a real `mergeshot serve` on loopback (logged in by the fixture with the studio password):
 * the preview is the shipped image and follows the form, size and preset; the ugly-data grid
 * badges an overflow; an edit on disk updates the open page; a broken template says where.
 */
test.use({ templates: ['fixture:studio-card', 'event-invite'] });

/**
 * The preview image's bytes, as the page holds them (a blob: URL of the API's answer). A new
 * preview replaces the element and revokes the old URL, so a fetch that lands just after that is
 * retried on the new element.
 */
async function previewBytes(page: Page): Promise<Buffer> {
  await expect(page.locator('.preview-stage img')).toBeVisible();
  const base64 = await page.evaluate(async () => {
    let buffer: ArrayBuffer | undefined;
    for (let attempt = 0; buffer === undefined; attempt++) {
      try {
        const img = document.querySelector<HTMLImageElement>('.preview-stage img');
        buffer = await (await fetch(img?.src ?? 'about:blank')).arrayBuffer();
      } catch (error) {
        if (attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    let text = '';
    for (const byte of new Uint8Array(buffer)) text += String.fromCharCode(byte);
    return btoa(text);
  });
  return Buffer.from(base64, 'base64');
}

const hashOf = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function waitForNewPreview(page: Page, before: string): Promise<Buffer> {
  let bytes: Buffer = Buffer.alloc(0);
  await expect.poll(async () => hashOf((bytes = await previewBytes(page))), { timeout: 45_000 }).not.toBe(before);
  return bytes;
}

const stat = (page: Page, name: string): Locator => page.locator(`[data-stat="${name}"]`);

test('typing a name changes the preview pixels; size and preset change its dimensions and bytes', async ({ page }) => {
  await page.goto('/templates/studio-card');
  await expect(page.locator('.preview-stage img')).toBeVisible();
  await expect(stat(page, 'dimensions')).toHaveText('400 × 200 px');
  const first = hashOf(await previewBytes(page));

  await page.getByLabel('Name', { exact: true }).fill('Grace Hopper');
  const second = await waitForNewPreview(page, first);
  expect(second.subarray(1, 4).toString()).toBe('PNG');
  await expect(page.getByRole('status').filter({ hasText: 'Preview updated' })).toHaveCount(1);

  const bytesBefore = await stat(page, 'bytes').textContent();
  await page.getByLabel('Size').selectOption('square');
  await expect(stat(page, 'dimensions')).toHaveText('300 × 300 px');
  await page.getByLabel('Preset').selectOption('email');
  await expect(stat(page, 'bytes')).toContainText('JPEG');
  expect(await stat(page, 'bytes').textContent()).not.toBe(bytesBefore);
  const jpeg = await previewBytes(page);
  expect([jpeg[0], jpeg[1]]).toEqual([0xff, 0xd8]);
});

test('a slow answer for an older value never replaces the preview of a newer one', async ({ page }) => {
  await page.goto('/templates/studio-card');
  await expect(page.locator('.preview-stage img')).toBeVisible();
  const initial = hashOf(await previewBytes(page));
  // The server's answer for "Slow" is held back until the answer for "Fast" has been shown.
  let releaseSlow: () => void = () => undefined;
  const slowHeld = new Promise<void>((resolve) => (releaseSlow = resolve));
  await page.route('**/api/render', async (route) => {
    const body = route.request().postDataJSON() as { data: { name?: string } };
    const response = await route.fetch();
    if (body.data.name === 'Slow') await slowHeld;
    await route.fulfill({ response }).catch(() => undefined); // the page may have aborted it
  });
  const name = page.getByLabel('Name', { exact: true });
  await name.fill('Slow');
  await expect.poll(() => page.evaluate(() => document.querySelector('.preview')?.getAttribute('aria-busy'))).toBe('true');
  await name.fill('Fast');
  const fast = hashOf(await waitForNewPreview(page, initial));
  releaseSlow();
  // Give the held answer every chance to land, then check the preview still shows "Fast".
  await page.waitForLoadState('networkidle');
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 500)));
  expect(hashOf(await previewBytes(page))).toBe(fast);
  await page.unroute('**/api/render');
});

test('the ugly-data grid badges the long-name case of a template built to overflow', async ({ page }) => {
  await page.goto('/templates/studio-card');
  await page.getByRole('tab', { name: 'Ugly data' }).click();
  const longName = page.locator('[data-case="generated:max-length"]');
  await expect(longName.locator('[data-rule="overflow"]')).toHaveText(/^overflow by \d+ px: name$/, { timeout: 60_000 });
  // The typical sample fits its box: no overflow badge there.
  await expect(page.getByRole('tabpanel').getByText(/records rendered/)).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('[data-case="typical"] [data-rule="overflow"]')).toHaveCount(0);
  await expect(page.locator('[data-case="generated:missing"] [data-warning="fallback"]')).toHaveText(['fallback used: name', 'fallback used: plan']);
});

test('editing the template CSS on disk updates the open preview without a reload', async ({ page, studio }) => {
  await page.goto('/templates/studio-card');
  await expect(page.locator('.preview-stage img')).toBeVisible();
  await expect.poll(() => page.evaluate(() => document.documentElement.dataset.events)).toBe('open');
  const before = hashOf(await previewBytes(page));
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

  const css = join(studio.templatesDir, 'studio-card', 'style.css');
  const original = await readFile(css, 'utf8');
  try {
    await writeFile(css, original.replace('background: #1e3a8a', 'background: #b91c1c'));
    const after = await waitForNewPreview(page, before);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    // The new background is in the shipped pixels: top-left corner is now red.
    const { default: sharp } = await import('sharp');
    const { data } = await sharp(after).extract({ left: 2, top: 2, width: 1, height: 1 }).raw().toBuffer({ resolveWithObject: true });
    expect([data[0], data[1], data[2]]).toEqual([0xb9, 0x1c, 0x1c]);
  } finally {
    await writeFile(css, original);
  }
});

test('a Handlebars syntax error shows its file and line over the last good image', async ({ page, studio }) => {
  await page.goto('/templates/studio-card');
  await expect(page.locator('.preview-stage img')).toBeVisible();
  await expect.poll(() => page.evaluate(() => document.documentElement.dataset.events)).toBe('open');
  const html = join(studio.templatesDir, 'studio-card', 'template.html');
  const original = await readFile(html, 'utf8');
  try {
    await writeFile(html, original.replace('{{plan}} plan', '{{plan} plan'));
    const problem = page.locator('.problem');
    await expect(problem).toBeVisible({ timeout: 45_000 });
    const line = original.split('\n').findIndex((text) => text.includes('{{plan}} plan')) + 1;
    await expect(problem.locator('[data-problem="where"]')).toHaveText(`template.html, line ${line}`);
    await expect(problem.locator('[data-problem="message"]')).toContainText('Parse error');
    await expect(problem.locator('pre')).toContainText(`${line} | <p class="plan">{{plan} plan</p>`);
    // The last good image stays, dimmed.
    await expect(page.locator('.preview-stage.stale img')).toBeVisible();
  } finally {
    await writeFile(html, original);
  }
  await expect(page.locator('.problem')).toBeHidden({ timeout: 45_000 });
});

test('the studio pages have no serious or critical accessibility violations (axe-core)', async ({ page }) => {
  const scan = async (what: string) => {
    const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${what}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
  };
  await page.goto('/');
  await expect(page.locator('.card img').first()).toBeVisible({ timeout: 30_000 });
  await scan('gallery');
  await page.goto('/templates/event-invite');
  await expect(page.locator('.preview-stage img')).toBeVisible();
  await scan('template page, preview');
  for (const tab of ['Ugly data', 'URL builder', 'Campaign', 'Visual review']) {
    await page.getByRole('tab', { name: tab }).click();
    await expect(page.getByRole('tabpanel')).toBeVisible();
    await page.waitForLoadState('networkidle');
    await scan(`template page, ${tab}`);
  }
  await page.goto('/login');
  await scan('login');
});
