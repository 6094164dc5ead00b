import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { ZipArchive } from 'archiver';
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { readRecords, type ReadNote } from '../data/index.js';
import { MergeshotError, UsageError } from '../errors/index.js';
import { defaultFileName, manifestCsv, manifestEntry, renderBatch, writeFileAtomic, type BatchRow, type ManifestEntry, type Pipeline } from '../pipeline/index.js';
import { templateIdPattern } from '../template/index.js';
import { sendError } from './httpErrors.js';
import type { ImageService } from './images.js';
import type { ServerMetrics } from './metrics.js';
import { parse, recordSchema } from './routes/api.js';

/**
 * Batch jobs: POST /api/batches (JSON rows, or a CSV body) → 202 with an id; GET
 * /api/batches/<id> → progress; GET /api/batches/<id>/download → zip of the images and
 * manifest.csv.
 *
 * State lives on disk, one folder per job, so jobs survive a restart and resume where they
 * stopped: `job.json` (written atomically), `rows.ndjson` (the input, mapped once at upload),
 * `outcomes.ndjson` (one line appended per finished row; rows listed there are skipped on
 * resume), `images/<row>.<ext>`. One job runs at a time, with the page count as concurrency,
 * so batches never crowd out the image routes' renders.
 *
 * Rows keep their input numbers, as in `mergeshot render`: a CSV row is its data line (blank
 * lines count), a JSON row its position in `rows`. A CSV row the reader cannot parse stays in
 * the job with its reason and ends `failed`; it is never dropped or rendered as an empty record.
 */

type JobStatus = 'queued' | 'running' | 'done';

interface JobState {
  readonly id: string;
  readonly template: string;
  readonly preset: string | undefined;
  readonly size: string | undefined;
  readonly total: number;
  readonly createdAt: string;
  /** Said once about the whole upload, e.g. that a CSV was read as Windows-1252. */
  readonly notes?: readonly string[];
  status: JobStatus;
  finishedAt?: string;
}

/** A finished row, as manifest.csv will show it (the kit's one schema). */
type OutcomeLine = ManifestEntry;

const idPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

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

export interface BatchRunnerOptions {
  readonly dir: string;
  readonly pipeline: Pipeline;
  readonly images: ImageService;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  readonly uploadMaxBytes: number;
}

export class BatchRunner {
  readonly #options: BatchRunnerOptions;
  readonly #queue: string[] = [];
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;

  private constructor(options: BatchRunnerOptions) {
    this.#options = options;
  }

