import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { DataError, type RenderWarning } from '../errors/index.js';
import { peekStream, readCsv } from './readCsv.js';
import { readJson, readNdjson } from './readJson.js';
import type { RawRow, ReadNote } from './types.js';

/**
 * One entry point for every data source: a CSV/JSON/NDJSON file or standard input. The format
 * comes from the option, else the file extension, else the first non-space byte.
 */

/**
 * A record as read; `row` is its number in the input (CSV: data line, JSON: element, NDJSON:
 * line), kept by every front end. A row that could not be parsed has `error` (the reason, without
 * record values or its own row number) and empty `values`: it is reported failed, never dropped.
 */
export interface InputRow extends RawRow {
  readonly error?: string;
  /** Problems of the row as read (CSV: `stray-quote`, `short-row`), naming the column in `field`. */
  readonly warnings?: readonly RenderWarning[];
}

export type DataFormat = 'csv' | 'json' | 'ndjson';

export interface ReadRecordsOptions {
  readonly format?: DataFormat;
  /** CSV only: one character or "tab"; sniffed from the header line when absent. */
  readonly delimiter?: string;
  /** Read instead of process.stdin when the source is "-" (tests, servers). */
  readonly stdin?: NodeJS.ReadableStream;
  /** CSV only: receives the trimmed header names before the first row. */
  readonly onHeader?: (headers: readonly string[]) => void;
  /** Receives notes about the whole input (e.g. read as Windows-1252), each at most once. */
  readonly onNote?: (note: ReadNote) => void;
}

const formatsByExtension: Readonly<Record<string, DataFormat>> = {
  '.csv': 'csv',
  '.tsv': 'csv',
  '.tab': 'csv',
  '.json': 'json',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
};

/** A first non-space byte further away than this is not worth waiting for: read as CSV. */
const maxSniffBytes = 64 * 1024;

/** `source` is a file path, or "-" for standard input. */
export async function* readRecords(source: string, options: ReadRecordsOptions = {}): AsyncGenerator<InputRow> {
  const fromStdin = source === '-';
  let input: NodeJS.ReadableStream = fromStdin ? (options.stdin ?? process.stdin) : await openFile(source);
  const extension = fromStdin ? '' : extname(source).toLowerCase();
  let format = options.format ?? formatsByExtension[extension];
  if (format === undefined) {
    const { head, stream } = await peekStream(input, hasSignificantByte, maxSniffBytes);
    format = formatFromFirstByte(firstSignificantByte(head));
    input = stream;
  }
  const delimiter = options.delimiter ?? (extension === '.tsv' || extension === '.tab' ? '\t' : undefined);

  switch (format) {
    case 'csv':
      yield* readCsv(input, { delimiter, onHeader: options.onHeader, onNote: options.onNote });
      return;
    case 'json':
      yield* readJson(input, { onNote: options.onNote });
      return;
    case 'ndjson':
      yield* readNdjson(input, { onNote: options.onNote });
      return;
  }
}

async function openFile(path: string): Promise<NodeJS.ReadableStream> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) {
      throw new DataError('DATA_UNREADABLE', `data file "${path}" is a directory. Give the path of a .csv, .json or .ndjson file inside it.`, {
        source: path,
      });
    }
    const handle = await open(path, 'r');
    return handle.createReadStream();
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw new DataError('DATA_UNREADABLE', unreadableMessage(path, error), { source: path }, { cause: error });
  }
}

function unreadableMessage(path: string, error: unknown): string {
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  switch (code) {
    case 'ENOENT':
      return `data file "${path}" does not exist. Check the path, or pass - to read from standard input.`;
    case 'EACCES':
    case 'EPERM':
      return `data file "${path}" cannot be opened: permission denied. Make it readable by this user.`;
    default:
      return `data file "${path}" cannot be opened (${code ?? 'unknown error'}).`;
  }
}

/** The first byte that is not whitespace or part of a UTF-8 BOM; a UTF-16 BOM counts as CSV. */
function firstSignificantByte(bytes: Buffer): number | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 0xff;
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  for (let i = start; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return byte;
  }
  return undefined;
}

/** Whether a chunk holds anything but whitespace and BOM bytes: then the format can be decided. */
function hasSignificantByte(chunk: Buffer): boolean {
  return chunk.some((byte) => byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0xef && byte !== 0xbb && byte !== 0xbf);
}

function formatFromFirstByte(byte: number | undefined): DataFormat {
  if (byte === 0x5b /* [ */) return 'json';
  if (byte === 0x7b /* { */) return 'ndjson';
  return 'csv';
}
