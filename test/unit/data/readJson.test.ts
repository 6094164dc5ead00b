import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readJson, readNdjson, type JsonRow } from '../../../src/data/readJson.js';
import type { ReadNote } from '../../../src/data/types.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/data/${name}`, import.meta.url));

async function collect(rows: AsyncIterable<JsonRow>): Promise<JsonRow[]> {
  const out: JsonRow[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

function fromText(text: string, chunkSize?: number): Readable {
  const bytes = Buffer.from(text, 'utf8');
  if (chunkSize === undefined) return Readable.from([bytes]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}

describe('readJson: arrays', () => {
  it('reads a pretty-printed array of objects, numbering rows from 1', async () => {
    const rows = await collect(readJson(createReadStream(fixture('contacts.json'))));
    expect(rows.map((row) => row.row)).toEqual([1, 2, 3, 4]);
    expect(rows[0]?.values).toEqual({
      firstName: 'Ana',
      lastName: 'Lima',
      plan: 'pro',
      seats: 12,
      vip: true,
      photoUrl: 'https://images.example.com/people/ana-lima.jpg',
    });
    expect(rows[2]?.values['address']).toEqual({ city: 'Dubai' });
    expect(rows[3]?.values['firstName']).toBe('陈伟');
  });

  it('is not confused by brackets, commas and escaped quotes inside strings', async () => {
    const text = '[{"note": "a ] b, c } d [ \\" e \\\\", "n": [1, {"x": "]"}]}, {"note": "second"}]';
    const rows = await collect(readJson(fromText(text)));
    expect(rows.map((row) => row.values['note'])).toEqual(['a ] b, c } d [ " e \\', 'second']);
  });

  it('splits correctly when every byte arrives in its own chunk (multi-byte characters included)', async () => {
    const text = '\uFEFF[ {"name": "فاطمة 👩🏽‍💻"} ,\n{"name": "東京, \\"quoted\\""} ]\n';
    const rows = await collect(readJson(fromText(text, 1)));
    expect(rows.map((row) => row.values['name'])).toEqual(['فاطمة 👩🏽‍💻', '東京, "quoted"']);
  });

  it('turns a non-object element into a failed row and keeps going', async () => {
    const rows = await collect(readJson(fromText('[{"name": "Ana"}, "Secret Name", 42, null, [1], {"name": "Ben"}]')));
    expect(rows.map((row) => [row.row, row.error ?? row.values['name']])).toEqual([
      [1, 'Ana'],
      [2, 'expected an object like {"firstName": "Ana"}, got a string.'],
      [3, 'expected an object like {"firstName": "Ana"}, got a number.'],
      [4, 'expected an object like {"firstName": "Ana"}, got null.'],
      [5, 'expected an object like {"firstName": "Ana"}, got an array.'],
      [6, 'Ben'],
    ]);
  });

  it('turns a malformed element into a failed row without quoting it', async () => {
    const rows = await collect(readJson(fromText('[{"name": "Ana"}, {"name": Secret}, {"name": "Ben"}]')));
    expect(rows[1]).toEqual({
      row: 2,
      values: {},
      error: 'not valid JSON (16 characters). Check quotes, commas and brackets in this record.',
    });
    expect(rows[2]?.values).toEqual({ name: 'Ben' });
  });

  it('reports an empty element, tolerates a trailing comma and an empty array', async () => {
    const rows = await collect(readJson(fromText('[{"a": 1},, {"a": 2},]')));
    expect(rows.map((row) => [row.row, row.error ?? row.values['a']])).toEqual([
      [1, 1],
      [2, 'empty element between two commas.'],
      [3, 2],
    ]);
    expect(await collect(readJson(fromText(' [ ] ')))).toEqual([]);
    expect(await collect(readJson(fromText('')))).toEqual([]);
  });

  it('reads a single object, and objects one after another, as a sequence', async () => {
    const rows = await collect(readJson(fromText('{\n  "name": "Ana"\n}\n{"name": "Ben"}\n')));
    expect(rows).toEqual([
      { row: 1, values: { name: 'Ana' } },
      { row: 2, values: { name: 'Ben' } },
    ]);
  });

  it('fails with DATA_UNREADABLE when the data is neither an array nor an object', async () => {
    await expect(collect(readJson(fromText('name,plan\nAna,Pro\n')))).rejects.toMatchObject({
      code: 'DATA_UNREADABLE',
      message: 'the JSON data cannot be read at character 1: the data does not start with "[" or "{".',
    });
    await expect(collect(readJson(fromText('[{"a": 1}] trailing')))).rejects.toMatchObject({
      code: 'DATA_UNREADABLE',
      message: 'the JSON data cannot be read at character 12: found content after the closing "]".',
    });
  });

  it('reports a truncated file: a cut element is a failed row, a missing "]" an error', async () => {
    const cut = await collect(readJson(fromText('[{"name": "Ana"}, {"name": "Be')));
    expect(cut[1]).toEqual({ row: 2, values: {}, error: 'the data ends inside this element; the file is probably truncated.' });

    const rows: JsonRow[] = [];
    const reading = (async () => {
      for await (const row of readJson(fromText('[{"name": "Ana"},\n'))) rows.push(row);
    })();
    await expect(reading).rejects.toMatchObject({
      code: 'DATA_UNREADABLE',
      message: 'the JSON array is never closed with "]" (after row 1); the file is probably truncated. Re-export it.',
    });
    expect(rows).toHaveLength(1);
  });

  it('yields the first element before the array has been fully written', async () => {
    const input = new PassThrough();
    const rows = readJson(input)[Symbol.asyncIterator]();
    input.write('[{"name": "Ana"}, {"name": "Ben"}');
    const first = await rows.next();
    expect(first.value).toEqual({ row: 1, values: { name: 'Ana' } });
    expect(input.writableEnded).toBe(false);
    input.end(', {"name": "Cara"}]');
    const rest: JsonRow[] = [];
    for (let next = await rows.next(); !next.done; next = await rows.next()) rest.push(next.value);
    expect(rest.map((row) => row.values['name'])).toEqual(['Ben', 'Cara']);
  });
});

describe('readNdjson', () => {
  it('reads one object per line with CRLF, counting blank lines in row numbers', async () => {
    const rows = await collect(readNdjson(createReadStream(fixture('contacts.ndjson'))));
    expect(rows.map((row) => row.row)).toEqual([1, 2, 4, 5, 6, 7]);
    expect(rows[0]?.values['firstName']).toBe('Ana');
    expect(rows[2]?.values['firstName']).toBe('فاطمة');
    expect(rows[3]?.error).toBe('not valid JSON (36 characters). Check quotes, commas and brackets in this record.');
    expect(rows[4]?.error).toBe('expected an object like {"firstName": "Ana"}, got an array.');
    expect(rows[5]?.values['firstName']).toBe('陈伟');
  });

  it('strips a BOM from the first line and never repeats a bad line in its error', async () => {
    const rows = await collect(readNdjson(fromText('\uFEFF{"name": "Ana"}\n{"name": "Secret Person"\n')));
    expect(rows[0]).toEqual({ row: 1, values: { name: 'Ana' } });
    expect(rows[1]?.error).not.toContain('Secret');
  });

  it('yields a line before the input ends, and destroys the input when the consumer stops', async () => {
    const input = new PassThrough();
    input.write('{"name": "Ana"}\n{"name": "Ben"}\n');
    const closed = once(input, 'close');
    for await (const row of readNdjson(input)) {
      expect(row).toEqual({ row: 1, values: { name: 'Ana' } });
      expect(input.writableEnded).toBe(false);
      break;
    }
    await closed;
    expect(input.destroyed).toBe(true);
  });
});

describe('readJson and readNdjson: bytes that are not UTF-8', () => {
  const cp1252 = (text: string): Buffer => Buffer.from(text, 'latin1');

  it('read a Windows-1252 NDJSON export right and say so once', async () => {
    const notes: ReadNote[] = [];
    const input = Readable.from([cp1252('{"name":"Jos\u00e9"}\n{"name":"Fran\u00e7oise M\u00fcller"}\n')]);
    const rows = await collect(readNdjson(input, { onNote: (note) => notes.push(note) }));
    expect(rows.map((row) => row.values['name'])).toEqual(['José', 'Françoise Müller']);
    expect(notes.map((note) => note.code)).toEqual(['encoding']);
  });

  it('read a Windows-1252 JSON array right, one byte per chunk, and say so once', async () => {
    const notes: ReadNote[] = [];
    const bytes = cp1252('[{"name":"Jos\u00e9"},{"name":"M\u00fcller"}]');
    const input = Readable.from([...bytes].map((byte) => Buffer.from([byte])));
    const rows = await collect(readJson(input, { onNote: (note) => notes.push(note) }));
    expect(rows.map((row) => row.values['name'])).toEqual(['José', 'Müller']);
    expect(notes).toHaveLength(1);
  });

  it('leave UTF-8 alone and say nothing', async () => {
    const notes: ReadNote[] = [];
    const rows = await collect(readNdjson(fromText('{"name":"José"}\n'), { onNote: (note) => notes.push(note) }));
    expect(rows[0]?.values).toEqual({ name: 'José' });
    expect(notes).toEqual([]);
  });
});
