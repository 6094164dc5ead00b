import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { ZipArchive } from 'archiver';
import { stringify } from 'csv-stringify/sync';
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { readRecords } from '../data/index.js';
import { MergeshotError, UsageError } from '../errors/index.js';
import { renderBatch, type BatchRow, type Pipeline } from '../pipeline/index.js';
import { templateIdPattern } from '../template/index.js';
import { sendError } from './httpErrors.js';
import type { ImageService } from './images.js';
import type { ServerMetrics } from './metrics.js';
import { parse } from './routes/api.js';

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
 */

type JobStatus = 'queued' | 'running' | 'done';

interface JobState {
  readonly id: string;
  readonly template: string;
  readonly preset: string | undefined;
  readonly size: string | undefined;
  readonly total: number;
  readonly createdAt: string;
  status: JobStatus;
  finishedAt?: string;
}

interface OutcomeLine {
  readonly row: number;
  readonly status: 'ok' | 'warning' | 'failed';
  readonly file: string;
  readonly bytes: number;
  readonly warnings: string;
  readonly error: string;
  readonly alt: string;
}

const idPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const jsonBatch = z.strictObject({
  template: z.string().regex(templateIdPattern, 'must be a template id (folder name)'),
  preset: z.string().max(64).optional(),
  size: z.string().max(64).optional(),
  rows: z.array(z.record(z.string(), z.unknown())).min(1).max(1_000_000),
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
    const csv = express.text({ type: ['text/csv', 'text/plain'], limit: this.#options.uploadMaxBytes });
    router.post('/batches', upload, csv, async (req, res) => {
      try {
        const job = await this.#create(req.headers['content-type'] ?? '', req.body as unknown, req.query);
        res.status(202).setHeader('Location', `/api/batches/${job.id}`).json(await this.#status(job));
      } catch (error) {
        sendError(res, error);
      }
    });
    router.get('/batches/:id', async (req, res) => {
      try {
        res.setHeader('Cache-Control', 'no-store');
        res.json(await this.#status(await this.#find(req.params.id)));
      } catch (error) {
        sendError(res, error);
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
        archive.append(manifestCsv(outcomes), { name: 'manifest.csv' });
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
    let rows: Record<string, unknown>[];
    if (/^(text\/csv|text\/plain)/i.test(contentType)) {
      spec = parse(csvQuery, query, 'query');
      if (typeof body !== 'string' || body.trim() === '') throw new UsageError('DATA_UNREADABLE', 'the CSV body is empty', { field: 'body' });
      rows = [];
      for await (const row of readRecords('-', { stdin: Readable.from([body]), format: 'csv' })) rows.push(row.error ? {} : { ...row.values });
      if (rows.length === 0) throw new UsageError('DATA_UNREADABLE', 'the CSV has a header but no rows', { field: 'body' });
    } else {
      const parsed = parse(jsonBatch, body, 'body');
      spec = parsed;
      rows = parsed.rows;
    }
    // Checked now, so a bad template, preset or size fails the request, not every row later.
    const { images } = this.#options;
    const template = await images.template(spec.template);
    const target = images.target(template, { preset: spec.preset, size: spec.size });
    const job: JobState = { id: randomUUID(), template: template.id, preset: target.preset, size: target.size.name, total: rows.length, createdAt: new Date().toISOString(), status: 'queued' };
    const dir = this.#dir(job.id);
    await mkdir(join(dir, 'images'), { recursive: true });
    await writeFile(join(dir, 'rows.ndjson'), rows.map((values, index) => JSON.stringify({ row: index + 1, values })).join('\n') + '\n');
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
        file = `${String(outcome.row).padStart(5, '0')}.${outcome.result.format === 'jpeg' ? 'jpg' : outcome.result.format}`;
        await writeFile(join(dir, 'images', `${file}.tmp`), outcome.result.bytes);
        await rename(join(dir, 'images', `${file}.tmp`), join(dir, 'images', file));
      }
      metrics.renders.inc({ template: job.template, outcome: outcome.status });
      if (outcome.error) log.warn({ row: outcome.row, code: outcome.error.code }, 'batch row failed');
      const line: OutcomeLine = { row: outcome.row, status: outcome.status, file, bytes: outcome.result?.bytes.length ?? 0, warnings: outcome.warnings.map((w) => `${w.code}:${w.field ?? ''}`).join(';'), error: outcome.error?.message ?? '', alt: outcome.result?.alt ?? '' };
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
    const path = join(this.#dir(job.id), 'job.json');
    await writeFile(`${path}.tmp`, JSON.stringify(job, null, 2));
    await rename(`${path}.tmp`, path);
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

function manifestCsv(outcomes: Map<number, OutcomeLine>): string {
  const rows = [...outcomes.values()].sort((a, b) => a.row - b.row);
  return stringify(rows, { header: true, columns: ['row', 'file', 'bytes', 'status', 'warnings', 'error', 'alt'] });
}
