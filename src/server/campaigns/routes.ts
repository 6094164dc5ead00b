import { join } from 'node:path';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { MergeshotError } from '../../errors/index.js';
import type { Pipeline } from '../../pipeline/index.js';
import { runPreflight, type PreflightSummary } from '../../preflight/index.js';
import { templateIdPattern } from '../../template/index.js';
import { sendError } from '../httpErrors.js';
import type { ImageService } from '../images.js';
import { parse } from '../routes/requestSchemas.js';
import { checkFormats, columnMapping, formatsSchema, mapSchema } from './mapping.js';
import type { UploadInfo, UploadStore } from './uploadStore.js';

/**
 * The studio's campaign routes, under /api like every other client's:
 *   POST   /uploads?template=<id>            a CSV body → stored, described, auto-mapped
 *   GET    /uploads[?template=<id>]          the uploads kept, newest first (ids, counts, dates)
 *   GET    /uploads/<id>[?template=<id>]     the same description again
 *   DELETE /uploads/<id>                     the file, its preflight report and its batches
 *   POST   /uploads/<id>/preflight           {template, preset?, size?, map?, formats?} → the checklist
 *                                            (422 FORMAT_AMBIGUOUS with the question when a date or number column reads two ways)
 *   GET    /uploads/<id>/preflight/report.html (and summary.json, images/…): the full report
 * Answers describe the file (columns, counts, row numbers, reasons) and never print a value;
 * logs carry ids and counts only.
 */

export interface CampaignRouteOptions {
  readonly uploads: UploadStore;
  readonly pipeline: Pipeline;
  readonly images: ImageService;
  readonly logger: Logger;
  readonly uploadMaxBytes: number;
  /** Aborted when the server closes: a preflight in flight stops with it. */
  readonly signal: AbortSignal;
  /** Removes the batches made from an upload, stopping a running one, before the upload itself goes. */
  deleteBatchesOf(uploadId: string): Promise<void>;
}

const templateId = z.string().regex(templateIdPattern, 'must be a template id (folder name)');

const uploadQuery = z.object({ template: templateId });
const viewQuery = z.object({ template: templateId.optional() });

const preflightBody = z.strictObject({
  template: templateId,
  preset: z.string().max(64).optional(),
  size: z.string().max(64).optional(),
  map: mapSchema.default({}),
  formats: formatsSchema.default({}),
});

/** Rows with findings listed in a preflight answer; the counts are always complete, report.html has the rest. */
const listedFindingRows = 200;

const reportFiles = new Set(['report.html', 'summary.json']);
const reportImage = /^[\w-]{1,80}\.(png|jpg|jpeg|webp)$/;

/** What the owner of the routes closes: preflights in flight stop with its signal; this waits for them to end. */
export interface CampaignRoutes {
  /** What DELETE /api/uploads/<id> does, for the expiry of old uploads. */
  deleteUpload(id: string): Promise<void>;
  settled(): Promise<void>;
}

