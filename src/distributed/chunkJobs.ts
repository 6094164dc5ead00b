import { z } from 'zod';
import type { BatchRow, ManifestEntry } from '../pipeline/index.js';

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
 */
export const chunkQueueName = 'chunks';

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

/** Rows of one chunk as the job carries them. */
export function chunkRows(rows: readonly BatchRow[]): ChunkJob['rows'] {
  return rows.map((row) => ({ row: row.row, values: { ...row.values }, ...(row.error ? { error: row.error } : {}) }));
}

/** The manifest line of a row result (the kit's one schema, pipeline/manifest.ts), from the worker's figures. */
export function resultManifestEntry(result: RowResult, file: string): ManifestEntry {
  return { row: result.row, file, bytes: result.bytes, width: result.width, height: result.height, status: result.status, warnings: result.warnings.join(';'), error: result.error?.message ?? '', alt: result.alt };
}
