import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkDelimiter, readCsv, sniffDelimiter, type CsvRow } from '../../../src/data/readCsv.js';
import type { ReadNote } from '../../../src/data/types.js';
import { DataError } from '../../../src/errors/index.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/data/${name}`, import.meta.url));

async function collect(rows: AsyncIterable<CsvRow>): Promise<CsvRow[]> {
  const out: CsvRow[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

function fromText(text: string | Buffer, chunkSize?: number): Readable {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  if (chunkSize === undefined) return Readable.from([bytes]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}

describe('readCsv: an Excel export (BOM, ";", CRLF)', () => {
  it('reads every non-blank row with the header names as written', async () => {
    let headers: readonly string[] = [];
    const rows = await collect(readCsv(createReadStream(fixture('contacts-excel.csv')), { onHeader: (names) => (headers = names) }));
    // The BOM is not part of the first header, and ";" was sniffed (commas inside cells stay text).
    expect(headers).toEqual(['First Name', 'last_name', 'Company', 'Plan', 'Accent Colour', 'Photo URL', 'Joined', 'VIP', 'Seats', 'Email']);
    expect(rows.map((row) => row.row)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(rows.every((row) => row.error === undefined)).toBe(true);
    expect(rows[0]?.values).toMatchObject({ 'First Name': 'Ana', Company: 'Lima, Souza & Filhos', Seats: '12' });
  });

  it('keeps quoted quotes, quoted line breaks, emoji, Arabic and CJK exactly', async () => {
    const rows = await collect(readCsv(createReadStream(fixture('contacts-excel.csv'))));
    expect(rows[1]?.values['First Name']).toBe('Zoë "Zo"');
    expect(rows[1]?.values['Company']).toBe('Okafor Design Studio\r\nLagos office');
    expect(rows[2]?.values['First Name']).toBe('Sam 👩🏽‍💻');
    expect(rows[3]?.values).toMatchObject({ 'First Name': 'فاطمة', last_name: 'الزهراء' });
    expect(rows[4]?.values).toMatchObject({ 'First Name': '伟', Company: '上海星辰科技有限公司' });
  });

  it('keeps a 300-character name, empty cells and an unreplaced merge tag as read', async () => {
    const rows = await collect(readCsv(createReadStream(fixture('contacts-excel.csv'))));
    expect([...String(rows[6]?.values['First Name'])]).toHaveLength(300);
    expect(rows[7]?.values).toEqual({
      'First Name': 'Jonas',
      last_name: '',
      Company: '',
      Plan: '',
      'Accent Colour': '',
      'Photo URL': '',
      Joined: '',
      VIP: '',
      Seats: '',
      Email: '',
    });
    expect(rows[8]?.values['First Name']).toBe('*|FNAME|*');
  });

  it('skips the trailing ";;;;" line Excel writes but keeps counting rows', async () => {
    const rows = await collect(readCsv(fromText('a;b\r\n1;2\r\n;\r\n\r\n3;4\r\n')));
    expect(rows.map((row) => [row.row, row.values['a']])).toEqual([
      [1, '1'],
      [4, '3'],
    ]);
  });
});

describe('readCsv: delimiters', () => {
  it('sniffs tab from a .tsv header and keeps commas and semicolons inside cells', async () => {
    const rows = await collect(readCsv(createReadStream(fixture('contacts.tsv'))));
    expect(rows.map((row) => row.values['company'])).toEqual(['Lima, Souza & Filhos', 'Carter; Sons', '']);
  });

  it('sniffs "," and ";" from the header, ignoring delimiters inside quoted header names', () => {
    expect(sniffDelimiter('name,email,plan\n')).toBe(',');
    expect(sniffDelimiter('"Name, full";email;plan\r\n')).toBe(';');
    expect(sniffDelimiter('\uFEFFname\temail\tcity, country\n')).toBe('\t');
    expect(sniffDelimiter('name\n')).toBe(',');
  });

  it('honours Excel\'s "sep=" first line and does not read it as the header', async () => {
    const rows = await collect(readCsv(fromText('sep=|\r\nname|city\r\nAna|Lima, Peru\r\n')));
    expect(rows).toEqual([{ row: 1, values: { name: 'Ana', city: 'Lima, Peru' } }]);
  });

  it('uses an explicit delimiter instead of sniffing', async () => {
    const rows = await collect(readCsv(fromText('a,b;c\n1,2;3\n'), { delimiter: ';' }));
    expect(rows[0]?.values).toEqual({ 'a,b': '1,2', c: '3' });
  });

  it('accepts "tab" and rejects a multi-character delimiter with USAGE', () => {
    expect(checkDelimiter('tab')).toBe('\t');
    expect(checkDelimiter(';')).toBe(';');
    expect(() => checkDelimiter(';;')).toThrowError(
      expect.objectContaining({ code: 'USAGE', message: '--delimiter must be one character other than a quote or line break, or "tab"; got 2 characters.' }),
    );
    expect(() => checkDelimiter('"')).toThrow(DataError);
  });
});

describe('readCsv: damaged input never stops the batch', () => {
  it('reads a short row with a warning naming the columns it left empty', async () => {
    const rows = await collect(readCsv(fromText('name,plan,city\nAna,Pro\nCara,Team,Rome\n')));
    expect(rows).toEqual([
      { row: 1, values: { name: 'Ana', plan: 'Pro' }, warnings: [{ code: 'short-row', field: 'city', message: '2 values, but the header has 3: "city" read as empty' }] },
      { row: 2, values: { name: 'Cara', plan: 'Team', city: 'Rome' } },
    ]);
  });

  it('fails a row with more values than the header, with the counts and the likely cause, never shifting its values', async () => {
    const rows = await collect(readCsv(fromText('name,event,venue,vip\r\nAda,Launch,Hall,true\r\nSmith, John,Launch,Hall,false\r\nCara,Gala,Rome,no\r\n')));
    expect(rows.map((row) => row.row)).toEqual([1, 2, 3]);
    expect(rows[1]).toEqual({
      row: 2,
      values: {},
      error: '5 values, but the header has 4: an unquoted "," in a value? Put that value in double quotes ("Smith, John") or remove the ",", then run again.',
    });
    expect(rows[2]!.values).toEqual({ name: 'Cara', event: 'Gala', venue: 'Rome', vip: 'no' });
  });

  it('names the delimiter of the file in the cause (";" exports, tab)', async () => {
    const semicolon = await collect(readCsv(fromText('name;city\nAna;Lima;Peru\n')));
    expect(semicolon[0]!.error).toContain('an unquoted ";" in a value?');
    const tab = await collect(readCsv(fromText('name\tcity\nAna\tLima\tPeru\n')));
    expect(tab[0]!.error).toContain('an unquoted tab in a value?');
  });

  it('keeps a stray quote inside an unquoted cell as text, with a warning naming the column', async () => {
    const rows = await collect(readCsv(fromText('name,screen\nBob "Bobby,15" laptop\nBen,ok\n"Zoë ""Zo""",fine\n')));
    expect(rows.map((row) => row.values['screen'])).toEqual(['15" laptop', 'ok', 'fine']);
    expect(rows[0]!.values['name']).toBe('Bob "Bobby');
    expect(rows[0]!.warnings?.map((w) => [w.code, w.field])).toEqual([
      ['stray-quote', 'name'],
      ['stray-quote', 'screen'],
    ]);
    expect(rows[0]!.warnings?.[0]?.message).toMatch(/^column "name": a bare quote \(“?"?\) inside an unquoted value, kept as text/u);
    // Quotes doubled inside a quoted value are CSV's own escaping: no warning.
    expect(rows[2]).toEqual({ row: 3, values: { name: 'Zoë "Zo"', screen: 'fine' } });
    expect(rows[1]!.warnings).toBeUndefined();
  });

  it('reports a quote left open at the end as a failed row after the good ones, without its content', async () => {
    const rows = await collect(readCsv(fromText('name,city\nAna,Lima\nBen,"Oslo\nCara,Rome\n')));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual({ row: 1, values: { name: 'Ana', city: 'Lima' } });
    expect(rows[1]?.row).toBe(2);
    expect(rows[1]?.values).toEqual({});
    expect(rows[1]?.error).toBe(
      'a quoted field opens in this row and is never closed, so this row and every line after it could not be read. Close the quote or remove it.',
    );
    expect(rows[1]?.error).not.toContain('Oslo');
  });

  it('reports a quote that runs on for more than 8 Mi characters as a failed row, keeping the rows before it', async () => {
    const runaway = `name,city\nAna,Lima\n\nBen,"Oslo${'x'.repeat(8.5 * 1024 * 1024)}\nCara,Rome\n`;
    const rows = await collect(readCsv(fromText(runaway, 64 * 1024)));
    expect(rows.map((row) => [row.row, row.error ?? row.values['name']])).toEqual([
      [1, 'Ana'],
      [3, 'a quoted field opens in this row and is never closed, so this row and every line after it could not be read. Close the quote or remove it.'],
    ]);
  });

  it('fails with DATA_UNREADABLE when the header itself never closes its quote', async () => {
    await expect(collect(readCsv(fromText('"name,city\nAna,Lima\n')))).rejects.toMatchObject({
      code: 'DATA_UNREADABLE',
      message: 'the header row could not be read (CSV_QUOTE_NOT_CLOSED). Check the quotes in the first line.',
    });
  });

  it('keeps the first of two columns with the same header and ignores unnamed columns', async () => {
    const rows = await collect(readCsv(fromText('name, ,name,plan,\nAna,x,Duplicate,Pro,y\n')));
    expect(rows[0]?.values).toEqual({ name: 'Ana', plan: 'Pro' });
  });

  it('keeps a "__proto__" header as plain data', async () => {
    const rows = await collect(readCsv(fromText('__proto__,name\npolluted,Ana\n')));
    expect(Object.hasOwn(rows[0]!.values, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('readCsv: encodings and chunking', () => {
  it('reads UTF-16LE with BOM ("Unicode text" from Excel)', async () => {
    const bytes = Buffer.from('\uFEFFname\tcity\r\nZoë\t東京\r\n', 'utf16le');
    const rows = await collect(readCsv(fromText(bytes)));
    expect(rows).toEqual([{ row: 1, values: { name: 'Zoë', city: '東京' } }]);
  });

  it('decodes multi-byte characters split across chunks, one byte at a time', async () => {
    const text = '\uFEFFname;note\r\nفاطمة;"line one\r\nline two 👩🏽‍💻"\r\n伟;東京\r\n';
    const rows = await collect(readCsv(fromText(text, 1)));
    expect(rows.map((row) => row.values)).toEqual([
      { name: 'فاطمة', note: 'line one\r\nline two 👩🏽‍💻' },
      { name: '伟', note: '東京' },
    ]);
  });

  it('reads a string stream as well as a byte stream', async () => {
    const rows = await collect(readCsv(Readable.from(['name;plan\n', 'Ana;Pro\n'], { objectMode: true })));
    expect(rows).toEqual([{ row: 1, values: { name: 'Ana', plan: 'Pro' } }]);
  });

  it('yields nothing for an empty input or a header alone', async () => {
    expect(await collect(readCsv(fromText('')))).toEqual([]);
    expect(await collect(readCsv(fromText('name,plan\r\n')))).toEqual([]);
  });

  it('lets a coded error from onHeader through unchanged (e.g. a bad --map)', async () => {
    const usage = new DataError('USAGE', '--map nope=Name: the template has no field "nope".');
    const reading = collect(
      readCsv(fromText('Name\nAna\n'), {
        onHeader: () => {
          throw usage;
        },
      }),
    );
    await expect(reading).rejects.toBe(usage);
  });

  it('wraps an input error as DATA_UNREADABLE', async () => {
    const input = new PassThrough();
    const rows = collect(readCsv(input));
    input.write('name\nAna\n');
    input.destroy(new Error('EIO: i/o error, read'));
    await expect(rows).rejects.toMatchObject({ code: 'DATA_UNREADABLE' });
  });
});

describe('readCsv: text that is not UTF-8', () => {
  const names = (rows: readonly CsvRow[]): unknown[] => rows.map((row) => [row.values['First Name'], row.values['Last Name']]);

  it('reads a Windows-1252 export (Excel\'s plain "CSV") with every accent, € and curly quote right, and says so once', async () => {
    const notes: ReadNote[] = [];
    const rows = await collect(readCsv(createReadStream(fixture('contacts-windows1252.csv')), { onNote: (note) => notes.push(note) }));
    expect(names(rows)).toEqual([
      ['José', 'García'],
      ['Jürgen', 'Müller'],
      ['Françoise', 'Lefèvre'],
    ]);
    // 0x80 and 0x93/0x94 are where Windows-1252 differs from ISO-8859-1.
    expect(rows[0]?.values).toMatchObject({ Company: 'Café “Olé”', Note: 'Preis 12 €' });
    expect(rows.map((row) => JSON.stringify(row.values)).join('')).not.toContain('\uFFFD');
    expect(notes).toEqual([
      {
        code: 'encoding',
        message:
          'the data is not valid UTF-8 and has no byte order mark, so it was read as Windows-1252 (Latin-1). If accented letters look wrong, save the file as "CSV UTF-8" and run again.',
      },
    ]);
  });

  it('reads Windows-1252 the same when every byte arrives in its own chunk', async () => {
    const notes: ReadNote[] = [];
    const bytes = await readFile(fixture('contacts-windows1252.csv'));
    const rows = await collect(readCsv(fromText(bytes, 1), { onNote: (note) => notes.push(note) }));
    expect(names(rows)).toEqual([
      ['José', 'García'],
      ['Jürgen', 'Müller'],
      ['Françoise', 'Lefèvre'],
    ]);
    expect(notes).toHaveLength(1);
  });

  it('keeps mixed input as UTF-8: valid characters stay, only the broken value holds U+FFFD, and no note', async () => {
    const notes: ReadNote[] = [];
    const rows = await collect(readCsv(createReadStream(fixture('contacts-mixed-encoding.csv')), { onNote: (note) => notes.push(note) }));
    expect(rows.map((row) => row.values)).toEqual([
      { name: 'Zoë', city: 'Zürich' },
      { name: 'Jos\uFFFD', city: 'M\uFFFDlaga' },
      { name: 'Ana', city: 'Porto' },
    ]);
    expect(notes).toEqual([]);
  });

  it('never re-decodes UTF-8, with or without a BOM, nor UTF-16LE, and never says anything about them', async () => {
    const notes: ReadNote[] = [];
    const onNote = (note: ReadNote) => notes.push(note);
    expect((await collect(readCsv(fromText('name\nJosé\n', 1), { onNote })))[0]?.values).toEqual({ name: 'José' });
    expect((await collect(readCsv(fromText('\uFEFFname\nJosé\n', 1), { onNote })))[0]?.values).toEqual({ name: 'José' });
    expect((await collect(readCsv(fromText(Buffer.from('\uFEFFname\r\nJosé\r\n', 'utf16le'), 1), { onNote })))[0]?.values).toEqual({ name: 'José' });
    expect(notes).toEqual([]);
  });
});

describe('readCsv: streaming', () => {
  const rowCount = 100_000;
  const line = (i: number): string => `Person ${i};person${i}@example.com;Pro;#1a73e8\n`;

  it('streams 100,000 rows: the first row arrives while the writer is still writing, and input is held back', async () => {
    const input = new PassThrough();
    const rows = readCsv(input)[Symbol.asyncIterator]();
    input.write('name;email;plan;colour\n');
    let written = 0;
    while (written < 50) input.write(line(++written));

    const first = await rows.next();
    expect(first.value).toEqual({ row: 1, values: { name: 'Person 1', email: 'person1@example.com', plan: 'Pro', colour: '#1a73e8' } });
    expect(input.writableEnded).toBe(false);

    // Nobody pulls rows now: if the reader buffered everything, it would drain the input.
    const block = Array.from({ length: 2_000 }, (_, i) => line(written + i + 1)).join('');
    for (let i = 0; i < 40; i++) input.write(block);
    written += 40 * 2_000;
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(input.writableNeedDrain).toBe(true);

    const writer = (async () => {
      while (written < rowCount) {
        if (!input.write(line(++written))) await once(input, 'drain');
      }
      input.end();
    })();
    let count = 1;
    let last = 1;
    for (let next = await rows.next(); !next.done; next = await rows.next()) {
      count += 1;
      last = next.value.row;
    }
    await writer;
    expect(count).toBe(rowCount);
    expect(last).toBe(rowCount);
  });

  it('releases the input when the consumer stops early', async () => {
    const input = new PassThrough();
    input.write('name\n');
    for (let i = 0; i < 100; i++) input.write(`Person ${i}\n`);
    const closed = once(input, 'close');
    for await (const row of readCsv(input)) {
      expect(row.row).toBe(1);
      break;
    }
    await closed;
    expect(input.destroyed).toBe(true);
  });
});
