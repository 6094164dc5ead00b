import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureTemplates, repoRoot } from '../support/pipeline.js';

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

async function mergeshot(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, '--templates', fixtureTemplates, ...args], { cwd: work, env: { ...process.env, MERGESHOT_PAGES: '2' } });
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
    const zip = await readFile(join(work, 'guests.zip'));
    expect(zip.subarray(0, 2).toString()).toBe('PK');
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
    expect(manifest[1]!.error).toMatch(/^row 2: /);
    expect((await readdir(out)).filter((f) => f.endsWith('.png'))).toHaveLength(2);
  });

  it('exits 2 with a message naming the problem for usage errors', async () => {
    const unknownTemplate = await mergeshot(['render', 'nope', '--data', guests]);
    expect(unknownTemplate.code).toBe(2);
    expect(unknownTemplate.stderr).toContain('template "nope" not found');
    const badPreset = await mergeshot(['render', 'mini', '--data', guests, '--preset', 'fax']);
    expect(badPreset.code).toBe(2);
    expect(badPreset.stderr).toMatch(/--preset fax: no such preset\. Presets: .*email/);
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
});
