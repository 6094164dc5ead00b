import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreflightSummary } from '../../src/preflight/index.js';
import { resolveExecutable, chromiumArgs } from '../../src/render/index.js';
import { fixtureTemplates, repoRoot } from '../support/pipeline.js';

const bin = join(repoRoot, 'bin/mergeshot.js');
let work: string;
let browser: Browser;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mergeshot-preflight-'));
  const executable = await resolveExecutable(process.env.MERGESHOT_CHROMIUM);
  browser = await chromium.launch({ executablePath: executable.path, args: [...chromiumArgs] });
});
afterAll(async () => {
  await browser?.close();
  await rm(work, { recursive: true, force: true });
});

function mergeshot(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, '--templates', fixtureTemplates, ...args], { cwd: work, env: { ...process.env, MERGESHOT_PAGES: '2' } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

// One row per category, then a row that cannot be read (an unclosed quote) at the end.
const ugly = [
  'Name,VIP,Photo,Color,Email,Notes',
  'Ada Lovelace,yes,,#123456,ada@example.com,', // 1 clean (photo missing: no fallback)
  '*|FNAME|*,no,,#123456,grace@example.com,', // 2 unreplaced merge tag
  `${'W'.repeat(60)},no,,#123456,w@example.com,`, // 3 overflow, fitted to the minimum
  'Ben,maybe,,#123456,ben@example.com,', // 4 invalid boolean
  'Cara,no,http://127.0.0.1:9/me.jpg,#123456,cara@example.com,', // 5 image refused by the guard
  'Ada Lovelace,yes,,#123456,ADA@example.com ,', // 6 duplicate recipient of 1 (case, space), not a duplicate row: its Email differs
  'Dee \uE000,no,,#123456,dee@example.com,', // 7 missing glyph
  'Liam,no,,#123456,liam.haddad@example.com,', // 8 two people whose mapped fields are the same…
  'Liam,no,,#123456,liam.smith@example.com,', // 9 …are not duplicates: another column differs
  'Ada Lovelace,yes,,#123456,ada@example.com,', // 10 duplicate row of 1 (every column), duplicate recipient
  '"Fay,no,,#123456,fay@example.com,', // 11 unreadable
].join('\n');

describe('mergeshot preflight', () => {
  let summary: PreflightSummary;
  let run: { code: number; stdout: string; stderr: string };
  const out = () => join(work, 'report');

  beforeAll(async () => {
    const data = join(work, 'campaign.csv');
    await writeFile(data, `${ugly}\n`);
    run = await mergeshot(['preflight', 'mini', '--data', data, '--preset', 'original', '--out', out()]);
    summary = JSON.parse(await readFile(join(out(), 'summary.json'), 'utf8')) as PreflightSummary;
  }, 120_000);

  it('exits 1 because a row would fail, and says where the report is', () => {
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('11 rows checked: ');
    expect(run.stderr).toContain('1 would fail');
    expect(run.stderr).toContain(`report: ${join(out(), 'report.html')}`);
  });

  it('puts every ugly row in its category, with its row number', () => {
    const rowsOf = (code: string) => summary.kinds.find((k) => k.code === code)?.firstRows;
    expect(rowsOf('unreadable-row')).toEqual([11]);
    expect(rowsOf('unreplaced-merge-tag')).toEqual([2]);
    expect(rowsOf('overflow')).toEqual([3]);
    expect(rowsOf('invalid')).toEqual([4]);
    expect(rowsOf('image-failed')).toEqual([5]);
    expect(rowsOf('missing-glyph')).toEqual([7]);
    expect(summary.kinds.find((k) => k.code === 'invalid')?.fields).toEqual({ vip: 1 });
    // Each listed row names the field its finding is in; a row-wide finding names none.
    expect(summary.kinds.find((k) => k.code === 'invalid')?.firstFindings).toEqual([{ row: 4, fields: ['vip'] }]);
    expect(summary.kinds.find((k) => k.code === 'unreadable-row')?.firstFindings).toEqual([{ row: 11, fields: [] }]);
    expect([summary.rows, summary.failed]).toEqual([11, 1]);
    expect(summary.duplicateRows).toEqual({ count: 1, firstPairs: [[10, 1]] });
    expect(summary.duplicateRecipients).toEqual({ column: 'Email', count: 2, firstPairs: [[6, 1], [10, 1]] });
    expect(summary.emptyColumns).toEqual(['Notes']);
    expect(summary.unusedColumns).toEqual(['Email', 'Notes']);
    expect(summary.mapping).toEqual([
      { field: 'name', column: 'Name' },
      { field: 'vip', column: 'VIP' },
      { field: 'photo', column: 'Photo' },
      { field: 'color', column: 'Color' },
    ]);
  });

  it('renders only the cases the report shows, the smallest fitted size at its --fit-min', async () => {
    const smallest = summary.cases.find((c) => c.label.includes('smallest fitted name'));
    expect(smallest?.row).toBe(3);
    expect(smallest?.label).toContain('18 px, minimum 18 px');
    const images = await readdir(join(out(), 'images'));
    expect(images.length).toBe(summary.cases.filter((c) => c.file).length);
    expect(images.length).toBeLessThan(summary.rows);
    for (const code of ['unreplaced-merge-tag', 'overflow', 'invalid', 'image-failed', 'missing-glyph']) expect(summary.cases.some((c) => c.label.includes(`first ${code}`)), code).toBe(true);
  });

  it('writes a report that opens from disk in Chromium with every image loading and nothing fetched off disk', async () => {
    const page = await browser.newPage();
    const offDisk: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith('file://')) offDisk.push(request.url());
    });
    try {
      await page.goto(pathToFileURL(join(out(), 'report.html')).href, { waitUntil: 'load' });
      const images = await page.$$eval('img', (all) => all.map((img) => ({ src: img.getAttribute('src'), loaded: img.complete && img.naturalWidth > 0 })));
      expect(images.length).toBe(summary.cases.filter((c) => c.file).length);
      expect(images.filter((i) => !i.loaded)).toEqual([]);
      expect(await page.textContent('.verdict')).toBe('1 of 11 rows would fail');
      expect(await page.textContent('body')).toContain('Unreplaced merge tags');
      const invalid = await page.locator('tr', { hasText: 'Invalid values' }).locator('.rows').textContent();
      expect(invalid).toBe('rows 4 (vip)');
      expect(await page.textContent('body')).toContain('1 duplicate row (identical in every column): 10 (same as 1)');
      expect(await page.textContent('body')).toContain('2 duplicate recipients in “Email”: 6 (same as 1), 10 (same as 1)');
      // Record values are never printed as text: the images show them.
      expect(await page.textContent('body')).not.toContain('grace@example.com');
      expect(offDisk).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
