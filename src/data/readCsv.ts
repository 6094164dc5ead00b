import { Readable, pipeline } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { DataError, isMergeshotError, type RenderWarning } from '../errors/index.js';
import { toBuffer, transcodeToUtf8 } from './transcode.js';
import type { RawRow, ReadNote } from './types.js';

/**
 * Streaming CSV reader. Rows are pulled from csv-parse one at a time and csv-parse pulls bytes
 * from the input only as fast as rows are consumed, so a 100,000-row export never sits in
 * memory. Exports come from Excel, Google Sheets, CRMs and e-mail platforms, so the reader
 * accepts what they write: a UTF-8 or UTF-16LE BOM, "," ";" or tab, CRLF, quoted fields with
 * line breaks, Excel's "sep=;" first line, and Windows-1252 bytes from Excel's plain "CSV"
 * format (see transcodeToUtf8 in transcode.ts).
 *
 * Rows that do not fit the header are never read silently:
 * - a row with more values than the header fails, with the counts and the likely cause (a
 *   delimiter inside an unquoted value: `Smith, John` shifts every later value one column);
 * - a row with fewer values is read (exports drop trailing empty cells) with a `short-row` warning;
 * - a quote inside an unquoted value (`Bob "Bobby`) is kept as text with a `stray-quote`
 *   warning naming the column: it often means a value whose quoting went wrong.
 */

export interface ReadCsvOptions {
  /** One character, or "tab". Without it the delimiter is sniffed from the header line. */
  readonly delimiter?: string;
  /** Called once with the trimmed header names, before the first row. */
  readonly onHeader?: (headers: readonly string[]) => void;
  /** Called at most once per note, e.g. when the input was read as Windows-1252. */
  readonly onNote?: (note: ReadNote) => void;
}

/**
 * A row as read; `error` is set (and `values` empty) when the row could not be parsed or has
 * more values than the header. `warnings` name the column (as `field`), not a template field.
 */
export type CsvRow = RawRow & { readonly error?: string; readonly warnings?: readonly RenderWarning[] };

const sniffedDelimiters = [',', ';', '\t'] as const;

/** Enough bytes to hold any real header line; a longer "line" means there is no line break. */
const maxHeaderBytes = 64 * 1024;

/**
 * A runaway quoted field (a stray `"`) would otherwise swallow the rest of the file into one
 * field held in memory. 8 Mi characters still fits a 5 MB data:image URI in a cell.
 */
const maxRecordChars = 8 * 1024 * 1024;

