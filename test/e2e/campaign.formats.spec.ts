import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { repoRoot } from '../support/pipeline.js';
import { expect, test } from './studioFixtures.js';

/**
 * The ambiguous-date question in the Campaign tab: ambiguous-dates.csv's Date column reads as
 * DD/MM/YYYY and as MM/DD/YYYY (nothing above 12), so the mapping step asks at upload which it
 * is, each choice showing two of the column's values read that way; the preflight refuses to
 * guess until it is answered, and the answer reaches the rendered campaign.
 */
test.use({ templates: ['event-invite'] });

const csvPath = join(repoRoot, 'test/fixtures/data/ambiguous-dates.csv');

test('asks for the format of an ambiguous date column at upload, with two values read both ways, and renders with the answer', async ({ page }) => {
  await page.goto('/templates/event-invite');
  await page.getByRole('tab', { name: 'Campaign' }).click();
  const campaign = page.locator('#campaign');
  const status = campaign.locator('.campaign-status');

  await campaign.getByLabel('CSV file').setInputFiles(csvPath);
  await expect(status).toHaveText('Uploaded: 8 rows, 5 columns.');
  const question = campaign.getByLabel('Column “Date” (field date): its dates read two ways. Which format does it use?');
  await expect(question).toBeVisible();
  await expect(question.locator('option')).toHaveText([
    'Choose the format…',
    'DD/MM/YYYY: 06/12/2025 is December 6, 2025, 07/11/2025 is November 7, 2025',
    'MM/DD/YYYY: 06/12/2025 is June 12, 2025, 07/11/2025 is July 11, 2025',
  ]);
  await expect(campaign.locator('.campaign-format li')).toHaveText(['06/12/2025: December 6, 2025 as DD/MM/YYYY, or June 12, 2025 as MM/DD/YYYY', '07/11/2025: November 7, 2025 as DD/MM/YYYY, or July 11, 2025 as MM/DD/YYYY']);
  await campaign.screenshot({ path: join(repoRoot, 'docs/images/studio-campaign-date-format.png') });

  // Unanswered, the preflight does not guess.
  await campaign.getByRole('button', { name: 'Run preflight' }).click();
  await expect(status).toContainText('Which format does this column use?', { timeout: 30_000 });

  await question.selectOption('DD/MM/YYYY');
  await campaign.getByRole('button', { name: 'Run preflight' }).click();
  await expect(status).toHaveText(/^Preflight done: 8 rows, /, { timeout: 30_000 });

  await campaign.getByRole('button', { name: 'Render campaign' }).click();
  await expect(status).toHaveText(/^Campaign rendered: 8 images/, { timeout: 90_000 });
  const [manifestDownload] = await Promise.all([page.waitForEvent('download'), campaign.getByRole('button', { name: 'Download manifest.csv' }).click()]);
  const manifest = parse(await readFile(await manifestDownload.path()), { columns: true }) as Record<string, string>[];
  expect(manifest.map((entry) => entry.alt!.match(/ on (.+?) at /u)?.[1])).toEqual(['December 6, 2025', 'November 7, 2025', 'February 1, 2026', 'June 12, 2025', 'December 6, 2025', 'April 3, 2026', undefined, 'October 10, 2025']);
});
