import { describe, expect, it } from 'vitest';
import {
  createColumnReader,
  FormatAmbiguousError,
  inferColumnFormat,
  resolveColumnFormats,
  type ColumnInference,
} from '../../../src/data/columnFormats.js';
import { fieldWarnings } from '../../../src/data/columns.js';
import { excelSerialDate } from '../../../src/data/normalize/dateFormats.js';
import { normalizeRecord } from '../../../src/data/normalize.js';
import { isMergeshotError } from '../../../src/errors/index.js';
import type { FieldSpecs } from '../../../src/template/index.js';

async function* rowsOf(field: string, values: readonly unknown[]) {
  for (const value of values) yield { values: { [field]: value } };
}

function formatOf(result: ColumnInference): string | undefined {
  expect(result.status).toBe('read');
  return result.status === 'read' ? result.format : undefined;
}

describe('inferColumnFormat: dates, from every value of the column', () => {
  it.each([
    // One value with a day above 12 decides for the whole column, wherever it is.
    [['06/12/2025', '07/11/2025', '13/06/2025'], 'DD/MM/YYYY'],
    [['13/06/2025', '06/12/2025'], 'DD/MM/YYYY'],
    [['06/12/2025', '07/11/2025', '06/30/2025'], 'MM/DD/YYYY'],
    [['6/12/25', '6/30/25'], 'MM/DD/YY'],
    [['06-12-2025', '25-12-2025'], 'DD-MM-YYYY'],
    // Dots are written day first only (German, Russian, Turkish exports).
    [['12.06.2025', '01.02.2025'], 'DD.MM.YYYY'],
    [['45820', '45821.75', '45000'], 'excel'],
    [['1749752999', '1749839399'], 'unix'],
    [['20250612', '20251231'], 'YYYYMMDD'],
  ] as const)('%j → %s', (values, format) => {
    expect(formatOf(inferColumnFormat('date', values))).toBe(format);
  });

  it('needs no format for self-describing values, and they never block a decision', () => {
    expect(formatOf(inferColumnFormat('date', ['2025-06-12', 'June 12, 2025', '2025-06-12T18:30:00+02:00', '12 Jun 2025']))).toBeUndefined();
    expect(formatOf(inferColumnFormat('date', ['2025-06-12', '13/06/2025', 'June 12, 2025']))).toBe('DD/MM/YYYY');
  });

  it('ignores missing markers and the field\'s own ones', () => {
    expect(formatOf(inferColumnFormat('date', ['N/A', '', '  ', '#N/A', 'TBD', '13/06/2025'], { missing: ['TBD'] }))).toBe('DD/MM/YYYY');
  });

  it('reads a column where every value reads the same both ways ("01/01/2025")', () => {
    const result = inferColumnFormat('date', ['01/01/2025', '02/02/2025']);
    expect(result).toMatchObject({ status: 'read', format: 'DD/MM/YYYY', unreadable: 0 });
  });

  it('reports a column that reads two ways with two of its values read both ways', () => {
    expect(inferColumnFormat('date', ['06/12/2025', '06/12/2025', '07/11/2025', '01/02/2026'])).toEqual({
      status: 'ambiguous',
      formats: ['DD/MM/YYYY', 'MM/DD/YYYY'],
      samples: [
        { value: '06/12/2025', readings: [{ format: 'DD/MM/YYYY', value: '2025-12-06' }, { format: 'MM/DD/YYYY', value: '2025-06-12' }] },
        { value: '06/12/2025', readings: [{ format: 'DD/MM/YYYY', value: '2025-12-06' }, { format: 'MM/DD/YYYY', value: '2025-06-12' }] },
      ],
      values: 4,
    });
  });

  it('never decides a row on its own: a column mixing both orders as often is ambiguous', () => {
    const result = inferColumnFormat('date', ['13/06/2025', '06/13/2025']);
    expect(result.status).toBe('ambiguous');
  });

  it('takes the order most values fit and counts the others unreadable', () => {
    expect(inferColumnFormat('date', ['13/06/2025', '14/06/2025', '06/13/2025'])).toMatchObject({ status: 'read', format: 'DD/MM/YYYY', unreadable: 1 });
  });
});

