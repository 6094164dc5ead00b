import { parentPort, workerData } from 'node:worker_threads';
import { readRecords, type ReadNote } from '../../data/index.js';
import { DataError, isMergeshotError } from '../../errors/index.js';
import type { CsvDescription, DescribeReply, DescribeRequest, UnreadableRow } from './describeCsv.js';

/**
 * The worker thread side of describeCsv(): reads the stored CSV once (streamed, values
 * discarded) and posts its description, or the error, back. Off the main thread, a
 * 1,000,000-row file no longer holds up the image routes while it is read.
 */
async function describe(request: DescribeRequest): Promise<CsvDescription> {
  let columns: readonly string[] = [];
  let rows = 0;
  let unreadableCount = 0;
  const unreadable: UnreadableRow[] = [];
  const notes: string[] = [];
  const onNote = (note: ReadNote) => notes.push(note.message);
  for await (const row of readRecords(request.path, { format: 'csv', onHeader: (names) => (columns = names), onNote })) {
    rows += 1;
    if (rows > request.maxRows) {
      throw new DataError('UPLOAD_TOO_LARGE', `the CSV has more than ${request.maxRows} rows, the most one upload may hold (studio.uploadMaxRows). Split the list into smaller files, or raise studio.uploadMaxRows.`, { field: 'body' });
    }
    if (row.error === undefined) continue;
    unreadableCount += 1;
    if (unreadable.length < request.listedUnreadable) unreadable.push({ row: row.row, reason: `row ${row.row}: ${row.error}` });
  }
  return { columns, rows, unreadable, unreadableCount, notes };
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
