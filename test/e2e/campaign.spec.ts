import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { parse } from 'csv-parse/sync';
import { repoRoot } from '../support/pipeline.js';
import { zipEntry, zipNames } from '../support/zip.js';
import { expect, test } from './studioFixtures.js';

/**
 * The Campaign tab in a real browser against a real `mergeshot serve`: upload a CSV whose name
 * column matches no field by name and whose last row cannot be read, map that column by hand,
 * preflight, render, download the zip (one image per good row, the bad row failed in
 * manifest.csv), look at a flagged row, then delete everything from the studio's data folder.
 */
test.use({ templates: ['fixture:mini'] });

const csvPath = join(repoRoot, 'test/fixtures/data/campaign-guests.csv');
const unreadableRow6 = 'row 6: a quoted field opens in this row and is never closed, so this row and every line after it could not be read. Close the quote or remove it.';

test('upload a CSV with an unreadable row, map a column by hand, run the batch, download the zip, then delete it all', async ({ page, studio }) => {
  await page.goto('/templates/mini');
  await page.getByRole('tab', { name: 'Campaign' }).click();
  const campaign = page.locator('#campaign');
  const status = campaign.locator('.campaign-status');

  await campaign.getByLabel('CSV file').setInputFiles(csvPath);
  await expect(status).toHaveText('Uploaded: 6 rows, 4 columns, 1 row unreadable.');
  await expect(campaign.locator('.campaign-unreadable')).toContainText(unreadableRow6);

  // "Guest" matches no field by name; VIP matches vip by name.
  const name = campaign.getByLabel('name', { exact: true });
  await expect(name).toHaveValue('');
  await expect(campaign.getByLabel('vip', { exact: true })).toHaveValue('VIP');
  await expect(campaign.locator('.campaign-unused')).toHaveText('Columns not used (their values go nowhere): Guest, Email, Colour');
  await name.selectOption('Guest');
  await campaign.getByLabel('color', { exact: true }).selectOption('Colour');
  await expect(campaign.locator('.campaign-unused')).toHaveText('Columns not used (their values go nowhere): Email');

  await campaign.getByRole('button', { name: 'Run preflight' }).click();
  await expect(status).toHaveText('Preflight done: 6 rows, 0 clean, 5 with warnings, 1 would fail.', { timeout: 30_000 });
  const findings = campaign.getByRole('table', { name: 'Findings' });
  await expect(findings.getByRole('row', { name: /unreadable-row\s+1/ })).toBeVisible();
  // Row 5's unreplaced merge tag is in the hand-mapped column: found only because the mapping applied.
  await expect(findings.getByRole('row', { name: /unreplaced-merge-tag\s+1/ })).toBeVisible();
  const report = await campaign.getByRole('link', { name: 'Open the full preflight report' }).getAttribute('href');
  const reportAnswer = await page.request.get(report!);
  expect(reportAnswer.status()).toBe(200);
  expect(await reportAnswer.text()).toContain('Rows that cannot be read');

  await campaign.getByRole('button', { name: 'Render campaign' }).click();
  await expect(status).toHaveText('Campaign rendered: 5 images, 1 row failed.', { timeout: 60_000 });
  const progress = campaign.locator('progress');
  await expect(progress).toHaveJSProperty('value', 6);
  await expect(progress).toHaveJSProperty('max', 6);
  await expect(campaign.locator('.campaign-progress-text')).toHaveText('6 of 6 rows · 1 failed · 5 with warnings');

  const rows = campaign.getByRole('table', { name: /Failed and warned rows/ });
  await expect(rows.locator('tbody tr')).toHaveCount(6);
  const failedRow = rows.locator('tbody tr.status-failed');
  await expect(failedRow).toHaveCount(1);
  await expect(failedRow).toContainText(unreadableRow6);
  await expect(failedRow).toContainText('no image');
  await campaign.screenshot({ path: join(repoRoot, 'docs/images/studio-campaign.png') });
  // Every step is on screen now: no serious or critical accessibility violation in any of them.
  const scan = await new AxeBuilder({ page }).include('#campaign').analyze();
  expect(scan.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);

  const [zipDownload] = await Promise.all([page.waitForEvent('download'), campaign.getByRole('button', { name: 'Download images (zip)' }).click()]);
  const zip = await readFile(await zipDownload.path());
  expect(zipNames(zip).sort()).toEqual(['00001.png', '00002.png', '00003.png', '00004.png', '00005.png', 'manifest.csv']);
  const manifest = parse(zipEntry(zip, 'manifest.csv'), { columns: true }) as Record<string, string>[];
  expect(manifest.map((m) => [m.row, m.status])).toEqual([['1', 'warning'], ['2', 'warning'], ['3', 'warning'], ['4', 'warning'], ['5', 'warning'], ['6', 'failed']]);
  expect(manifest[5]).toMatchObject({ file: '', error: unreadableRow6 });
  // The hand mapping fed the field: the alt text carries the Guest column, not the fallback.
  expect(manifest[0]!.alt).toBe('Card for Ada Lovelace');

  const [manifestDownload] = await Promise.all([page.waitForEvent('download'), campaign.getByRole('button', { name: 'Download manifest.csv' }).click()]);
  expect(manifestDownload.suggestedFilename()).toMatch(/^mini-[0-9a-f]{8}-manifest\.csv$/);
  expect(await readFile(await manifestDownload.path())).toEqual(zipEntry(zip, 'manifest.csv'));

  // A warned row opens its image in a dialog, keyboard first.
  await rows.getByRole('button', { name: 'View row 3' }).press('Enter');
  const viewer = page.getByRole('dialog', { name: 'Row 3' });
  await expect(viewer).toBeVisible();
  await expect.poll(() => viewer.locator('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(400);
  await expect(viewer).toContainText('Warnings: missing:photo, fallback:color');
  await expect(viewer.getByRole('button', { name: 'Close' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(viewer).toBeHidden();

  const stored = async () => [...(await readdir(join(studio.dataDir, 'uploads'))), ...(await readdir(join(studio.dataDir, 'campaigns')))];
  expect(await stored()).toHaveLength(2);
  page.once('dialog', (dialog) => void dialog.accept());
  await campaign.getByRole('button', { name: 'Delete upload and results' }).click();
  await expect(status).toHaveText('Deleted the upload, its preflight report and its rendered images from the server.');
  expect(await stored()).toEqual([]);
  await expect(campaign.getByLabel('CSV file')).toBeFocused();

  // Personal data never reached the server's log.
  expect(studio.output.join('\n')).not.toMatch(/Ada Lovelace|ada@example\.com|Nwosu/);
});
