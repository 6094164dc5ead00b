import { createInterface } from 'node:readline';
import { Readable, pipeline } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { DataError } from '../errors/index.js';
import { transcodeToUtf8 } from './transcode.js';
import type { RawRow, ReadNote } from './types.js';

/**
 * JSON readers. Both stream: a JSON array is cut into its top-level elements by a small scanner
 * that only tracks strings and bracket depth, and each element is parsed on its own, so memory
 * holds one record at a time and one malformed element becomes one failed row instead of
 * failing the file. NDJSON is read line by line. Records must be objects; anything else is
 * yielded as a row with `error`. Bytes that are not UTF-8 are judged as in readCsv (read as
 * Windows-1252 when the input is evidently not UTF-8, said once through `onNote`).
 */

export interface ReadJsonOptions {
  /** Called at most once per note, e.g. when the input was read as Windows-1252. */
  readonly onNote?: (note: ReadNote) => void;
}

/**
 * A row as read; `error` is set (and `values` empty) when the element is not a usable record.
 * `error` does not repeat the row number: it travels on the row, and the report prefixes it once.
 */
export type JsonRow = RawRow & { readonly error?: string };

/**
 * One element larger than this means the structure is broken (an unclosed string or bracket)
 * rather than a real record; 16 Mi characters still fits a 5 MB data:image URI.
 */
const maxElementChars = 16 * 1024 * 1024;

/**
 * Reads a JSON array of objects (`[{…}, {…}]`). A document that starts with `{` is read as a
 * sequence of objects separated by whitespace, which covers a single object, pretty-printed
 * objects one after another, and NDJSON saved with a .json name.
 * `row` is the 1-based position of the element.
 */
export async function* readJson(input: NodeJS.ReadableStream, options: ReadJsonOptions = {}): AsyncGenerator<JsonRow> {
  const decoder = new StringDecoder('utf8');
  const scanner = new ElementScanner();
  // Errors reach the loop through the last stream; stopping early destroys it and so the input.
  const bytes = pipeline(input, transcodeToUtf8(options.onNote), () => {});
  try {
    for await (const chunk of bytes) {
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      yield* scanner.feed(text);
    }
    yield* scanner.feed(decoder.end());
  } catch (error) {
    throw asUnreadable(error);
  }
  yield* scanner.finish();
}

/**
 * Reads newline-delimited JSON, one object per line. `row` is the 1-based line number; blank
 * lines are skipped but counted, so the number points at the line an editor shows.
 */
export async function* readNdjson(input: NodeJS.ReadableStream, options: ReadJsonOptions = {}): AsyncGenerator<JsonRow> {
  // readline pauses the input while this generator is not being pulled, which keeps backpressure.
  const lines = createInterface({ input: pipeline(input, transcodeToUtf8(options.onNote), () => {}), crlfDelay: Infinity });
  let row = 0;
  let completed = false;
  try {
    for await (const raw of lines) {
      row += 1;
      const line = row === 1 ? raw.replace(/^\uFEFF/u, '') : raw;
      if (line.trim() === '') continue;
      yield toRow(row, line);
    }
    completed = true;
  } catch (error) {
    throw asUnreadable(error);
  } finally {
    lines.close();
    // Like `for await (… of stream)`, stopping early destroys the input; readline would only pause it.
    if (!completed && input instanceof Readable) input.destroy();
  }
}

/** Parses one element's text into a row; the message gives the shape, never the content. */
function toRow(row: number, text: string): JsonRow {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // V8's SyntaxError quotes the text around the fault, which is record data: not repeated here.
    return { row, values: {}, error: `not valid JSON (${text.length} characters). Check quotes, commas and brackets in this record.` };
  }
  if (!isRecord(parsed)) {
    return { row, values: {}, error: `expected an object like {"firstName": "Ana"}, got ${describeJson(parsed)}.` };
  }
  return { row, values: parsed };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function asUnreadable(error: unknown): DataError {
  if (error instanceof DataError) return error;
  const message = error instanceof Error ? error.message : typeof error;
  return new DataError('DATA_UNREADABLE', `the JSON data could not be read: ${message}.`, {}, { cause: error });
}

