import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Router } from 'express';
import type { Logger } from 'pino';
import { collectRow, type BatchSubmission, type RowResult } from '../../distributed/index.js';
import { defaultFileName, manifestEntry, renderBatch, targetOf, type Pipeline } from '../../pipeline/index.js';
import type { ImageService } from '../images.js';
import type { MergeshotConfig } from '../../config/index.js';
import { Expiry, mountCampaignRoutes, UploadStore, type CampaignRoutes } from '../campaigns/index.js';
import type { ServerMetrics } from '../metrics.js';
import { mountBatchRoutes } from './routes.js';
import { BatchStore, type JobState, type OutcomeLine } from './store.js';

/**
 * Runs stored jobs through the pipeline. One job runs at a time, with the page count as
 * concurrency, so batches never crowd out the image routes' renders. Owns the queue and the stop
 * signal; `close()` lets rows in flight finish and leaves the job to resume at the next start.
 * It also owns the studio's uploads (server/campaigns/): batches are made from them, and
 * deleting one stops and deletes its batches, so the two are mounted and closed together.
 *
 * In distributed mode (`distributed`), a job's rows go to the workers as chunk jobs instead of
 * this node's pages; the runner follows the row results and copies each image from the shared
 * store into the job's folder, so status, download and resume work exactly as for a local job.
 */

export interface BatchRunnerOptions {
  readonly dir: string;
  /** The studio's data folder: uploads and the batches made from them (personal data) go only here. */
  readonly dataDir: string;
  readonly pipeline: Pipeline;
  readonly images: ImageService;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  readonly uploadMaxBytes: number;
  /** How long an API batch (rows, images, manifest: personal data) stays after it finished. */
  readonly batchTtlMs: number;
  /** The studio's limits on uploads: rows, the data folder's quota, how long uploads stay. */
  readonly studio: Pick<MergeshotConfig['studio'], 'uploadMaxRows' | 'dataMaxBytes' | 'uploadTtlMs' | 'sweepIntervalMs'>;
  /** Set: batches are rendered by `mergeshot worker`s (docs/scale.md), not by this node. */
  readonly distributed?: BatchSubmission | undefined;
}

/**
 * When an API batch's time under `server.batchTtlMs` starts: when it finished (a long batch is
 * not deleted as soon as it is done). None for a batch still queued or running, which is never
 * deleted, nor for one made from a studio upload, which goes with its upload (studio.uploadTtlMs).
 */
export function batchExpiryStart(job: JobState): string | undefined {
  if (job.upload !== undefined || job.status !== 'done') return undefined;
  return job.finishedAt ?? job.createdAt;
}

/** How often a distributed job's results are read back, at most and at least. */
const followMs = { min: 100, max: 1_000 };
/** Pending rows read per round (HMGET), at most. */
const followWindow = 500;

export class BatchRunner {
  readonly #options: BatchRunnerOptions;
  readonly #store: BatchStore;
  readonly #uploads: UploadStore;
  readonly #queue: string[] = [];
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  #campaigns: CampaignRoutes | undefined;
  #expiry: Expiry | undefined;
  /** The job being run, so that deleting it can stop it and wait for its rows in flight. */
  #current: { readonly id: string; readonly abort: AbortController; readonly done: Promise<void> } | undefined;

  private constructor(options: BatchRunnerOptions, store: BatchStore, uploads: UploadStore) {
    this.#options = options;
    this.#store = store;
    this.#uploads = uploads;
  }