describe('inferColumnFormat: numbers', () => {
  it.each([
    [['1.234,50', '12'], '1.234,50'],
    [['1,234.50', '12'], '1,234.50'],
    [['1,5', '2,25'], '1.234,50'],
    [['1 234,5', '€3,50', '12 %'], '1.234,50'],
    [['$1,234.50', '1.5'], '1,234.50'],
    [['1,234', '1.5'], '1,234.50'],
  ] as const)('%j → %s', (values, format) => {
    expect(formatOf(inferColumnFormat('number', values))).toBe(format);
  });

  it('reports "1,234" with no other clue as ambiguous, read both ways', () => {
    expect(inferColumnFormat('number', ['1,234', '12', '5'])).toEqual({
      status: 'ambiguous',
      formats: ['1,234.50', '1.234,50'],
      samples: [{ value: '1,234', readings: [{ format: '1,234.50', value: '1234' }, { format: '1.234,50', value: '1.234' }] }],
      values: 3,
    });
  });
});

describe('resolveColumnFormats: the first pass', () => {
  const fields: FieldSpecs = { when: { type: 'date' }, price: { type: 'number' }, name: { type: 'text' } };

  it('throws one FORMAT_AMBIGUOUS for every ambiguous column, naming column, samples and the fix', async () => {
    async function* rows() {
      yield { values: { when: '06/12/2025', price: '1,234' } };
      yield { values: { when: '07/11/2025', price: '12' } };
    }
    const error = await resolveColumnFormats(fields, rows(), { columns: new Map([['when', 'Event Date']]) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FormatAmbiguousError);
    expect(isMergeshotError(error) && error.code).toBe('FORMAT_AMBIGUOUS');
    const ambiguous = error as FormatAmbiguousError;
    expect(ambiguous.columns.map((c) => [c.field, c.column, c.kind])).toEqual([
      ['when', 'Event Date', 'date'],
      ['price', undefined, 'number'],
    ]);
    expect(ambiguous.message).toBe(
      'column "Event Date" (field "when"): the dates can be read two ways, DD/MM/YYYY or MM/DD/YYYY, and no value has a number above 12 that would tell day from month: ' +
        '06/12/2025 is 6 December 2025 as DD/MM/YYYY but 12 June 2025 as MM/DD/YYYY; 07/11/2025 is 7 November 2025 as DD/MM/YYYY but 11 July 2025 as MM/DD/YYYY. Which format does this column use?\n' +
        'column "price": the numbers can be read two ways, 1,234.50 or 1.234,50, and no value tells the decimal separator from the thousands separator: 1,234 is 1234 as 1,234.50 but 1.234 as 1.234,50. Which format does this column use?',
    );
    expect(ambiguous.detail.hint).toBe(
      'Run again with --date-format when=DD/MM/YYYY (or =MM/DD/YYYY), or set "input": "DD/MM/YYYY" on the field "when" in template.json.\n' +
        '  Run again with --number-format price=1,234.50 (or =1.234,50), or set "input": "1,234.50" on the field "price" in template.json.',
    );
  });

  it('lets an override or a declared input decide without reading the rows', async () => {
    let read = 0;
    async function* rows() {
      read += 1;
      yield { values: { when: '06/12/2025' } };
    }
    const declared: FieldSpecs = { when: { type: 'date', input: 'MM/DD/YYYY' }, price: { type: 'number' } };
    expect(await resolveColumnFormats(declared, rows(), { overrides: { price: '1.234,50' } })).toEqual({ when: 'MM/DD/YYYY', price: '1.234,50' });
    expect(await resolveColumnFormats(fields, rows(), { overrides: { when: 'DD/MM/YYYY', price: 'de-DE' } })).toEqual({ when: 'DD/MM/YYYY', price: 'de-DE' });
    expect(read).toBe(0);
  });

  it('lets the template\'s locale decide an ambiguous number column, as before formats could be declared', async () => {
    expect(await resolveColumnFormats({ price: { type: 'number' } }, rowsOf('price', ['1.234', '5']), { locale: 'de-DE' })).toEqual({ price: '1.234,50' });
  });

  it('refuses an override for a field that is not a date or number, or a format it cannot read', async () => {
    await expect(resolveColumnFormats(fields, rowsOf('when', []), { overrides: { name: 'DD/MM/YYYY' } })).rejects.toMatchObject({
      code: 'USAGE',
      message: '--date-format name=DD/MM/YYYY: the template has no date or number field "name". Date and number fields: when, price.',
    });
    await expect(resolveColumnFormats(fields, rowsOf('when', []), { overrides: { price: '1,234' } })).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('does not say which separator is the decimal one') });
  });
});

