import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedAlt, longDate, type ExpectedExport } from '../support/exports.js';
import { bundledTemplates, repoRoot } from '../support/pipeline.js';

/**
 * Real-looking exports of three platforms through the real `mergeshot render` and the bundled
 * event-invite template. Each fixture has a sidecar (<name>.expected.json, written with the
 * fixture) giving, per data row, the values a reader of the file would expect on the card — or
 * the reason the row must fail. The alt text in manifest.csv is built from the merged values,
 * so comparing it checks the date (as read with the column's format), the name and the event
 * of every row.
 */

const run = promisify(execFile);
const bin = join(repoRoot, 'bin/mergeshot.js');
const data = (name: string) => join(repoRoot, 'test/fixtures/data', name);
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mergeshot-exports-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

type Expected = ExpectedExport;

type ManifestRow = Record<'row' | 'file' | 'bytes' | 'status' | 'warnings' | 'error' | 'alt', string>;

async function mergeshot(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [bin, '--templates', bundledTemplates, ...args], { cwd: work, env: { ...process.env, MERGESHOT_PAGES: '2' } });
    return { code: 0, stderr };
  } catch (error) {
    const failure = error as { code: number; stderr: string };
    return { code: failure.code, stderr: failure.stderr };
  }
}

async function manifestOf(out: string): Promise<ManifestRow[]> {
  return parse(await readFile(join(out, 'manifest.csv')), { columns: true }) as ManifestRow[];
}

const exports = [
  { platform: 'Mailchimp audience (US dates MM/DD/YYYY, BOM, CRLF)', file: 'mailchimp-audience' },
  { platform: 'HubSpot contacts re-saved by German Excel (";", DD.MM.YYYY, BOM, CRLF, a short row)', file: 'hubspot-contacts' },
  { platform: 'Klaviyo profiles (ISO with zone, month names, LF, no BOM)', file: 'klaviyo-profiles' },
] as const;

