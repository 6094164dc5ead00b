import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import express, { type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { inferredFormatNote, readFieldRows, type ColumnOverrides } from '../../data/index.js';
import { MergeshotError, UsageError } from '../../errors/index.js';
import { manifestCsv, writeOutputsZip, type BatchRow } from '../../pipeline/index.js';
import { templateIdPattern, type LoadedTemplate } from '../../template/index.js';
import { checkFormats, checkMapping, csvBodyBytes, formatsSchema, isCsvContentType, mapSchema, type UploadStore } from '../campaigns/index.js';
import { hasScope, principalOf, requireOwnerOrScope, requireScope, type Principal } from '../apiKeys.js';
import { sendError } from '../httpErrors.js';
import type { ImageService } from '../images.js';
import { parse, recordSchema } from '../routes/requestSchemas.js';
import type { BatchStore, JobState, OutcomeLine } from './store.js';

/**
 * POST /api/batches (JSON rows, a CSV body, or a studio upload) → 202 with an id;
 * GET /api/batches → the caller's batches, newest first; GET /api/batches/<id> → progress; GET /api/batches/<id>/download → zip of the images and
 * manifest.csv; GET …/manifest.csv, …/rows (the manifest as JSON, filtered and paged),
 * …/images/<file> (one row's image); DELETE /api/batches/<id> stops the job and deletes it.
 *
 * Rows keep their input numbers, as in `mergeshot render`: a CSV row is its data line (blank
 * lines count), a JSON row its position in `rows`. A CSV row the reader cannot parse stays in
 * the job with its reason and ends `failed`; it is never dropped or rendered as an empty record.
 * CSV rows are read when the job is made, exactly like `mergeshot render --map --date-format`
 * (readFieldRows, the one reading path): only the fields' values are stored with the job, date
 * and number columns read with one format per column (declared in `formats`, else decided from
 * all the column's values), and the reader's row warnings (a short row, a stray quote) kept on
 * the row, so they reach its outcome and manifest.csv. A column that reads two ways refuses the
 * batch with 422 FORMAT_AMBIGUOUS, carrying the question (httpErrors.ts), before any row renders.
 *
 * A job records the name of the key that made it (`createdBy`): GET /api/batches lists, and
 * every /api/batches/<id> route serves, only the caller's own jobs unless it has `campaigns`
 * (apiKeys.ts). A batch from a studio upload needs `campaigns`: the upload is a mailing list.
 */

const templateId = z.string().regex(templateIdPattern, 'must be a template id (folder name)');

const jsonBatch = z.strictObject({
  template: templateId,
  preset: z.string().max(64).optional(),
  size: z.string().max(64).optional(),
  rows: z.array(recordSchema).min(1).max(1_000_000),
});

const uploadBatch = z.strictObject({
  template: templateId,
  preset: z.string().max(64).optional(),
  size: z.string().max(64).optional(),
  upload: z.uuid('must be the id of an upload (POST /api/uploads)'),
  map: mapSchema.default({}),
  formats: formatsSchema.default({}),
});

/** `map=field=Column` or `formats=field=DD/MM/YYYY`, repeatable: the CLI's `--map` / `--date-format` spelled as query parameters. */
const pairsQuery = (name: string, right: string, example: string, rightIs: string) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((value, context) => {
      const pairs: Record<string, string> = {};
      for (const pair of value === undefined ? [] : [value].flat()) {
        const at = pair.indexOf('=');
        if (at < 1 || at === pair.length - 1) {
          context.addIssue({ code: 'custom', message: `must be field=${right}, e.g. ${name}=${example}; got "${pair.slice(0, 60)}". Put a field of the template left of "=" and ${rightIs} right of it.` });
          return z.NEVER;
        }
        pairs[pair.slice(0, at)] = pair.slice(at + 1);
      }
      return pairs;
    });

const csvQuery = z.object({
  template: templateId,
  preset: z.string().max(64).optional(),
  size: z.string().max(64).optional(),
  map: pairsQuery('map', 'Column', 'firstName=First%20Name', 'a column of the CSV'),
  formats: pairsQuery('formats', 'Format', 'date=DD%2FMM%2FYYYY', 'the format of its column'),
});

const rowsQuery = z.object({
  /** Comma-separated statuses; every row when absent. */
  status: z
    .string()
    .regex(/^(ok|warning|failed)(,(ok|warning|failed))*$/, 'must be a comma-separated list of ok, warning, failed')
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

/** The image files a job writes (defaultFileName): nothing else is served from its folder. */
const imageFile = /^\d{5,}\.(png|jpg|webp)$/;

export interface BatchRouteOptions {
  readonly store: BatchStore;
  /** The studio's uploads, which a batch may be made from. */
  readonly uploads: UploadStore;
  readonly images: ImageService;
  readonly logger: Logger;
  readonly uploadMaxBytes: number;
  /** Hands a stored job to the runner; the routes never run one themselves. */
  enqueue(id: string): void;
  /** Stops a job if it runs and deletes it: the runner owns the running job. */
  delete(id: string): Promise<void>;
}

export function mountBatchRoutes(router: Router, options: BatchRouteOptions): void {
  const { store } = options;
  const upload = express.json({ limit: options.uploadMaxBytes });
  // Raw bytes, not express.text: the CSV reader decides between UTF-8 and Windows-1252 itself.
  const csv = express.raw({ type: ['text/csv', 'text/plain'], limit: options.uploadMaxBytes });
  router.post('/batches', upload, csv, async (req, res) => {
    const job = await createJob(options, principalOf(res), req.headers['content-type'] ?? '', req.body as unknown, req.query);
    res.status(202).setHeader('Location', `/api/batches/${job.id}`).json(await jobStatus(store, job));
  });
  router.get('/batches', async (_req, res) => {
    const principal = principalOf(res);
    const all = hasScope(principal, 'campaigns');
    const jobs = (await store.list()).filter((job) => all || job.createdBy === principal.name);
    res.json({ batches: await Promise.all(jobs.map((job) => jobStatus(store, job))) });
  });
  router.get('/batches/:id', async (req, res) => {
    res.json(await jobStatus(store, await ownJob(store, res, req.params.id)));
  });
  router.get('/batches/:id/download', async (req, res) => {
    try {
      const job = finished(await ownJob(store, res, req.params.id));
      const outcomes = await store.outcomes(job.id);
      res.status(200).setHeader('Content-Type', 'application/zip').setHeader('Cache-Control', 'no-store').setHeader('Content-Disposition', `attachment; filename="${job.template}-${job.id.slice(0, 8)}.zip"`);
      await writeOutputsZip(res, outcomes.values(), (file) => store.imagePath(job.id, file));
    } catch (error) {
      if (res.headersSent) res.destroy(error as Error);
      else sendError(res, error);
    }
  });
  router.get('/batches/:id/manifest.csv', async (req, res) => {
    const job = finished(await ownJob(store, res, req.params.id));
    const text = manifestCsv((await store.outcomes(job.id)).values());
    res.status(200).setHeader('Cache-Control', 'no-store').setHeader('Content-Disposition', `attachment; filename="${job.template}-${job.id.slice(0, 8)}-manifest.csv"`);
    res.type('text/csv; charset=utf-8').send(text);
  });
  router.get('/batches/:id/rows', async (req, res) => {
    const query = parse(rowsQuery, req.query, 'query');
    const job = await ownJob(store, res, req.params.id);
    const statuses = new Set(query.status?.split(',') ?? ['ok', 'warning', 'failed']);
    const matching: OutcomeLine[] = [...(await store.outcomes(job.id)).values()].filter((line) => statuses.has(line.status)).sort((a, b) => a.row - b.row);
    const page = matching.slice(query.offset, query.offset + query.limit);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ total: matching.length, offset: query.offset, limit: query.limit, rows: page.map((line) => ({ ...line, image: line.file ? `/api/batches/${job.id}/images/${line.file}` : null })) });
  });
  router.get('/batches/:id/images/:file', async (req, res) => {
    const job = await ownJob(store, res, req.params.id);
    if (!imageFile.test(req.params.file)) throw new MergeshotError('NOT_FOUND', 'no such image in this batch');
    res.setHeader('Cache-Control', 'no-store');
    // With `root`, send checks for dot-folders only below it: the data folder itself is often .mergeshot-cache.
    res.sendFile(req.params.file, { root: dirname(store.imagePath(job.id, req.params.file)) }, (error) => {
      if (error && !res.headersSent) sendError(res, new MergeshotError('NOT_FOUND', 'no such image in this batch'));
    });
  });
  router.delete('/batches/:id', async (req, res) => {
    const job = await ownJob(store, res, req.params.id);
    await options.delete(job.id);
    res.status(204).end();
  });
}

/** A job by an id from a request, if the caller made it or has `campaigns`; else 403 SCOPE_MISSING. */
async function ownJob(store: BatchStore, res: Response, id: string): Promise<JobState> {
  const job = await store.find(id);
  requireOwnerOrScope(principalOf(res), job.createdBy, `batch ${job.id}`);
  return job;
}

/** A job whose outputs are complete: the zip and manifest.csv exist only then. */
function finished(job: JobState): JobState {
  if (job.status !== 'done') throw new MergeshotError('BATCH_NOT_READY', `batch ${job.id} is ${job.status}`);
  return job;
}

async function createJob(options: BatchRouteOptions, principal: Principal, contentType: string, body: unknown, query: unknown): Promise<JobState> {
  const { images } = options;
  // Which of the three forms: a CSV body (query parameters), a studio upload's id, or JSON rows.
  const spec = isCsvContentType(contentType)
    ? { form: 'csv' as const, ...parse(csvQuery, query, 'query') }
    : typeof body === 'object' && body !== null && Object.hasOwn(body, 'upload')
      ? { form: 'upload' as const, ...parse(uploadBatch, body, 'body') }
      : { form: 'rows' as const, ...parse(jsonBatch, body, 'body') };
  // Checked now, so a bad template, preset or size fails the request, not every row later.
  const template = await images.template(spec.template);
  const target = images.target(template, { preset: spec.preset, size: spec.size });
  const fields = template.manifest.fields;
  const formats = spec.form === 'rows' ? {} : checkFormats(fields, spec.formats, template.manifest.locale, spec.form === 'csv' ? 'query' : 'body');
  let read: { readonly rows: BatchRow[]; readonly notes: readonly string[] };
  let uploadId: string | undefined;
  if (spec.form === 'rows') {
    read = { rows: spec.rows.map((values, index) => ({ row: index + 1, values })), notes: [] };
  } else if (spec.form === 'upload') {
    requireScope(principal, 'campaigns', 'a batch from a studio upload');
    const info = await options.uploads.find(spec.upload);
    checkMapping(fields, info.columns, spec.map);
    uploadId = info.id;
    read = await readCsvRows(options.uploads.dataPath(info.id), undefined, template, spec.map, formats);
  } else {
    read = await readCsvRows('-', Readable.from([csvBodyBytes(contentType, body)]), template, spec.map, formats);
  }
  const { rows, notes } = read;
  if (rows.length === 0) throw new UsageError('DATA_UNREADABLE', 'the CSV has a header but no rows', { field: 'body' });
  const job: JobState = {
    id: randomUUID(),
    template: template.id,
    preset: target.preset,
    size: target.size.name,
    total: rows.length,
    createdAt: new Date().toISOString(),
    ...(notes.length > 0 ? { notes } : {}),
    ...(uploadId !== undefined ? { upload: uploadId } : {}),
    createdBy: principal.name,
    status: 'queued',
  };
  await options.store.create(job, rows);
  options.logger.info({ batchId: job.id, template: job.template, rows: job.total, createdBy: principal.name, ...(uploadId !== undefined ? { uploadId } : {}) }, 'batch queued');
  options.enqueue(job.id);
  return job;
}

/**
 * A CSV's rows read as `mergeshot render --map --date-format` reads them (readFieldRows): a hand
 * mapping naming a column the file lacks is USAGE, an ambiguous date or number column is
 * FORMAT_AMBIGUOUS, unreadable rows keep their number and reason, readable ones their reader
 * warnings. The notes say which formats were inferred, as the CLI does.
 */
async function readCsvRows(source: string, stdin: NodeJS.ReadableStream | undefined, template: LoadedTemplate, map: ColumnOverrides, formats: Readonly<Record<string, string>>): Promise<{ rows: BatchRow[]; notes: string[] }> {
  const rows: BatchRow[] = [];
  const notes: string[] = [];
  const fields = template.manifest.fields;
  const reading = readFieldRows(source, fields, {
    ...(stdin ? { stdin } : {}),
    format: 'csv',
    map,
    formats,
    ...(template.manifest.locale ? { locale: template.manifest.locale } : {}),
    onNote: (message) => notes.push(message),
    onFormats: (found, inferred, columns) => {
      for (const field of inferred) notes.push(`${inferredFormatNote(field, found[field], columns)}; "formats": {"${field}": "…"} says otherwise`);
    },
  });
  for await (const row of reading) rows.push(row);
  return { rows, notes };
}

/** The progress body of GET /api/batches/<id>: the job, counts by outcome, and the download link once done. */
async function jobStatus(store: BatchStore, job: JobState) {
  const counts = { ok: 0, warning: 0, failed: 0 };
  for (const outcome of (await store.outcomes(job.id)).values()) counts[outcome.status] += 1;
  const done = counts.ok + counts.warning + counts.failed;
  return { ...job, done, ...counts, download: job.status === 'done' ? `/api/batches/${job.id}/download` : null };
}
