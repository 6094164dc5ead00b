import { z } from 'zod';
import { mapRecord } from '../data/index.js';
import type { BatchRow, ManifestEntry } from '../pipeline/index.js';
import type { FieldSpecs } from '../template/index.js';

/**
 * The wire format between a batch's submitter (`mergeshot render --redis`, a server in
 * distributed mode) and the workers: one BullMQ job per chunk of rows, one result per row in a
 * Redis hash. Both sides parse what they read with these schemas: Redis is outside the process.
 *
 * Redis keys (all under `<queuePrefix>:`):
 *   BullMQ's queue `chunks` (its own keys under `<queuePrefix>:chunks:*`)
 *   `batch:<id>`          hash: total rows, chunks, template, version, preset, size, state
 *   `batch:<id>:results`  hash: row number → RowResult JSON, written with HSETNX: the first
 *                         outcome of a row wins, so a chunk retried after a stalled worker
 *                         never records a row twice.
 *   `batch:<id>:cancelled` set (with an expiry) when the batch is deleted: workers drop its
 *                         chunks and record nothing more for it.
 * Images are in the shared store under their cache key (the same key an image URL of that
 * record has), so a duplicate render of a row writes the same bytes to the same object.
 *
 * Personal data in Redis, and for how long (issue 18):
 * - A chunk job holds its rows' values, mapped to the template's fields (no other column or
 *   JSON key is ever queued), while it waits, runs or waits for a retry. Once it ends (every row
 *   recorded, dropped for a deleted batch, or given up) the worker replaces them with the row
 *   numbers alone (`withoutValues`), before BullMQ files the job as completed or failed.
 * - A row's result holds its alt text (and its fields with `withRecord`) until the submitter has
 *   collected the batch and forgets it; at most `batchStateKeptSeconds` after the last write.
 * - Deleting a batch removes its queued chunks and its state, and strips the values of a chunk
 *   a worker holds at that moment.
 */
export const chunkQueueName = 'chunks';

/**
 * How long a batch's state (counters, results) and a cancelled batch's flag outlive their last
 * write, and how long BullMQ keeps a failed chunk (no chunk of the batch can come back to a
 * worker after that): a submitter that never comes back does not leave its results for good.
 */
export const batchStateKeptSeconds = 7 * 24 * 3600;

export const batchRowSchema = z.object({
  row: z.number().int().min(0),
  values: z.record(z.string(), z.unknown()),
  error: z.string().optional(),
});

export const chunkJobSchema = z.object({
  batchId: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
  chunk: z.number().int().min(0),
  /** Template id: a folder under each worker's templatesDir. */
  template: z.string().min(1),
  /** The submitter's template version: a worker with other files refuses the chunk rather than render something else. */
  templateVersion: z.string().min(1),
  preset: z.string().min(1),
  size: z.string().min(1),
  /** The normalized record goes back with each result (for a --name pattern over fields). */
  withRecord: z.boolean(),
  rows: z.array(batchRowSchema),
});
export type ChunkJob = z.infer<typeof chunkJobSchema>;

export const rowResultSchema = z.object({
  row: z.number().int().min(0),
  status: z.enum(['ok', 'warning', 'failed']),
  /** Cache key of the image in the shared store; absent for a failed row. */
  key: z.string().optional(),
  format: z.string().optional(),
  bytes: z.number().int().min(0),
  width: z.number().int().min(0),
  height: z.number().int().min(0),
  /** `code:field` per warning. */
  warnings: z.array(z.string()),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  alt: z.string(),
  record: z.record(z.string(), z.unknown()).optional(),
  /** Which worker rendered it (hostname:pid), for operations. */
  worker: z.string(),
});
export type RowResult = z.infer<typeof rowResultSchema>;

export interface RedisKeys {
  readonly batch: (id: string) => string;
  readonly results: (id: string) => string;
  readonly cancelled: (id: string) => string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    batch: (id) => `${prefix}:batch:${id}`,
    results: (id) => `${prefix}:batch:${id}:results`,
    cancelled: (id) => `${prefix}:batch:${id}:cancelled`,
  };
}

/**
 * Rows of one chunk as the job carries them: the values of the template's fields only, mapped
 * as the pipeline maps them (so the worker renders the same record); any other column or JSON
 * key of the input stays out of Redis.
 */
export function chunkRows(rows: readonly BatchRow[], fields: FieldSpecs): ChunkJob['rows'] {
  return rows.map((row) => ({ row: row.row, values: row.error ? {} : { ...mapRecord(fields, row.values) }, ...(row.error ? { error: row.error } : {}) }));
}

/**
 * A chunk's data once it has ended: its row numbers without their values. Each row is marked
 * unreadable, so a chunk run again (retried from the dashboard, a stalled copy) can only record
 * a failure for a row that has no outcome yet, never render an empty card under its number.
 */
export function withoutValues(chunk: ChunkJob): ChunkJob {
  return { ...chunk, rows: chunk.rows.map((row) => ({ row: row.row, values: {}, error: `its values left Redis when chunk ${chunk.chunk} ended; submit the batch again` })) };
}

/** The manifest line of a row result (the kit's one schema, pipeline/manifest.ts), from the worker's figures. */
export function resultManifestEntry(result: RowResult, file: string): ManifestEntry {
  return { row: result.row, file, bytes: result.bytes, width: result.width, height: result.height, status: result.status, warnings: result.warnings.join(';'), error: result.error?.message ?? '', alt: result.alt };
}

/** Where a collected row's image is read from: the shared store (S3Store.getWritten). */
export interface StoredImages {
  getWritten(key: string): Promise<{ readonly bytes: Buffer } | undefined>;
}

/**
 * A worker's row result as a manifest entry, its image copied out of the store by `save`: the
 * one collection rule of every submitter (a server's batch, `mergeshot render --redis`). An
 * image gone from the store between the worker's write and this read (purged, expired) fails its
 * row and says why; it never fails the whole batch, and the row is never lost silently.
 */
export async function collectRow(result: RowResult, images: StoredImages, file: string, save: (file: string, bytes: Buffer) => Promise<void>): Promise<ManifestEntry> {
  if (!result.key) return resultManifestEntry(result, '');
  const entry = await images.getWritten(result.key);
  if (!entry) return { ...resultManifestEntry(result, ''), status: 'failed', bytes: 0, width: 0, height: 0, error: 'its image is not in the shared store any more (purged or expired); render the batch again' };
  await save(file, entry.bytes);
  return resultManifestEntry(result, file);
}