describe('mergeshot render on platform exports', () => {
  for (const { platform, file } of exports) {
    it(`${platform}: every row renders with the right date, name and event, or fails with the reason`, async () => {
      const expected = JSON.parse(await readFile(data(`${file}.expected.json`), 'utf8')) as Expected;
      const out = join(work, file);
      const maps = Object.entries(expected.map).flatMap(([field, column]) => ['--map', `${field}=${column}`]);
      const result = await mergeshot(['render', 'event-invite', '--data', data(`${file}.csv`), '--out', out, '--preset', 'email', ...maps]);
      // 1: some rows failed (the unquoted-delimiter row), the others rendered.
      expect(result.code, result.stderr).toBe(1);
      if (expected.dateFormat) expect(result.stderr).toContain(`read as ${expected.dateFormat}, decided from all its values`);

      const manifest = await manifestOf(out);
      expect(manifest.map((entry) => entry.row)).toEqual(Object.keys(expected.rows));
      for (const entry of manifest) {
        const want = expected.rows[entry.row]!;
        const where = `row ${entry.row}: ${entry.status} ${entry.warnings} ${entry.error}`;
        if (want.status === 'failed') {
          expect(entry.status, where).toBe('failed');
          expect(entry.error, where).toMatch(new RegExp(`^row ${entry.row}: ${want.error!.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&')} in a value\\? Put that value in double quotes`, 'u'));
          expect(entry.file, where).toBe('');
          continue;
        }
        expect(entry.status, where).not.toBe('failed');
        expect(entry.alt, where).toBe(expectedAlt(want));
        for (const warning of want.warnings ?? []) expect(entry.warnings.split(';'), where).toContain(warning);
        expect((await stat(join(out, entry.file))).size, where).toBeGreaterThan(0);
      }
    }, 400_000);
  }

  it('refuses a date column that reads two ways, asking which format it is, then renders it with --date-format', async () => {
    const expected = JSON.parse(await readFile(data('ambiguous-dates.expected.json'), 'utf8')) as Expected;
    const refusedOut = join(work, 'ambiguous-refused');
    const refused = await mergeshot(['render', 'event-invite', '--data', data('ambiguous-dates.csv'), '--out', refusedOut, '--preset', 'email']);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('error FORMAT_AMBIGUOUS: column "Date" (field "date"): the dates can be read two ways, DD/MM/YYYY or MM/DD/YYYY');
    // Two of the column's values, each read both ways, so the user sees at once which is right.
    expect(refused.stderr).toContain('06/12/2025 is 6 December 2025 as DD/MM/YYYY but 12 June 2025 as MM/DD/YYYY; 07/11/2025 is 7 November 2025 as DD/MM/YYYY but 11 July 2025 as MM/DD/YYYY');
    expect(refused.stderr).toContain('Which format does this column use?');
    expect(refused.stderr).toContain('hint: Run again with --date-format date=DD/MM/YYYY (or =MM/DD/YYYY), or set "input": "DD/MM/YYYY" on the field "date" in template.json.');
    // Refused before any row rendered: no image with a guessed date exists.
    expect((await readdir(refusedOut).catch(() => [])).filter((name) => name.endsWith('.jpg'))).toEqual([]);

    const out = join(work, 'ambiguous-accepted');
    const accepted = await mergeshot(['render', 'event-invite', '--data', data('ambiguous-dates.csv'), '--out', out, '--preset', 'email', '--date-format', 'date=DD/MM/YYYY']);
    expect(accepted.code, accepted.stderr).toBe(0);
    const manifest = await manifestOf(out);
    for (const entry of manifest) {
      const date = expected.rows[entry.row]!.date;
      if (date) {
        expect(entry.alt, `row ${entry.row}`).toContain(` on ${longDate(date)} at `);
      } else {
        expect(entry.alt, `row ${entry.row}`).not.toContain(' on ');
        expect(entry.warnings.split(';'), `row ${entry.row}`).toContain('fallback:date');
      }
    }
    expect(manifest.map((entry) => entry.alt.match(/ on (.+?) at /u)?.[1])).toEqual(['December 6, 2025', 'November 7, 2025', 'February 1, 2026', 'June 12, 2025', 'December 6, 2025', 'April 3, 2026', undefined, 'October 10, 2025']);
  }, 400_000);

  it('mergeshot preflight reads rows as render does: the same question for an ambiguous column, the same --date-format answer', async () => {
    const refused = await mergeshot(['preflight', 'event-invite', '--data', data('ambiguous-dates.csv'), '--out', join(work, 'preflight-refused')]);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('error FORMAT_AMBIGUOUS: column "Date" (field "date"): the dates can be read two ways, DD/MM/YYYY or MM/DD/YYYY');
    const out = join(work, 'preflight-accepted');
    const accepted = await mergeshot(['preflight', 'event-invite', '--data', data('ambiguous-dates.csv'), '--out', out, '--date-format', 'date=DD/MM/YYYY']);
    expect(accepted.code, accepted.stderr).toBe(0);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { rows: number; kinds: { code: string; fields: Record<string, number> }[] };
    expect(summary.rows).toBe(8);
    // Every date read (row 7's N/A is missing, a fallback): none is an invalid value.
    expect(summary.kinds.find((kind) => kind.code === 'invalid')).toBeUndefined();
    expect(summary.kinds.find((kind) => kind.code === 'fallback')?.fields).toMatchObject({ date: 1 });
  }, 200_000);

  it('refuses a --date-format that names no date field or no format, before reading the data', async () => {
    const noField = await mergeshot(['render', 'event-invite', '--data', data('ambiguous-dates.csv'), '--out', join(work, 'bad-flag'), '--date-format', 'when=DD/MM/YYYY']);
    expect(noField.code).toBe(2);
    expect(noField.stderr).toContain('--date-format when=DD/MM/YYYY: the template has no date or number field "when". Date and number fields: date.');
    const noFormat = await mergeshot(['render', 'event-invite', '--data', data('ambiguous-dates.csv'), '--out', join(work, 'bad-flag'), '--date-format', 'date=sometime']);
    expect(noFormat.code).toBe(2);
    expect(noFormat.stderr).toContain('--date-format date=sometime: "sometime" is not a date format.');
  }, 120_000);
});