export function mountCampaignRoutes(router: Router, options: CampaignRouteOptions): CampaignRoutes {
  const { uploads, images } = options;
  const json = express.json({ limit: 64 * 1024 });
  /** Preflights in flight, by upload: one at a time per upload (they write one report folder), and a delete stops it first. */
  const preflights = new Map<string, { readonly abort: AbortController; readonly done: Promise<unknown> }>();

  /**
   * Clients (an API key or a studio session: res.locals.rateKey, set by the API's auth middleware) reading an
   * upload right now: one at a time each, taken before the body is read and freed when the
   * answer is done, so one session cannot hold every core with parallel uploads.
   */
  const reading = new Set<string>();
  const oneReadPerClient: RequestHandler = (_req, res, next) => {
    const client = String(res.locals.rateKey ?? 'anonymous');
    if (reading.has(client)) {
      sendError(res, new MergeshotError('UPLOAD_PARSING', 'an upload from this session is still being read: one upload at a time per session or API key. Wait for it to finish, then send the next.'));
      return;
    }
    reading.add(client);
    res.once('close', () => reading.delete(client));
    next();
  };

  // Any content type: browsers label .csv files text/csv, application/vnd.ms-excel or nothing at all.
  // The body goes to disk as it arrives (uploadStore.ts), not through a body parser into memory.
  router.post('/uploads', oneReadPerClient, async (req, res) => {
    // A client that gives up stops the read: nobody will read the answer.
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    let info: UploadInfo;
    let query: z.infer<typeof uploadQuery>;
    try {
      query = parse(uploadQuery, req.query, 'query');
      const template = await images.template(query.template);
      const declared = Number(req.headers['content-length']);
      const body = { stream: req, contentType: req.headers['content-type'] ?? '', length: Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined, maxBytes: options.uploadMaxBytes };
      info = await uploads.create(template, body, AbortSignal.any([gone.signal, options.signal]));
    } catch (error) {
      // The rest of a refused body is read and dropped, so the client gets the answer, not a reset.
      req.resume();
      throw error;
    }
    // Counts only: the format question's sample values are personal data.
    options.logger.info({ uploadId: info.id, template: info.template, rows: info.rows, unreadable: info.unreadableCount, warned: info.warnedCount, formatQuestions: info.formatQuestions?.length, bytes: info.bytes }, 'upload stored');
    res.status(201).setHeader('Location', `/api/uploads/${info.id}`).setHeader('Cache-Control', 'no-store').json(await uploadView(info, query.template));
  });

  router.get('/uploads', async (req, res) => {
    const query = parse(viewQuery, req.query, 'query');
    const all = await uploads.list();
    const listed = all.filter((info) => query.template === undefined || info.template === query.template);
    res.setHeader('Cache-Control', 'no-store').json({ uploads: listed.map(({ id, template, createdAt, bytes, rows, unreadableCount }) => ({ id, template, createdAt, bytes, rows, unreadableCount })) });
  });

  router.get('/uploads/:id', async (req, res) => {
    const query = parse(viewQuery, req.query, 'query');
    const info = await uploads.find(req.params.id);
    res.setHeader('Cache-Control', 'no-store').json(await uploadView(info, query.template ?? info.template));
  });

  /** The upload, its preflight (stopped first), its report and its batches. */
  async function deleteUpload(id: string): Promise<void> {
    const running = preflights.get(id);
    running?.abort.abort();
    await running?.done;
    await options.deleteBatchesOf(id);
    await uploads.delete(id);
  }

  router.delete('/uploads/:id', async (req, res) => {
    const info = await uploads.find(req.params.id);
    await deleteUpload(info.id);
    options.logger.info({ uploadId: info.id }, 'upload deleted');
    res.status(204).end();
  });

  router.post('/uploads/:id/preflight', json, async (req, res) => {
    const body = parse(preflightBody, req.body ?? {}, 'body');
    const info = await uploads.find(req.params.id);
    if (preflights.has(info.id)) throw new MergeshotError('UPLOAD_BUSY', 'a preflight of this upload is already running');
    const template = await images.template(body.template);
    // Checked here so a wrong mapping is a 400 naming the field, before any row is read.
    columnMapping(template.manifest.fields, info.columns, body.map);
    const formats = checkFormats(template.manifest.fields, body.formats, template.manifest.locale);
    const abort = new AbortController();
    // A client that gives up (closed the tab) stops the work: nobody will read its answer.
    res.once('close', () => abort.abort());
    const run = runPreflight(options.pipeline, template.dir, {
      data: uploads.dataPath(info.id),
      preset: body.preset,
      size: body.size,
      map: body.map,
      formats,
      out: uploads.preflightDir(info.id),
      signal: AbortSignal.any([abort.signal, options.signal]),
    });
    preflights.set(info.id, { abort, done: run.catch(() => undefined) });
    try {
      const summary = await run;
      options.logger.info({ uploadId: info.id, template: template.id, rows: summary.rows, failed: summary.failed, warned: summary.warned }, 'preflight done');
      res.setHeader('Cache-Control', 'no-store').json(preflightView(info.id, summary));
    } finally {
      preflights.delete(info.id);
    }
  });

  const sendReportFile = async (req: Request, res: Response, folder: string, file: string) => {
    try {
      const info = await uploads.find(String(req.params.id));
      res.setHeader('Cache-Control', 'no-store');
      res.sendFile(file, { root: join(uploads.preflightDir(info.id), folder), dotfiles: 'deny' }, (error) => {
        if (error && !res.headersSent) sendError(res, new MergeshotError('NOT_FOUND', 'this upload has no preflight report yet: run the preflight first'));
      });
    } catch (error) {
      sendError(res, error);
    }
  };
  router.get('/uploads/:id/preflight/:file', async (req, res, next) => {
    if (!reportFiles.has(req.params.file)) next();
    else await sendReportFile(req, res, '.', req.params.file);
  });
  router.get('/uploads/:id/preflight/images/:file', async (req, res, next) => {
    if (!reportImage.test(req.params.file)) next();
    else await sendReportFile(req, res, 'images', req.params.file);
  });

  /** An upload as the studio shows it: what the file holds and how its columns map to the template's fields. */
  async function uploadView(info: UploadInfo, templateRef: string) {
    const template = await images.template(templateRef);
    const { mapping, unusedColumns } = columnMapping(template.manifest.fields, info.columns);
    return { ...info, template: template.id, fields: Object.keys(template.manifest.fields), mapping, unusedColumns };
  }

  return {
    deleteUpload,
    async settled() {
      await Promise.all([...preflights.values()].map((preflight) => preflight.done));
    },
  };
}

/**
 * The preflight answer: the summary's counts, the rows with findings (the first ones of each
 * kind, as summary.json lists them, capped) and where the full report is.
 */
function preflightView(uploadId: string, summary: PreflightSummary) {
  const byRow = new Map<number, string[]>();
  for (const kind of summary.kinds) for (const row of kind.firstRows) byRow.set(row, [...(byRow.get(row) ?? []), kind.code]);
  const rows = [...byRow.entries()].sort(([a], [b]) => a - b);
  return {
    template: summary.template,
    preset: summary.preset,
    size: summary.size,
    rows: summary.rows,
    failed: summary.failed,
    warned: summary.warned,
    clean: summary.clean,
    counts: Object.fromEntries(summary.kinds.map((kind) => [kind.code, kind.rows])),
    findings: rows.slice(0, listedFindingRows).map(([row, codes]) => ({ row, codes })),
    findingsListed: Math.min(rows.length, listedFindingRows),
    mapping: Object.fromEntries(summary.mapping.map(({ field, column }) => [field, column ?? null])),
    unusedColumns: summary.unusedColumns,
    emptyColumns: summary.emptyColumns,
    duplicateRows: summary.duplicateRows.count,
    duplicateRecipients: summary.duplicateRecipients.count,
    notes: summary.notes,
    interrupted: summary.interrupted,
    report: `/api/uploads/${uploadId}/preflight/report.html`,
  };
}