  /** Opens the folder and queues every job a previous run left unfinished. */
  static async open(options: BatchRunnerOptions): Promise<BatchRunner> {
    const runner = new BatchRunner(options);
    await mkdir(options.dir, { recursive: true });
    const unfinished: JobState[] = [];
    for (const id of await readdir(options.dir)) {
      if (!idPattern.test(id)) continue;
      const job = await runner.#read(id).catch(() => undefined);
      if (job && job.status !== 'done') unfinished.push(job);
    }
    unfinished.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const job of unfinished) {
      options.logger.info({ batchId: job.id, template: job.template }, 'resuming batch');
      runner.#enqueue(job.id);
    }
    return runner;
  }

  mount(router: Router): void {
    const upload = express.json({ limit: this.#options.uploadMaxBytes });
    // Raw bytes, not express.text: the CSV reader decides between UTF-8 and Windows-1252 itself.
    const csv = express.raw({ type: ['text/csv', 'text/plain'], limit: this.#options.uploadMaxBytes });
    router.post('/batches', upload, csv, async (req, res, next) => {
      try {
        const job = await this.#create(req.headers['content-type'] ?? '', req.body as unknown, req.query);
        res.status(202).setHeader('Location', `/api/batches/${job.id}`).json(await this.#status(job));
      } catch (error) {
        // The app's error handler answers and logs an unexpected error with its cause.
        next(error);
      }
    });
    router.get('/batches/:id', async (req, res, next) => {
      try {
        res.setHeader('Cache-Control', 'no-store');
        res.json(await this.#status(await this.#find(req.params.id)));
      } catch (error) {
        next(error);
      }
    });
    router.get('/batches/:id/download', async (req, res) => {
      try {
        const job = await this.#find(req.params.id);
        if (job.status !== 'done') throw new MergeshotError('BATCH_NOT_READY', `batch ${job.id} is ${job.status}`);
        const outcomes = await this.#outcomes(job.id);
        res.status(200).setHeader('Content-Type', 'application/zip').setHeader('Content-Disposition', `attachment; filename="${job.template}-${job.id.slice(0, 8)}.zip"`);
        const archive = new ZipArchive({ zlib: { level: 1 } }); // images are already compressed
        const sent = streamPipeline(archive, res);
        for (const outcome of [...outcomes.values()].sort((a, b) => a.row - b.row)) {
          if (outcome.file) archive.file(join(this.#dir(job.id), 'images', outcome.file), { name: outcome.file });
        }
        archive.append(manifestCsv(outcomes.values()), { name: 'manifest.csv' });
        await archive.finalize();
        await sent;
      } catch (error) {
        if (res.headersSent) res.destroy(error as Error);
        else sendError(res, error);
      }
    });
  }

  /** Stops taking rows; rows in flight finish and are recorded; the job resumes at the next start. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #create(contentType: string, body: unknown, query: unknown): Promise<JobState> {
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
    const { images } = this.#options;
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
    const dir = this.#dir(job.id);
    await mkdir(join(dir, 'images'), { recursive: true });
    await writeFile(join(dir, 'rows.ndjson'), rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
    await writeFile(join(dir, 'outcomes.ndjson'), '');
    await this.#write(job);
    this.#options.logger.info({ batchId: job.id, template: job.template, rows: job.total }, 'batch queued');
    this.#enqueue(job.id);
    return job;
  }

  #enqueue(id: string): void {
    this.#queue.push(id);
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  async #drain(): Promise<void> {
    for (let id = this.#queue.shift(); id !== undefined && !this.#stop.signal.aborted; id = this.#queue.shift()) {
      try {
        await this.#run(id);
      } catch (error) {
        this.#options.logger.error({ err: error, batchId: id }, 'batch stopped by an unexpected error; it resumes at the next start');
      }
    }
  }

  async #run(id: string): Promise<void> {
    const { pipeline, metrics, logger } = this.#options;
    const job = await this.#read(id);
    const done = await this.#outcomes(id);
    job.status = 'running';
    await this.#write(job);
    const dir = this.#dir(id);
    const log = logger.child({ batchId: id, template: job.template });
    async function* rows(): AsyncGenerator<BatchRow> {
      const text = await readFile(join(dir, 'rows.ndjson'), 'utf8');
      for (const line of text.split('\n')) if (line) yield JSON.parse(line) as BatchRow;
    }
    for await (const outcome of renderBatch(pipeline, rows(), { template: join(pipeline.registry.templatesDir, job.template), preset: job.preset, size: job.size, concurrency: pipeline.config.render.pages, signal: this.#stop.signal, skip: (row) => done.has(row.row) })) {
      let file = '';
      if (outcome.result) {
        file = defaultFileName(outcome.row, outcome.result.format);
        await writeFileAtomic(join(dir, 'images', file), outcome.result.bytes);
      }
      metrics.renders.inc({ template: job.template, outcome: outcome.status });
      if (outcome.error) log.warn({ row: outcome.row, code: outcome.error.code }, 'batch row failed');
      const line: OutcomeLine = manifestEntry(outcome, file);
      await appendFile(join(dir, 'outcomes.ndjson'), `${JSON.stringify(line)}\n`);
    }
    if (this.#stop.signal.aborted) return; // left 'running': resumed at the next start
    job.status = 'done';
    job.finishedAt = new Date().toISOString();
    await this.#write(job);
    log.info('batch done');
  }

  async #status(job: JobState) {
    const counts = { ok: 0, warning: 0, failed: 0 };
    for (const outcome of (await this.#outcomes(job.id)).values()) counts[outcome.status] += 1;
    const done = counts.ok + counts.warning + counts.failed;
    return { ...job, done, ...counts, download: job.status === 'done' ? `/api/batches/${job.id}/download` : null };
  }

  async #find(id: string): Promise<JobState> {
    if (!idPattern.test(id)) throw new MergeshotError('BATCH_NOT_FOUND', 'no such batch');
    return this.#read(id).catch(() => {
      throw new MergeshotError('BATCH_NOT_FOUND', 'no such batch');
    });
  }

  #dir(id: string): string {
    return join(this.#options.dir, id);
  }

  async #read(id: string): Promise<JobState> {
    return JSON.parse(await readFile(join(this.#dir(id), 'job.json'), 'utf8')) as JobState;
  }

  async #write(job: JobState): Promise<void> {
    await writeFileAtomic(join(this.#dir(job.id), 'job.json'), JSON.stringify(job, null, 2));
  }

  /** Finished rows by row number; a line cut by a crash is ignored (that row renders again). */
  async #outcomes(id: string): Promise<Map<number, OutcomeLine>> {
    const outcomes = new Map<number, OutcomeLine>();
    const text = await readFile(join(this.#dir(id), 'outcomes.ndjson'), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      try {
        if (line) {
          const outcome = JSON.parse(line) as OutcomeLine;
          outcomes.set(outcome.row, outcome);
        }
      } catch {
        // the last line of a crashed run
      }
    }
    return outcomes;
  }
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
