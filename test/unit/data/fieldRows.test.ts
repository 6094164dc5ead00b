import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormatAmbiguousError } from '../../../src/data/columnFormats.js';
import { readFieldRows, type FieldRow } from '../../../src/data/fieldRows.js';
import type { FieldSpecs } from '../../../src/template/index.js';

const fields: FieldSpecs = { name: { type: 'text', fallback: '' }, when: { type: 'date', fallback: '' }, seats: { type: 'number' } };
// The first rows read both ways; only row 4 ("13/06/2025") says day first: the whole column is read so.
const csv = '\uFEFFName,Event Date,Seats,Notes\r\n' + 'Ada,06/12/2025,"1.234,5",x\r\n' + 'Smith, John,07/11/2025,2,y\r\n' + 'Bob "Bobby,01/02/2026,3,z\r\n' + 'Cara,13/06/2025,4\r\n';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mergeshot-fieldrows-'));
  await writeFile(join(dir, 'guests.csv'), csv);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(rows: AsyncIterable<FieldRow>): Promise<FieldRow[]> {
  const out: FieldRow[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

const expected: FieldRow[] = [
  { row: 1, values: { name: 'Ada', when: '2025-12-06', seats: 1234.5 } },
  { row: 2, values: {}, error: '5 values, but the header has 4: an unquoted "," in a value? Put that value in double quotes ("Smith, John") or remove the ",", then run again.' },
  {
    row: 3,
    values: { name: 'Bob "Bobby', when: '2026-02-01', seats: 3 },
    warnings: [{ code: 'stray-quote', field: 'name', message: 'column "Name": a bare quote (") inside an unquoted value, kept as text. If the value was meant to be quoted, quote all of it and double the inner quotes ("Bob ""Bobby"" Smith").' }],
  },
  // Short by the Notes column only, which no field uses: still said, without a field.
  { row: 4, values: { name: 'Cara', when: '2025-06-13', seats: 4 }, warnings: [{ code: 'short-row', message: '3 values, but the header has 4: "Notes" read as empty' }] },
];

describe('readFieldRows', () => {
  const map = { when: 'Event Date' };

  it('reads a file twice: the column formats from every value, then the rows with them', async () => {
    const said: string[] = [];
    const rows = await collect(readFieldRows(join(dir, 'guests.csv'), fields, { map, onFormats: (formats, inferred) => said.push(JSON.stringify([formats, inferred])) }));
    expect(rows).toEqual(expected);
    expect(said).toEqual([JSON.stringify([{ when: 'DD/MM/YYYY', seats: '1.234,50' }, ['when', 'seats']])]);
  });

  it('keeps standard input\'s rows between the passes, since it cannot be read twice', async () => {
    const rows = await collect(readFieldRows('-', fields, { map, stdin: Readable.from([Buffer.from(csv)]) }));
    expect(rows).toEqual(expected);
  });

  it('refuses an ambiguous column before yielding any row, and reads it with the format given', async () => {
    const ambiguous = 'Name,Event Date\nAda,06/12/2025\nBen,07/11/2025\n';
    await writeFile(join(dir, 'ambiguous.csv'), ambiguous);
    const yielded: FieldRow[] = [];
    const error = await (async () => {
      for await (const row of readFieldRows(join(dir, 'ambiguous.csv'), fields, { map })) yielded.push(row);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FormatAmbiguousError);
    expect((error as FormatAmbiguousError).columns[0]).toMatchObject({ field: 'when', column: 'Event Date' });
    expect(yielded).toEqual([]);
    const rows = await collect(readFieldRows(join(dir, 'ambiguous.csv'), fields, { map, formats: { when: 'MM/DD/YYYY' } }));
    expect(rows.map((row) => row.values['when'])).toEqual(['2025-06-12', '2025-07-11']);
  });
});
