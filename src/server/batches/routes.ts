import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { readRecords, type ReadNote } from '../../data/index.js';
import { MergeshotError, UsageError } from '../../errors/index.js';
import { writeOutputsZip, type BatchRow } from '../../pipeline/index.js';
import { templateIdPattern } from '../../template/index.js';
import { sendError } from '../httpErrors.js';
import type { ImageService } from '../images.js';
import { parse, recordSchema } from '../routes/api.js';
import type { BatchStore, JobState } from './store.js';

/**
 * POST /api/batches (JSON rows, or a CSV body) → 202 with an id; GET /api/batches/<id> →
 * progress; GET /api/batches/<id>/download → zip of the images and manifest.csv.
 *
 * Rows keep their input numbers, as in `mergeshot render`: a CSV row is its data line (blank
 * lines count), a JSON row its position in `rows`. A CSV row the reader cannot parse stays in
 * the job with its reason and ends `failed`; it is never dropped or rendered as an empty record.
 */

const jsonBatch = z.strictObject({
  template: z.string().regex(templateIdPattern, 'must be a template id (folder name)'),
  preset: z.string().max(64).optional(),
  size: z.string().max(64).optional(),
  rows: z.array(recordSchema).min(1).max(1_000_000),
});

const csvQuery = z.object({
  template: z.string().regex(templateIdPattern, 'must be a template id (folder name)'),
  preset: z.string().max(64).optional(),
  size: z.string().max(64).optional(),
});

export interface BatchRouteOptions {
  readonly store: BatchStore;
  readonly images: ImageService;
  readonly logger: Logger;
  readonly uploadMaxBytes: number;
  /** Hands a stored job to the runner; the routes never run one themselves. */
  enqueue(id: string): void;
}

export function mountBatchRoutes(router: Router, options: BatchRouteOptions): void {
  const { store } = options;
  const upload = express.json({ limit: options.uploadMaxBytes });
  // Raw bytes, not express.text: the CSV reader decides between UTF-8 and Windows-1252 itself.
  const csv = express.raw({ type: ['text/csv', 'text/plain'], limit: options.uploadMaxBytes });
  router.post('/batches', upload, csv, async (req, res, next) => {
    try {
      const job = await createJob(options, req.headers['content-type'] ?? '', req.body as unknown, req.query);
      res.status(202).setHeader('Location', `/api/batches/${job.id}`).json(await jobStatus(store, job));
    } catch (error) {
      // The app's error handler answers and logs an unexpected error with its cause.
      next(error);
    }
  });
  router.get('/batches/:id', async (req, res, next) => {
    try {
      res.setHeader('Cache-Control', 'no-store');
      res.json(await jobStatus(store, await store.find(req.params.id)));
    } catch (error) {
      next(error);
    }
  });
  router.get('/batches/:id/download', async (req, res) => {
    try {
      const job = await store.find(req.params.id);
      if (job.status !== 'done') throw new MergeshotError('BATCH_NOT_READY', `batch ${job.id} is ${job.status}`);
      const outcomes = await store.outcomes(job.id);
      res.status(200).setHeader('Content-Type', 'application/zip').setHeader('Content-Disposition', `attachment; filename="${job.template}-${job.id.slice(0, 8)}.zip"`);
      await writeOutputsZip(res, outcomes.values(), (file) => store.imagePath(job.id, file));
    } catch (error) {
      if (res.headersSent) res.destroy(error as Error);
      else sendError(res, error);
    }
  });
}

async function createJob(options: BatchRouteOptions, contentType: string, body: unknown, query: unknown): Promise<JobState> {
  let spec: { template: string; preset?: string | undefined; size?: string | undefined };
  let rows: BatchRow[];
  const notes: string[] = [];
  if (/^(text\/csv|text\/plain)/i.test(contentType)) {
    spec = parse(csvQuery, query, 'query');
    const csv = csvText(contentType, body);
    rows = [];
    const onNote = (note: ReadNote) => notes.push(note.message);
    for await (const row of readRecords('-', { stdin: Readable.from([csv]), format: 'csv', onNote })) {
      rows.push(row.error ? { row: row.row, values: {}, error: row.error } : { row: row.row, values: { ...row.values } });
    }
    if (rows.length === 0) throw new UsageError('DATA_UNREADABLE', 'the CSV has a header but no rows', { field: 'body' });
  } else {
    const parsed = parse(jsonBatch, body, 'body');
    spec = parsed;
    rows = parsed.rows.map((values, index) => ({ row: index + 1, values }));
  }
  // Checked now, so a bad template, preset or size fails the request, not every row later.
  const { images } = options;
  const template = await images.template(spec.template);
  const target = images.target(template, { preset: spec.preset, size: spec.size });
  const job: JobState = {
    id: randomUUID(),
    template: template.id,
    preset: target.preset,
    size: target.size.name,
    total: rows.length,
    createdAt: new Date().toISOString(),
    ...(notes.length > 0 ? { notes } : {}),
    status: 'queued',
  };
  await options.store.create(job, rows);
  options.logger.info({ batchId: job.id, template: job.template, rows: job.total }, 'batch queued');
  options.enqueue(job.id);
  return job;
}

/** The progress body of GET /api/batches/<id>: the job, counts by outcome, and the download link once done. */
async function jobStatus(store: BatchStore, job: JobState) {
  const counts = { ok: 0, warning: 0, failed: 0 };
  for (const outcome of (await store.outcomes(job.id)).values()) counts[outcome.status] += 1;
  const done = counts.ok + counts.warning + counts.failed;
  return { ...job, done, ...counts, download: job.status === 'done' ? `/api/batches/${job.id}/download` : null };
}

/** Charsets whose bytes go to the CSV reader as they are: it reads UTF-8 and tells Windows-1252 apart itself. */
const readerCharsets = new Set(['utf-8', 'utf8', 'us-ascii', 'windows-1252', 'cp1252', 'iso-8859-1', 'latin1']);

/**
 * The bytes of a CSV upload for the reader. A body declared in another charset
 * (`Content-Type: text/csv; charset=utf-16le`) is decoded here and handed on as UTF-8.
 */
function csvText(contentType: string, body: unknown): Buffer {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType)?.[1]?.toLowerCase();
  if (charset === undefined || readerCharsets.has(charset)) return bytes;
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset);
  } catch {
    throw new UsageError('USAGE', `Content-Type charset "${charset.slice(0, 40)}" is not one the server can read.`, { field: 'body', hint: 'Send the CSV as UTF-8 (charset=utf-8), or leave the charset out.' });
  }
  return Buffer.from(decoder.decode(bytes), 'utf8');
}
