import { Worker } from 'node:worker_threads';
import type { AmbiguousColumn } from '../../data/index.js';
import { DataError, MergeshotError, type ErrorCode, type ErrorDetail } from '../../errors/index.js';
import type { FieldSpecs } from '../../template/index.js';

/**
 * What a stored CSV holds (its columns, row count, unreadable and warned rows; a value only in the
 * date or number question, which goes to the uploader alone), read in a
 * worker thread. Reading a 1,000,000-row upload on the main thread took seconds of CPU in one
 * stretch: cache hits waited 0.9–2.2 s behind it and /healthz 1–2 s (issue 18, item 6). One worker
 * per upload, ended when the description is posted, when `signal` aborts (the client went away,
 * the server closes) or when the row cap is passed.
 */

export interface UnreadableRow {
  readonly row: number;
  /** The reader's reason, prefixed with the row number as every front end reports it; no value. */
  readonly reason: string;
}

/** A readable row the reader warned about (a short row, a stray quote, a value its column's format cannot read). */
export interface WarnedRow {
  readonly row: number;
  /** `code:field`, as manifest.csv lists warnings; never a value. */
  readonly warnings: readonly string[];
}

export interface CsvDescription {
  /** The header row, trimmed, in file order. */
  readonly columns: readonly string[];
  /** Data rows, unreadable ones included (blank lines are not rows but keep their numbers). */
  readonly rows: number;
  readonly unreadable: readonly UnreadableRow[];
  readonly unreadableCount: number;
  /** The first warned rows (as many as unreadable ones are listed); `warnedCount` is complete. */
  readonly warned: readonly WarnedRow[];
  readonly warnedCount: number;
  readonly notes: readonly string[];
  /**
   * Date or number columns (as the template's fields auto-map them) that read two ways, with
   * two of their values read both ways: the question the studio asks at upload, answered with
   * `formats` in the preflight and batch requests. Personal data: kept in upload.json beside
   * the file, sent only to clients that may read the upload, never logged.
   */
  readonly formatQuestions: readonly AmbiguousColumn[];
}

/** Sent to the worker (workerData). */
export interface DescribeRequest {
  readonly path: string;
  /** Past this many data rows the upload is refused with UPLOAD_TOO_LARGE. */
  readonly maxRows: number;
  /** How many unreadable rows are listed; `unreadableCount` is complete. */
  readonly listedUnreadable: number;
  /** The template's fields the upload is read against (auto-mapped), and its locale. */
  readonly fields: FieldSpecs;
  readonly locale: string | undefined;
}

/** Posted back by the worker. */
export type DescribeReply = { readonly ok: true; readonly description: CsvDescription } | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly detail: ErrorDetail };

const workerEntry = new URL('./describeCsvWorker.ts', import.meta.url).href;
const workerShim = new URL('./tsWorker.mjs', import.meta.url);

export function describeCsv(request: DescribeRequest, signal: AbortSignal): Promise<CsvDescription> {
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerShim, { workerData: { entry: workerEntry, request } });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      outcome();
      // Owned here: the worker ends with its answer, whatever the answer was.
      void worker.terminate();
    };
    const onAbort = () => settle(() => reject(aborted()));
    signal.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: DescribeReply) => settle(() => (reply.ok ? resolve(reply.description) : reject(new DataError(reply.code, reply.message, reply.detail)))));
    worker.once('error', (error) => settle(() => reject(new MergeshotError('INTERNAL', 'the upload reader stopped unexpectedly', {}, { cause: error }))));
    worker.once('exit', (code) => settle(() => reject(new MergeshotError('INTERNAL', `the upload reader exited (code ${code}) without an answer`))));
  });
}

function aborted(): MergeshotError {
  return new MergeshotError('ABORTED', 'the upload was not read: the request or the server was closed');
}