export async function* readCsv(input: NodeJS.ReadableStream, options: ReadCsvOptions = {}): AsyncGenerator<CsvRow> {
  const chosen = options.delimiter === undefined ? undefined : checkDelimiter(options.delimiter);
  // The first line break ends the sniffing window; in UTF-16LE it is still a 0x0a byte.
  const { head, stream } = await peekStream(input, (chunk) => chunk.includes(0x0a) || chunk.includes(0x0d), maxHeaderBytes);
  const delimiter = chosen ?? sniffDelimiter(decodeHead(head));

  // csv-parse calls on_record and on_skip synchronously in input order, while records reach the
  // loop below later through the stream buffer. Numbering rows in the hooks keeps row numbers
  // and failed rows in input order. 0 marks the header record.
  const rowNumbers: { row: number; strayQuotes: number[] }[] = [];
  const failed: CsvRow[] = [];
  // Field indexes of the record being parsed whose unquoted value holds a quote; cast runs per field before on_record.
  let strayQuotes: number[] = [];
  let parsedRows = 0;
  let hasHeader = false;
  let isRunaway = false;
  const parser = parse({
    bom: true,
    delimiter,
    relax_column_count: true,
    // A quote inside an unquoted field (`5" screen`) is kept as text instead of failing the row.
    relax_quotes: true,
    skip_empty_lines: false,
    max_record_size: maxRecordChars,
    // A record csv-parse cannot read is skipped and reported, never a reason to stop the batch.
    skip_records_with_error: true,
    cast: (value, context) => {
      if (!context.quoting && value.includes('"')) strayQuotes.push(context.index);
      return value;
    },
    on_record: (record) => {
      const quotes = strayQuotes;
      strayQuotes = [];
      if (!hasHeader) {
        if (isBlank(record) || isExcelSeparatorLine(record)) return null;
        hasHeader = true;
        rowNumbers.push({ row: 0, strayQuotes: [] });
        return record;
      }
      parsedRows += 1;
      // Blank lines are counted, so row numbers keep matching the spreadsheet the user sees.
      if (isBlank(record)) return null;
      rowNumbers.push({ row: parsedRows, strayQuotes: quotes });
      return record;
    },
    on_skip: (error) => {
      strayQuotes = [];
      // After a runaway quote csv-parse reports again for every later chunk: one report is enough.
      if (isRunaway) return undefined;
      const code = error?.code ?? 'CSV_UNKNOWN';
      isRunaway = code === 'CSV_MAX_RECORD_SIZE' || code === 'CSV_QUOTE_NOT_CLOSED';
      if (!hasHeader) {
        // Thrown from the hook, this becomes a stream error and ends the loop below.
        throw new DataError('DATA_UNREADABLE', `the header row could not be read (${code}). Check the quotes in the first line.`);
      }
      parsedRows += 1;
      failed.push({ row: parsedRows, values: {}, error: skipMessage(isRunaway, code) });
      return undefined;
    },
  });
  // Errors reach the loop below through the parser; the callback only prevents an unhandled one.
  pipeline(stream, transcodeToUtf8(options.onNote), parser, () => {});

  let headers: string[] = [];
  let completed = false;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      const { row, strayQuotes: quotes } = rowNumbers.shift() ?? { row: 0, strayQuotes: [] };
      if (row === 0) {
        headers = record.map((name) => name.trim());
        options.onHeader?.(headers);
        continue;
      }
      while (failed[0] !== undefined && failed[0].row < row) yield failed.shift()!;
      yield fitToHeader(row, headers, record, quotes, delimiter);
    }
    completed = true;
  } catch (error) {
    // Errors already coded (the header check above, USAGE from a mapper built in onHeader) pass through.
    if (isMergeshotError(error)) throw error;
    throw new DataError('DATA_UNREADABLE', `the CSV data could not be read: ${describeError(error)}.`, {}, { cause: error });
  } finally {
    parser.destroy();
    // Like `for await (… of stream)`, stopping early destroys the input. It must be done here:
    // the replaying reader may be parked in a read that only ends with new data or a destroy.
    if (!completed && input instanceof Readable) input.destroy();
  }
  yield* failed;
}

/**
 * A row measured against the header. Extra values fail the row: read by position, every value
 * after the stray delimiter would land in the next column's field ("Invitation for Smith to
 * John"), and which value split cannot be known. Messages give counts and column names, never values.
 */
function fitToHeader(row: number, headers: readonly string[], record: readonly string[], strayQuotes: readonly number[], delimiter: string): CsvRow {
  const shown = delimiter === '\t' ? 'tab' : `"${delimiter}"`;
  if (record.length > headers.length) {
    const quoteHint = strayQuotes.length > 0 ? ` (this row also has a stray quote in column ${columnName(headers, strayQuotes[0]!)})` : '';
    return {
      row,
      values: {},
      error: `${record.length} values, but the header has ${headers.length}: an unquoted ${shown} in a value${quoteHint}? Put that value in double quotes ("Smith, John") or remove the ${shown}, then run again.`,
    };
  }
  const warnings: RenderWarning[] = strayQuotes.map((index) => ({
    code: 'stray-quote',
    field: headers[index] ?? '',
    message: `column ${columnName(headers, index)}: a bare quote (") inside an unquoted value, kept as text. If the value was meant to be quoted, quote all of it and double the inner quotes ("Bob ""Bobby"" Smith").`,
  }));
  if (record.length < headers.length) {
    const absent = headers.slice(record.length).filter((header) => header !== '');
    if (absent.length > 0) {
      warnings.push({
        code: 'short-row',
        field: absent[0]!,
        message: `${record.length} values, but the header has ${headers.length}: ${absent.map((header) => `"${header}"`).join(', ')} read as empty`,
      });
    }
  }
  return warnings.length > 0 ? { row, values: toValues(headers, record), warnings } : { row, values: toValues(headers, record) };
}

function columnName(headers: readonly string[], index: number): string {
  const header = headers[index];
  return header ? `"${header}"` : `${index + 1}`;
}

/**
 * Why a row was skipped, without its content (csv-parse messages quote cells). The row number
 * travels on the row: whoever reports the failure prefixes it once.
 */
function skipMessage(isRunaway: boolean, code: string): string {
  if (isRunaway) {
    return 'a quoted field opens in this row and is never closed, so this row and every line after it could not be read. Close the quote or remove it.';
  }
  return `could not be parsed (${code}). Check the quotes and delimiters in this row.`;
}