describe('createColumnReader: the second pass', () => {
  const fields: FieldSpecs = { when: { type: 'date', fallback: '' }, price: { type: 'number' } };

  it('reads each value with its column\'s format, so later stages see ISO dates and numbers', () => {
    const read = createColumnReader(fields, { when: 'DD/MM/YYYY', price: '1.234,50' });
    expect(read({ when: '06/12/2025', price: '1.234,50 €' })).toEqual({ values: { when: '2025-12-06', price: 1234.5 }, warnings: [] });
    expect(normalizeRecord(fields, read({ when: '06/12/2025', price: '1.234,50' }).values).record).toEqual({ when: '2025-12-06', price: 1234.5 });
  });

  it('turns a value the column\'s format cannot read into a missing one with an invalid warning, never reading it another way', () => {
    const read = createColumnReader(fields, { when: 'DD/MM/YYYY' });
    const { values, warnings } = read({ when: '06/13/2025' });
    expect(values).toEqual({});
    expect(warnings).toEqual([{ code: 'invalid', field: 'when', message: 'field "when": expected a date as DD/MM/YYYY (the column\'s format), got text of 10 characters' }]);
    expect(normalizeRecord(fields, values).warnings.map((w) => `${w.code}:${w.field}`)).toEqual(['fallback:when']);
  });

  it('leaves missing values to the fallbacks', () => {
    expect(createColumnReader(fields, { when: 'excel' })({ when: 'N/A' })).toEqual({ values: { when: 'N/A' }, warnings: [] });
  });
});

describe('Excel serials', () => {
  it('counts the 29 February 1900 that Excel (after Lotus 1-2-3) believes in', () => {
    expect(excelSerialDate(1)).toBe('1900-01-01');
    expect(excelSerialDate(59)).toBe('1900-02-28');
    expect(excelSerialDate(60)).toBeUndefined();
    expect(excelSerialDate(61)).toBe('1900-03-01');
    expect(excelSerialDate(45820)).toBe('2025-06-12');
    expect(excelSerialDate(45820.99)).toBe('2025-06-12');
  });
});

describe('fieldWarnings: reader warnings re-addressed to fields', () => {
  const columns = new Map([
    ['name', 'First Name'],
    ['venue', 'Venue'],
  ]);

  it('names the field a stray quote\'s column feeds, and drops one in a column no field uses', () => {
    const warnings = fieldWarnings(
      [
        { code: 'stray-quote', field: 'First Name', message: 'column "First Name": a bare quote' },
        { code: 'stray-quote', field: 'Notes', message: 'column "Notes": a bare quote' },
      ],
      columns,
      { 'First Name': 'Bob "Bobby', Venue: 'Hall' },
    );
    expect(warnings).toEqual([{ code: 'stray-quote', field: 'name', message: 'column "First Name": a bare quote' }]);
  });

  it('names the first field a short row left empty', () => {
    expect(fieldWarnings([{ code: 'short-row', field: 'Venue', message: '1 values' }], columns, { 'First Name': 'Ada' })).toEqual([{ code: 'short-row', field: 'venue', message: '1 values' }]);
    expect(fieldWarnings([{ code: 'short-row', field: 'Notes', message: '2 values' }], columns, { 'First Name': 'Ada', Venue: 'x' })).toEqual([{ code: 'short-row', message: '2 values' }]);
  });
});
