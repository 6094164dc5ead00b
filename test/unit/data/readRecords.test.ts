import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecords, type InputRow, type ReadRecordsOptions } from '../../../src/data/readRecords.js';
import type { ReadNote } from '../../../src/data/types.js';
import { DataError } from '../../../src/errors/index.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/data/${name}`, import.meta.url));

async function collect(source: string, options?: ReadRecordsOptions): Promise<InputRow[]> {
  const out: InputRow[] = [];
  for await (const row of readRecords(source, options)) out.push(row);
  return out;
}

const stdin = (text: string): Readable => Readable.from([Buffer.from(text, 'utf8')]);

describe('readRecords: choosing the reader', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mergeshot-data-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads .csv, .tsv, .json and .ndjson fixtures by extension', async () => {
    expect((await collect(fixture('contacts-excel.csv')))[0]?.values['First Name']).toBe('Ana');
    expect((await collect(fixture('contacts.tsv')))[1]?.values).toEqual({ first_name: 'Ben', last_name: 'Carter', company: 'Carter; Sons', plan: 'Free' });
    expect((await collect(fixture('contacts.json'))).map((row) => row.row)).toEqual([1, 2, 3, 4]);
    expect((await collect(fixture('contacts.ndjson'))).map((row) => row.row)).toEqual([1, 2, 4, 5, 6, 7]);
  });

  it('reads a .tsv as tab-separated even when its header holds no tab', async () => {
    const path = join(dir, 'one-column.tsv');
    await writeFile(path, 'name, title\nAna, PhD\n');
    expect(await collect(path)).toEqual([{ row: 1, values: { 'name, title': 'Ana, PhD' } }]);
  });

  it('passes the CSV header to onHeader', async () => {
    let headers: readonly string[] = [];
    await collect(fixture('contacts.tsv'), { onHeader: (names) => (headers = names) });
    expect(headers).toEqual(['first_name', 'last_name', 'company', 'plan']);
  });

  it('lets the format option override the extension', async () => {
    const path = join(dir, 'export.json');
    await writeFile(path, '{"name": "Ana"}\n{"name": "Ben"}\n');
    expect((await collect(path, { format: 'ndjson' })).map((row) => row.row)).toEqual([1, 2]);
    const csv = join(dir, 'export.data');
    await writeFile(csv, 'name;plan\nAna;Pro\n');
    expect(await collect(csv, { format: 'csv' })).toEqual([{ row: 1, values: { name: 'Ana', plan: 'Pro' } }]);
  });

  it('sniffs an unknown extension from the first non-space byte', async () => {
    const path = join(dir, 'export.txt');
    await writeFile(path, '\n  [{"name": "Ana"}]');
    expect(await collect(path)).toEqual([{ row: 1, values: { name: 'Ana' } }]);
  });

  it('names the path and the fix when the file does not exist', async () => {
    const missing = join(dir, 'nope.csv');
    const error = await collect(missing).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataError);
    expect(error).toMatchObject({
      code: 'DATA_UNREADABLE',
      message: `data file "${missing}" does not exist. Check the path, or pass - to read from standard input.`,
      detail: { source: missing },
    });
  });

  it('refuses a directory with DATA_UNREADABLE', async () => {
    await expect(collect(dir)).rejects.toMatchObject({
      code: 'DATA_UNREADABLE',
      message: `data file "${dir}" is a directory. Give the path of a .csv, .json or .ndjson file inside it.`,
    });
  });
});

describe('readRecords: standard input', () => {
  it('sniffs "[" as a JSON array', async () => {
    expect(await collect('-', { stdin: stdin('\uFEFF \n[{"name": "Ana"}]') })).toEqual([{ row: 1, values: { name: 'Ana' } }]);
  });

  it('sniffs "{" as NDJSON', async () => {
    const rows = await collect('-', { stdin: stdin('{"name": "Ana"}\nnot json\n') });
    expect(rows.map((row) => row.error ?? row.values['name'])).toEqual([
      'Ana',
      'not valid JSON (8 characters). Check quotes, commas and brackets in this record.',
    ]);
  });

  it('reads anything else as CSV, with the delimiter option or sniffed', async () => {
    expect(await collect('-', { stdin: stdin('\uFEFFname;plan\r\nAna;Pro\r\n') })).toEqual([{ row: 1, values: { name: 'Ana', plan: 'Pro' } }]);
    expect(await collect('-', { stdin: stdin('name|plan\nAna|Pro\n'), delimiter: '|' })).toEqual([{ row: 1, values: { name: 'Ana', plan: 'Pro' } }]);
  });

  it('sniffs across chunks when the first bytes are only whitespace', async () => {
    const input = Readable.from([Buffer.from('  \n'), Buffer.from('\n'), Buffer.from('[{"a": 1}]')]);
    expect(await collect('-', { stdin: input })).toEqual([{ row: 1, values: { a: 1 } }]);
  });

  it('yields nothing for an empty standard input', async () => {
    expect(await collect('-', { stdin: stdin('') })).toEqual([]);
  });
});

describe('readRecords: releasing the input', () => {
  it('destroys a sniffed standard input when the consumer stops early', async () => {
    const input = new PassThrough();
    input.write('name\nAna\nBen\n');
    const closed = once(input, 'close');
    for await (const row of readRecords('-', { stdin: input })) {
      expect(row).toEqual({ row: 1, values: { name: 'Ana' } });
      break;
    }
    await closed;
    expect(input.destroyed).toBe(true);
  });
});

describe('readRecords: encodings', () => {
  it('passes onNote to the CSV reader: a Windows-1252 file is read right and noted once', async () => {
    const notes: ReadNote[] = [];
    const rows = await collect(fixture('contacts-windows1252.csv'), { onNote: (note) => notes.push(note) });
    expect(rows.map((row) => row.values['First Name'])).toEqual(['José', 'Jürgen', 'Françoise']);
    expect(notes.map((note) => note.code)).toEqual(['encoding']);
  });

  it('passes onNote to the NDJSON reader of a sniffed standard input', async () => {
    const notes: ReadNote[] = [];
    const rows = await collect('-', { stdin: Readable.from([Buffer.from('{"name":"Jos\u00e9"}\n', 'latin1')]), onNote: (note) => notes.push(note) });
    expect(rows[0]?.values).toEqual({ name: 'José' });
    expect(notes).toHaveLength(1);
  });
});