  /** Opens the folders and queues every job a previous run left unfinished. */
  static async open(options: BatchRunnerOptions): Promise<BatchRunner> {
    const store = await BatchStore.open(options.dir, join(options.dataDir, 'campaigns'));
    const { studio } = options;
    const uploads = await UploadStore.open(join(options.dataDir, 'uploads'), { maxRows: studio.uploadMaxRows, quota: { dir: options.dataDir, maxBytes: studio.dataMaxBytes } });
    const runner = new BatchRunner(options, store, uploads);
    for (const job of await store.unfinished()) {
      options.logger.info({ batchId: job.id, template: job.template }, 'resuming batch');
      runner.#enqueue(job.id);
    }
    runner.#expiry = new Expiry({
      intervalMs: studio.sweepIntervalMs,
      logger: options.logger,
      sources: [
        {
          ttlMs: studio.uploadTtlMs,
          idField: 'uploadId',
          message: 'upload expired: deleted with its reports and batches (studio.uploadTtlMs)',
          list: async () => (await uploads.list()).map((upload) => ({ id: upload.id, since: upload.createdAt })),
          // Before the routes are mounted no preflight can run: the batches and the files are all there is.
          remove: (id) => (runner.#campaigns ? runner.#campaigns.deleteUpload(id) : runner.#deleteOfUpload(id).then(() => uploads.delete(id))),
        },
        {
          ttlMs: options.batchTtlMs,
          idField: 'batchId',
          message: 'batch expired: deleted with its rows and images (server.batchTtlMs)',
          list: async () => (await store.list()).flatMap((job) => {
            const since = batchExpiryStart(job);
            return since === undefined ? [] : [{ id: job.id, since }];
          }),
          // As DELETE /api/batches/<id>: in distributed mode its Redis state goes too.
          remove: (id) => runner.#delete(id),
        },
      ],
    });
    runner.#expiry.start();
    return runner;
  }

  mount(router: Router): void {
    const { pipeline, images, logger, uploadMaxBytes } = this.#options;
    const uploads = this.#uploads;
    this.#campaigns = mountCampaignRoutes(router, { uploads, pipeline, images, logger, uploadMaxBytes, signal: this.#stop.signal, deleteBatchesOf: (upload) => this.#deleteOfUpload(upload) });
    mountBatchRoutes(router, { store: this.#store, uploads, images, logger, uploadMaxBytes, enqueue: (id) => this.#enqueue(id), delete: (id) => this.#delete(id) });
  }

  /** Stops taking rows; rows in flight finish and are recorded; the job resumes at the next start. */
  async close(): Promise<void> {
    await this.#expiry?.close();
    this.#stop.abort();
    await this.#running;
    await this.#campaigns?.settled();
  }

  #enqueue(id: string): void {
    this.#queue.push(id);
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  async #drain(): Promise<void> {
    for (let id = this.#queue.shift(); id !== undefined && !this.#stop.signal.aborted; id = this.#queue.shift()) {
      const abort = new AbortController();
      const run = this.#run(id, AbortSignal.any([this.#stop.signal, abort.signal]));
      this.#current = { id, abort, done: run.catch(() => undefined) };
      try {
        await run;
      } catch (error) {
        if (!abort.signal.aborted) this.#options.logger.error({ err: error, batchId: id }, 'batch stopped by an unexpected error; it resumes at the next start');
      } finally {
        this.#current = undefined;
      }
    }
  }

  /** Stops a job (queued: never started; running: rows in flight finish first; in distributed mode, its chunks too), then deletes its folder. */
  async #delete(id: string): Promise<void> {
    const queued = this.#queue.indexOf(id);
    if (queued >= 0) this.#queue.splice(queued, 1);
    const current = this.#current;
    if (current?.id === id) {
      current.abort.abort();
      await current.done;
    }
    // The workers' share: chunks still queued are removed, one in progress stops within a few rows.
    const { distributed, logger } = this.#options;
    const removed = await distributed?.queue.cancel(id).catch((error: Error) => {
      logger.warn({ batchId: id, err: { message: error.message } }, 'batch deleted here, but Redis did not answer: its queued chunks may still render (their images go to the store only)');
      return undefined;
    });
    await this.#store.delete(id);
    logger.info({ batchId: id, ...(removed === undefined ? {} : { chunksRemoved: removed }) }, 'batch deleted');
  }

  async #deleteOfUpload(upload: string): Promise<void> {
    for (const job of await this.#store.ofUpload(upload)) await this.#delete(job.id);
  }

  async #run(id: string, signal: AbortSignal): Promise<void> {
    const { logger, distributed } = this.#options;
    const store = this.#store;
    const job = await store.read(id);
    const done = await store.outcomes(id);
    job.status = 'running';
    await store.write(job);
    const log = logger.child({ batchId: id, template: job.template });
    if (distributed) await this.#runDistributed(job, distributed, new Set(done.keys()), signal, log);
    else await this.#runLocal(job, new Set(done.keys()), signal, log);
    if (signal.aborted) return; // stopped: left 'running' and resumed at the next start, unless it is being deleted
    await distributed?.queue.forget(id).catch(() => undefined); // Redis's copy of the results; the images stay in the store
    job.status = 'done';
    job.finishedAt = new Date().toISOString();
    await store.write(job);
    log.info('batch done');
  }

  /** Renders the rows not yet recorded on this node's pages, recording each as it finishes. */
  async #runLocal(job: JobState, recorded: ReadonlySet<number>, signal: AbortSignal, log: Logger): Promise<void> {
    const { pipeline, metrics } = this.#options;
    const store = this.#store;
    for await (const outcome of renderBatch(pipeline, store.rows(job.id), { template: join(pipeline.registry.templatesDir, job.template), preset: job.preset, size: job.size, concurrency: pipeline.config.render.pages, signal, skip: (row) => recorded.has(row.row) })) {
      let file = '';
      if (outcome.result) {
        file = defaultFileName(outcome.row, outcome.result.format);
        await store.writeImage(job.id, file, outcome.result.bytes);
      }
      metrics.renders.inc({ template: job.template, outcome: outcome.status });
      if (outcome.error) log.warn({ row: outcome.row, code: outcome.error.code }, 'batch row failed');
      await store.appendOutcome(job.id, manifestEntry(outcome, file));
    }
  }

  /**
   * Submits the job's rows (again, after a restart: chunk job ids dedupe and workers skip rows
   * already recorded), then records each row result as it arrives, with its image copied from
   * the store. Redis or the store down: the row waits and is read again on the next round.
   *
   * Each round reads only the first `followWindow` rows still pending (workers take chunks in
   * order, so results arrive roughly in row order): reading every result each round would make
   * following a long campaign quadratic. Once every row has a result, one full read collects
   * any that fell outside the window (a chunk retried late).
   */
  async #runDistributed(job: JobState, submission: BatchSubmission, recorded: ReadonlySet<number>, signal: AbortSignal, log: Logger): Promise<void> {
    const { pipeline } = this.#options;
    const store = this.#store;
    const { queue } = submission;
    const template = await pipeline.registry.getById(job.template);
    const { presetName, size } = targetOf(pipeline, template, { preset: job.preset, size: job.size });
    const pending = new Set<number>();
    async function* rows() {
      for await (const row of store.rows(job.id)) {
        if (!recorded.has(row.row)) pending.add(row.row);
        yield row;
      }
    }
    await queue.submit(job.id, { template: template.id, templateVersion: template.version, preset: presetName, size: size.name, withRecord: false, fields: template.manifest.fields }, rows());
    log.info({ rows: job.total }, 'batch handed to the workers');
    const collect = async (results: Iterable<RowResult | undefined>) => {
      for (const result of results) {
        if (!result || !pending.has(result.row) || signal.aborted) continue;
        await store.appendOutcome(job.id, await this.#collect(job.id, result, submission));
        pending.delete(result.row);
      }
    };
    let troubled = false;
    for (let wait = followMs.min; pending.size > 0 && !signal.aborted; wait = Math.min(wait * 2, followMs.max)) {
      try {
        const before = pending.size;
        const progress = await queue.progress(job.id);
        const window: number[] = [];
        for (const row of pending) if (window.push(row) >= followWindow) break;
        await collect(await queue.resultsOf(job.id, window));
        if (progress.done >= job.total && pending.size > 0) await collect(await queue.results(job.id));
        if (pending.size < before) wait = followMs.min;
        if (troubled) log.info('Redis and the store answer again; following the batch');
        troubled = false;
      } catch (error) {
        // One line per outage: BullMQ's workers retry the chunks themselves (their backoff shows in the status).
        if (!troubled) log.warn({ err: { message: (error as Error).message, code: (error as { code?: unknown }).code } }, 'cannot read the batch from Redis or the store; trying again');
        troubled = true;
      }
      if (pending.size > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
  }

  /** A worker's row result as the job's outcome line, its image copied from the store into the job's folder. */
  async #collect(id: string, result: RowResult, submission: BatchSubmission): Promise<OutcomeLine> {
    return collectRow(result, submission.images, defaultFileName(result.row, result.format ?? 'png'), (file, bytes) => this.#store.writeImage(id, file, bytes));
  }
}
