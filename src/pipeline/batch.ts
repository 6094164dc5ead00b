import { isMergeshotError, toMergeshotError, type RenderWarning } from '../errors/index.js';
import type { Pipeline } from './pipeline.js';
import type { RowOutcome } from './types.js';

/**
 * A row as read from the input; `error` marks a row the reader could not parse (or that does not
 * fit the header), `warnings` what the reader noticed about a readable row (a stray quote, a
 * short row, a value its column's format could not read): they lead the outcome's warnings.
 */
export interface BatchRow {
  readonly row: number;
  readonly values: Readonly<Record<string, unknown>>;
  readonly error?: string;
  readonly warnings?: readonly RenderWarning[];
}

export interface BatchOptions {
  readonly template: string;
  readonly preset?: string | undefined;
  readonly size?: string | undefined;
  readonly map?: Readonly<Record<string, string>> | undefined;
  /** Renders in flight. Above the page count so encoding overlaps the next capture. */
  readonly concurrency: number;
  /** Stops reading new rows; rows in flight still finish and are reported. */
  readonly signal?: AbortSignal | undefined;
  /** Rows to skip (already done by an earlier run); they produce no outcome. */
  readonly skip?: (row: BatchRow) => boolean;
  /** Measure each row (Pipeline.measure) instead of rendering it: outcomes carry `measurement`. */
  readonly measure?: boolean | undefined;
}

/**
 * Renders (or measures) rows with bounded concurrency and yields one outcome per row in completion order.
 * Reading is pulled: no more than `concurrency` rows are held, so a 100,000-row file streams.
 * Never throws for a row; an error reading the input itself ends the iteration with it.
 */
export async function* renderBatch(pipeline: Pipeline, rows: AsyncIterable<BatchRow>, options: BatchOptions): AsyncGenerator<RowOutcome> {
  const concurrency = Math.max(1, Math.floor(options.concurrency) || 1);
  const inFlight = new Map<number, Promise<{ id: number; outcome: RowOutcome }>>();
  const iterator = rows[Symbol.asyncIterator]();
  let nextId = 0;
  let exhausted = false;

  const start = (row: BatchRow) => {
    const id = nextId++;
    inFlight.set(id, renderRow(pipeline, row, options).then((outcome) => ({ id, outcome })));
  };

  try {
    while (!exhausted || inFlight.size > 0) {
      while (!exhausted && inFlight.size < concurrency && !options.signal?.aborted) {
        const next = await iterator.next();
        if (next.done) {
          exhausted = true;
          break;
        }
        if (options.skip?.(next.value)) continue;
        start(next.value);
      }
      if (options.signal?.aborted) exhausted = true;
      if (inFlight.size === 0) break;
      const { id, outcome } = await Promise.race(inFlight.values());
      inFlight.delete(id);
      yield outcome;
    }
  } finally {
    // Stopped early by the consumer: let started renders settle so no lease is left behind.
    await Promise.allSettled(inFlight.values());
    await iterator.return?.();
  }
}

async function renderRow(pipeline: Pipeline, row: BatchRow, options: BatchOptions): Promise<RowOutcome> {
  if (row.error) return { row: row.row, status: 'failed', warnings: [], error: { code: 'DATA_UNREADABLE', message: `row ${row.row}: ${row.error}` } };
  try {
    const request = { template: options.template, data: row.values, preset: options.preset, size: options.size, map: options.map };
    const read = row.warnings ?? [];
    if (options.measure) {
      const measurement = await pipeline.measure(request);
      const warnings = [...read, ...measurement.warnings];
      return { row: row.row, status: warnings.length ? 'warning' : 'ok', warnings, measurement };
    }
    const result = await pipeline.renderOne(request);
    const warnings = [...read, ...result.warnings];
    return { row: row.row, status: warnings.length ? 'warning' : 'ok', warnings, result };
  } catch (error) {
    const failure = toMergeshotError(error);
    const message = isMergeshotError(error) ? failure.message : `unexpected error: ${failure.message}`;
    return { row: row.row, status: 'failed', warnings: [], error: { code: failure.code, message: `row ${row.row}: ${message}` } };
  }
}