/** Normalises a user-given delimiter; throws USAGE when it is not one character. */
export function checkDelimiter(delimiter: string): string {
  if (delimiter === 'tab' || delimiter === '\\t') return '\t';
  if ([...delimiter].length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new DataError(
      'USAGE',
      `--delimiter must be one character other than a quote or line break, or "tab"; got ${[...delimiter].length} characters.`,
      { hint: 'For example --delimiter ";" or --delimiter tab.' },
    );
  }
  return delimiter;
}

/**
 * Picks the delimiter that occurs most often outside quotes in the header line. Sniffing one
 * line and fixing one delimiter (rather than csv-parse's multi-delimiter array) keeps commas
 * inside the cells of a ";" file ("Lima, Peru") as text.
 */
export function sniffDelimiter(text: string): string {
  const lines = text.replace(/^\uFEFF/u, '').split(/\r\n|\n|\r/u);
  const separatorLine = /^sep=(.)$/u.exec(lines[0] ?? '');
  if (separatorLine?.[1]) return separatorLine[1];
  const header = lines.find((line) => line.trim() !== '') ?? '';
  const counts = new Map<string, number>(sniffedDelimiters.map((candidate) => [candidate, 0]));
  let quoted = false;
  for (const char of header) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && counts.has(char)) counts.set(char, (counts.get(char) ?? 0) + 1);
  }
  let best: string = ',';
  let bestCount = 0;
  for (const candidate of sniffedDelimiters) {
    const count = counts.get(candidate) ?? 0;
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}

/**
 * Reads from `input` until `isEnough(chunk)` holds for a chunk or `maxBytes` are read, then
 * returns those bytes and a stream that replays them followed by the rest of the input. The
 * predicate sees one chunk at a time so tiny chunks cost linear, not quadratic, time. Pulling
 * through the iterator (instead of buffering in a listener) keeps backpressure intact.
 */
export async function peekStream(
  input: NodeJS.ReadableStream,
  isEnough: (chunk: Buffer) => boolean,
  maxBytes: number,
): Promise<{ head: Buffer; stream: Readable }> {
  const iterator = input[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  try {
    while (size < maxBytes) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        break;
      }
      const chunk = toBuffer(next.value);
      chunks.push(chunk);
      size += chunk.length;
      if (isEnough(chunk)) break;
    }
  } catch (error) {
    throw new DataError('DATA_UNREADABLE', `the data could not be read: ${describeError(error)}.`, {}, { cause: error });
  }

  // A plain Readable rather than Readable.from(generator): destroying a generator-backed stream
  // waits for the generator, which can be parked in a read that only ends with new input.
  const stream = new Readable({
    read() {
      const buffered = chunks.shift();
      if (buffered !== undefined) {
        this.push(buffered);
      } else if (ended) {
        this.push(null);
      } else {
        iterator.next().then(
          (next) => {
            if (next.done) ended = true;
            this.push(next.done ? null : toBuffer(next.value));
          },
          (error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))),
        );
      }
    },
    destroy(error, callback) {
      // The consumer stopped early: release the input instead of leaving it paused forever.
      if (!ended) {
        if (input instanceof Readable) input.destroy();
        else void iterator.return?.();
      }
      callback(error);
    },
  });
  return { head: Buffer.concat(chunks, size), stream };
}

/** Decodes the sniffing window; a character cut at the window's end only affects that character. */
function decodeHead(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  return bytes.toString('utf8');
}

function isBlank(record: readonly string[]): boolean {
  return record.every((cell) => cell.trim() === '');
}

/** Excel writes "sep=;" as the first line of some exports to announce the delimiter. */
function isExcelSeparatorLine(record: readonly string[]): boolean {
  return record.length <= 2 && /^sep=.?$/u.test(record.join(''));
}

function toValues(headers: readonly string[], record: readonly string[]): Record<string, string> {
  const entries: [string, string][] = [];
  const seen = new Set<string>();
  // Cells past the header are dropped; a short row simply lacks its last columns.
  const width = Math.min(headers.length, record.length);
  for (let i = 0; i < width; i++) {
    const header = headers[i]!;
    // An unnamed column carries nothing a field could ask for; a repeated header keeps its first cell.
    if (header === '' || seen.has(header)) continue;
    seen.add(header);
    entries.push([header, record[i]!]);
  }
  return Object.fromEntries(entries);
}

/** An I/O error's code and message; never a record value (csv-parse messages can quote cells). */
function describeError(error: unknown): string {
  if (error instanceof CsvError) return error.code;
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code ? `${code} ${error.message}` : error.message;
  }
  return typeof error;
}
