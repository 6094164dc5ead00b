import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureTemplates, repoRoot } from '../support/pipeline.js';
import { unreadableCsv, unreadableReason } from '../support/data.js';
import { zipEntry, zipNames } from '../support/zip.js';

const run = promisify(execFile);
const bin = join(repoRoot, 'bin/mergeshot.js');
const guests = join(repoRoot, 'test/fixtures/data/mini-guests.csv');
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mergeshot-cli-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function mergeshot(args: string[], templates: string = fixtureTemplates): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, '--templates', templates, ...args], { cwd: work, env: { ...process.env, MERGESHOT_PAGES: '2' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

describe('mergeshot render', () => {
  it('renders one image per row and a manifest, mapping columns and recording warnings', async () => {
    const out = join(work, 'guests');
    const result = await mergeshot(['render', 'mini', '--data', guests, '--out', out, '--map', 'name=First Name', '--map', 'color=Colour', '--name', '{{row}}-{{name}}', '--zip', join(work, 'guests.zip')]);
    expect(result.code, result.stderr).toBe(0);
    const manifest = parse(await readFile(join(out, 'manifest.csv')), { columns: true }) as Record<string, string>[];
    expect(Object.keys(manifest[0]!)).toEqual(['row', 'file', 'bytes', 'width', 'height', 'status', 'warnings', 'error', 'alt']);
    expect(manifest.map((m) => m.row)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(manifest[0]).toMatchObject({ file: '00001-Ada-Lovelace.png', width: '400', height: '200', status: 'warning', warnings: 'missing:photo', alt: 'Card for Ada Lovelace' });
    expect(manifest[4]!.warnings).toContain('unreplaced-merge-tag:name');
    expect(manifest[4]!.alt).toBe('Card for Friend');
    expect(manifest[3]!.warnings).toBe('fallback:vip;missing:photo');
    expect(manifest[5]!.warnings).toContain('invalid:vip');
    expect(manifest[5]!.warnings).toContain('invalid:color');
    for (const entry of manifest) {
      const meta = await sharp(join(out, entry.file!)).metadata();
      expect([meta.width, meta.height]).toEqual([400, 200]);
      expect(Number(entry.bytes)).toBeGreaterThan(0);
    }
    // The kit's zip: images in row order (not the order renders finished), then the same manifest.
    const zip = await readFile(join(work, 'guests.zip'));
    expect(zipNames(zip)).toEqual([...manifest.map((m) => m.file!), 'manifest.csv']);
    expect(zipEntry(zip, 'manifest.csv').equals(await readFile(join(out, 'manifest.csv')))).toBe(true);
    expect(zipEntry(zip, manifest[2]!.file!).equals(await readFile(join(out, manifest[2]!.file!)))).toBe(true);
  });

  it('records characters no font can draw in the manifest, and still renders the row', async () => {
    const data = join(work, 'glyphs.ndjson');
    await writeFile(data, ['{"name":"김민준 สมชาย","photo":"x"}', '{"name":"Ada \\ue000","photo":"x"}'].join('\n'));
    const out = join(work, 'glyphs');
    const result = await mergeshot(['render', 'mini', '--data', data, '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    const manifest = parse(await readFile(join(out, 'manifest.csv')), { columns: true }) as Record<string, string>[];
    expect(manifest.map((m) => (m.warnings ?? '').split(';').includes('missing-glyph:name'))).toEqual([false, true]);
    expect(manifest[1]!.status).toBe('warning');
  });

  it('exits 1 when some rows fail, still rendering the rest', async () => {
    const data = join(work, 'bad.ndjson');
    await writeFile(data, ['{"name":"Ada","vip":false,"color":"#000000"}', '[1,2]', '{"name":"Grace","vip":true,"color":"#000000"}'].join('\n'));
    const out = join(work, 'bad');
    const result = await mergeshot(['render', 'mini', '--data', data, '--out', out]);
    expect(result.code).toBe(1);
    const manifest = parse(await readFile(join(out, 'manifest.csv')), { columns: true }) as Record<string, string>[];
    expect(manifest.map((m) => m.status)).toEqual(['warning', 'failed', 'warning']);
    // The row number once: the reader gives the reason, the batch the row.
    expect(manifest[1]!.error).toBe('row 2: expected an object like {"firstName": "Ana"}, got an array.');
    expect(result.stderr).toContain('failed: row 2: expected an object');
    expect(result.stderr).not.toContain('row 2: row 2');
    expect((await readdir(out)).filter((f) => f.endsWith('.png'))).toHaveLength(2);
  });

  it('exits 2 with a message naming the problem for usage errors', async () => {
    const unknownTemplate = await mergeshot(['render', 'nope', '--data', guests]);
    expect(unknownTemplate.code).toBe(2);
    expect(unknownTemplate.stderr).toContain('template "nope" not found');
    const badPreset = await mergeshot(['render', 'mini', '--data', guests, '--preset', 'fax']);
    expect(badPreset.code).toBe(2);
    // The same code and wording as the server's 400 (one rule: pipeline/target.ts), with the fix as a hint.
    expect(badPreset.stderr).toMatch(/error PRESET_UNKNOWN: no preset "fax"\.\n  hint: Presets: .*email/);
    const builtIn = await mergeshot(['render', 'mini', '--data', guests, '--map', 'constructor=First Name']);
    expect(builtIn.code).toBe(2);
    expect(builtIn.stderr).toContain('"constructor" is not a field of mini');
    const badMap = await mergeshot(['render', 'mini', '--data', guests, '--map', 'nickname=First Name']);
    expect(badMap.code).toBe(2);
    expect(badMap.stderr).toContain('"nickname" is not a field of mini');
    const missingData = await mergeshot(['render', 'mini', '--data', join(work, 'absent.csv')]);
    expect(missingData.code).toBe(2);
  });

  it('--resume skips rows already rendered with the same inputs', async () => {
    const out = join(work, 'resume');
    const first = await mergeshot(['render', 'mini', '--data', guests, '--out', out, '--map', 'name=First Name', '--map', 'color=Colour']);
    expect(first.code).toBe(0);
    const second = await mergeshot(['render', 'mini', '--data', guests, '--out', out, '--map', 'name=First Name', '--map', 'color=Colour', '--resume']);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('6 skipped by --resume');
    const manifest = parse(await readFile(join(out, 'manifest.csv')), { columns: true }) as Record<string, string>[];
    expect(manifest).toHaveLength(6);
  });

  it('says once which fields have no column in the data', async () => {
    const data = join(work, 'names-only.csv');
    await writeFile(data, 'Name\nAda\n');
    const result = await mergeshot(['render', 'mini', '--data', data, '--out', join(work, 'names-only')]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('note: no column for "vip", "photo", "color"');
  });

  it('keeps input row numbers and fails an unreadable CSV row with its number and the reason, printed once', async () => {
    const data = join(work, 'unreadable.csv');
    // Line 2 is blank (counted, as a spreadsheet counts it); the quote opened in row 4 never closes.
    await writeFile(data, unreadableCsv);
    const out = join(work, 'unreadable');
    const result = await mergeshot(['render', 'mini', '--data', data, '--out', out]);
    expect(result.code).toBe(1);
    const manifest = parse(await readFile(join(out, 'manifest.csv')), { columns: true }) as Record<string, string>[];
    expect(manifest.map((m) => [m.row, m.status, m.file])).toEqual([
      ['1', 'warning', '00001.png'],
      ['3', 'warning', '00003.png'],
      ['4', 'failed', ''],
    ]);
    expect(manifest[2]!.error).toBe(unreadableReason);
    expect(result.stderr).toContain(`failed: ${unreadableReason}`);
    expect(result.stderr).not.toContain('row 4: row 4');
  });

  it('writes alt text that a spreadsheet would run as a formula as text in manifest.csv', async () => {
    const templates = await altIsNameTemplates();
    const data = join(work, 'formulas.ndjson');
    await writeFile(data, formulaNames.map((name) => JSON.stringify({ name })).join('\n'));
    const out = join(work, 'formulas');
    const result = await mergeshot(['render', 'mini-alt', '--data', data, '--out', out], templates);
    expect(result.code, result.stderr).toBe(0);
    const manifest = parse(await readFile(join(out, 'manifest.csv')), { columns: true }) as Record<string, string>[];
    expect(manifest.map((m) => m.alt)).toEqual([`'=HYPERLINK("http://x","y")`, `'+cmd|' /C calc'!A0`, 'Ada']);
    expect(manifest.map((m) => m.bytes).every((bytes) => /^[1-9]\d*$/.test(bytes!))).toBe(true);
  });

  it('reads a Windows-1252 export right and says so once', async () => {
    const out = join(work, 'cp1252');
    const result = await mergeshot(['render', 'mini', '--data', join(repoRoot, 'test/fixtures/data/contacts-windows1252.csv'), '--out', out, '--map', 'name=First Name']);
    expect(result.code, result.stderr).toBe(0);
    const manifest = parse(await readFile(join(out, 'manifest.csv')), { columns: true }) as Record<string, string>[];
    expect(manifest.map((m) => m.alt)).toEqual(['Card for José', 'Card for Jürgen', 'Card for Françoise']);
    expect(manifest.every((m) => !m.warnings!.includes('encoding'))).toBe(true);
    expect(result.stderr.match(/note: the data is not valid UTF-8 and has no byte order mark, so it was read as Windows-1252/g)).toHaveLength(1);
  });

  it('warns "encoding" on the rows of a mixed-encoding file whose values could not be decoded', async () => {
    const out = join(work, 'mixed');
    const result = await mergeshot(['render', 'mini', '--data', join(repoRoot, 'test/fixtures/data/contacts-mixed-encoding.csv'), '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    const manifest = parse(await readFile(join(out, 'manifest.csv')), { columns: true }) as Record<string, string>[];
    expect(manifest.map((m) => [m.row, m.warnings!.split(';').includes('encoding:name')])).toEqual([
      ['1', false],
      ['2', true],
      ['3', false],
    ]);
    expect(manifest[0]!.alt).toBe('Card for Zoë');
    expect(result.stderr).not.toContain('Windows-1252');
  });
});

/** Shared with server.batches.test.ts in spirit: the same CSV must give the same rows there. */

const formulaNames = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", 'Ada'];

/** A copy of the mini template whose alt text is the bare name, so a name can start the cell. */
async function altIsNameTemplates(): Promise<string> {
  const templates = join(work, 'templates-alt');
  await cp(join(fixtureTemplates, 'mini'), join(templates, 'mini-alt'), { recursive: true });
  const manifestPath = join(templates, 'mini-alt', 'template.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
  await writeFile(manifestPath, JSON.stringify({ ...manifest, alt: '{{name}}' }, null, 2));
  return templates;
}
