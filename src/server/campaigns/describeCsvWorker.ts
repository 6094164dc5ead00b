import { parentPort, workerData } from 'node:worker_threads';
import { FormatAmbiguousError, readFieldRows, type AmbiguousColumn, type FieldRow } from '../../data/index.js';
import { DataError, isMergeshotError } from '../../errors/index.js';
import type { CsvDescription, DescribeReply, DescribeRequest, UnreadableRow, WarnedRow } from './describeCsv.js';

/**
 * The worker thread side of describeCsv(): reads the stored CSV as batches will read it
 * (readFieldRows against the template's fields, auto-mapped; values discarded) and posts its
 * description, or the error, back. Off the main thread, a 1,000,000-row file no longer holds up
 * the image routes while it is read.
 *
 * A date or number column that reads two ways is not an error here but the question the studio
 * asks at upload (`formatQuestions`); the rows are then counted with the first candidate format,
 * which changes no count of unreadable or warned rows but the `invalid` ones of that column.
 */
async function describe(request: DescribeRequest): Promise<CsvDescription> {
  let columns: readonly string[] = [];
  const notes = new Set<string>();
  const read = async (formats: Readonly<Record<string, string>>) => {
    const counts = { rows: 0, unreadableCount: 0, warnedCount: 0, unreadable: [] as UnreadableRow[], warned: [] as WarnedRow[] };
    const reading = readFieldRows(request.path, request.fields, {
      format: 'csv',
      formats,
      ...(request.locale !== undefined ? { locale: request.locale } : {}),
      onHeader: (_mapper, names) => (columns = names),
      onNote: (message) => notes.add(message),
    });
    for await (const row of reading) {
      counts.rows += 1;
      if (counts.rows > request.maxRows) {
        throw new DataError('UPLOAD_TOO_LARGE', `the CSV has more than ${request.maxRows} rows, the most one upload may hold (studio.uploadMaxRows). Split the list into smaller files, or raise studio.uploadMaxRows.`, { field: 'body' });
      }
      count(row, counts, request.listedUnreadable);
    }
    return counts;
  };
  let formatQuestions: readonly AmbiguousColumn[] = [];
  let counts;
  try {
    counts = await read({});
  } catch (error) {
    if (!(error instanceof FormatAmbiguousError)) throw error;
    formatQuestions = error.columns;
    counts = await read(Object.fromEntries(error.columns.map((column) => [column.field, column.formats[0]])));
  }
  return { columns, ...counts, notes: [...notes], formatQuestions };
}

function count(row: FieldRow, counts: { unreadableCount: number; warnedCount: number; unreadable: UnreadableRow[]; warned: WarnedRow[] }, listed: number): void {
  if (row.error !== undefined) {
    counts.unreadableCount += 1;
    if (counts.unreadable.length < listed) counts.unreadable.push({ row: row.row, reason: `row ${row.row}: ${row.error}` });
  } else if (row.warnings?.length) {
    counts.warnedCount += 1;
    // Codes and fields only: a warning's message may quote a value.
    if (counts.warned.length < listed) counts.warned.push({ row: row.row, warnings: row.warnings.map((w) => `${w.code}:${w.field ?? ''}`) });
  }
}

const request = (workerData as { request: DescribeRequest }).request;
let reply: DescribeReply;
try {
  reply = { ok: true, description: await describe(request) };
} catch (error) {
  // Only what the main thread rebuilds the typed error from: code, message (never a value), detail.
  reply = isMergeshotError(error) ? { ok: false, code: error.code, message: error.message, detail: error.detail } : { ok: false, code: 'DATA_UNREADABLE', message: `the CSV data could not be read (${error instanceof Error ? error.name : typeof error}).`, detail: { field: 'body' } };
}
parentPort?.postMessage(reply);