type ScanState = 'start' | 'array' | 'sequence' | 'done';

/**
 * Splits a JSON text into top-level records without parsing them: inside an element it tracks
 * only string/escape state and bracket depth. Used by readJson; not exported from the folder.
 */
class ElementScanner {
  private state: ScanState = 'start';
  private element = '';
  private inElement = false;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private row = 0;
  private offset = 0;

  *feed(text: string): Generator<JsonRow> {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const char = text[i]!;
      if (this.inElement) {
        const end = this.scan(char);
        if (end === 'continue') continue;
        this.element += text.slice(start, end === 'include' ? i + 1 : i);
        this.inElement = false;
        yield toRow(this.row, this.element.trim());
        this.element = '';
        if (end === 'close-array') this.state = 'done';
        continue;
      }
      if (isJsonSpace(char)) continue;
      switch (this.state) {
        case 'start':
          if (char === '[') this.state = 'array';
          else if (char === '{') {
            this.state = 'sequence';
            this.begin(char);
            start = i + 1;
          } else throw this.unexpected(i, 'the data does not start with "[" or "{"');
          break;
        case 'array':
          if (char === ']') {
            // "[a,]": a trailing comma is a common hand-editing slip, not a missing record.
            this.state = 'done';
          } else if (char === ',') {
            // Elements consume their own trailing comma, so a bare one means "[,", or ",,".
            this.row += 1;
            yield { row: this.row, values: {}, error: 'empty element between two commas.' };
          } else {
            this.begin(char);
            start = i + 1;
          }
          break;
        case 'sequence':
          if (char !== '{') throw this.unexpected(i, 'expected another object starting with "{"');
          this.begin(char);
          start = i + 1;
          break;
        case 'done':
          throw this.unexpected(i, 'found content after the closing "]"');
      }
    }
    if (this.inElement) {
      this.element += text.slice(start);
      if (this.element.length > maxElementChars) {
        throw new DataError(
          'DATA_UNREADABLE',
          `row ${this.row}: element longer than ${maxElementChars} characters, probably an unclosed string or bracket; the records after it cannot be found. Check row ${this.row}.`,
          { row: this.row },
        );
      }
    }
    this.offset += text.length;
  }

  *finish(): Generator<JsonRow> {
    if (this.inElement) {
      yield { row: this.row, values: {}, error: 'the data ends inside this element; the file is probably truncated.' };
      return;
    }
    if (this.state === 'array') {
      throw new DataError(
        'DATA_UNREADABLE',
        `the JSON array is never closed with "]" (after row ${this.row}); the file is probably truncated. Re-export it.`,
        { row: this.row },
      );
    }
  }

  private begin(char: string): void {
    this.row += 1;
    this.inElement = true;
    this.element = char;
    this.depth = char === '{' || char === '[' ? 1 : 0;
    this.inString = char === '"';
    this.escaped = false;
  }

  /** What `char` means for the element being read: keep going, or where it ends. */
  private scan(char: string): 'continue' | 'include' | 'comma' | 'close-array' {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (char === '\\') this.escaped = true;
      else if (char === '"') this.inString = false;
      return 'continue';
    }
    if (char === '"') {
      this.inString = true;
    } else if (char === '{' || char === '[') {
      this.depth += 1;
    } else if (char === '}' || char === ']') {
      if (this.depth === 0) return char === ']' && this.state === 'array' ? 'close-array' : 'continue';
      this.depth -= 1;
      if (this.depth === 0 && this.state === 'sequence') return 'include';
    } else if (char === ',' && this.depth === 0 && this.state === 'array') {
      return 'comma';
    }
    return 'continue';
  }

  private unexpected(index: number, what: string): DataError {
    return new DataError('DATA_UNREADABLE', `the JSON data cannot be read at character ${this.offset + index + 1}: ${what}.`, {
      hint: 'Give a JSON array of objects, one object per record, or NDJSON with one object per line.',
    });
  }
}

function isJsonSpace(char: string): boolean {
  return char === ' ' || char === '\n' || char === '\r' || char === '\t' || char === '\uFEFF';
}
