import { join } from 'node:path';
import type { Router } from 'express';
import type { Logger } from 'pino';
import { defaultFileName, manifestEntry, renderBatch, type Pipeline } from '../../pipeline/index.js';
import type { ImageService } from '../images.js';
import type { ServerMetrics } from '../metrics.js';
import { mountBatchRoutes } from './routes.js';
import { BatchStore, type OutcomeLine } from './store.js';

/**
 * Runs stored jobs through the pipeline. One job runs at a time, with the page count as
 * concurrency, so batches never crowd out the image routes' renders. Owns the queue and the stop
 * signal; `close()` lets rows in flight finish and leaves the job to resume at the next start.
 */

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
  readonly #store: BatchStore;
  readonly #queue: string[] = [];
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;

  private constructor(options: BatchRunnerOptions, store: BatchStore) {
    this.#options = options;
    this.#store = store;
  }

  /** Opens the folder and queues every job a previous run left unfinished. */
  static async open(options: BatchRunnerOptions): Promise<BatchRunner> {
    const store = await BatchStore.open(options.dir);
    const runner = new BatchRunner(options, store);
    for (const job of await store.unfinished()) {
      options.logger.info({ batchId: job.id, template: job.template }, 'resuming batch');
      runner.#enqueue(job.id);
    }
    return runner;
  }

  mount(router: Router): void {
    const { images, logger, uploadMaxBytes } = this.#options;
    mountBatchRoutes(router, { store: this.#store, images, logger, uploadMaxBytes, enqueue: (id) => this.#enqueue(id) });
  }

  /** Stops taking rows; rows in flight finish and are recorded; the job resumes at the next start. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#running;
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
    const store = this.#store;
    const job = await store.read(id);
    const done = await store.outcomes(id);
    job.status = 'running';
    await store.write(job);
    const log = logger.child({ batchId: id, template: job.template });
    for await (const outcome of renderBatch(pipeline, store.rows(id), { template: join(pipeline.registry.templatesDir, job.template), preset: job.preset, size: job.size, concurrency: pipeline.config.render.pages, signal: this.#stop.signal, skip: (row) => done.has(row.row) })) {
      let file = '';
      if (outcome.result) {
        file = defaultFileName(outcome.row, outcome.result.format);
        await store.writeImage(id, file, outcome.result.bytes);
      }
      metrics.renders.inc({ template: job.template, outcome: outcome.status });
      if (outcome.error) log.warn({ row: outcome.row, code: outcome.error.code }, 'batch row failed');
      const line: OutcomeLine = manifestEntry(outcome, file);
      await store.appendOutcome(id, line);
    }
    if (this.#stop.signal.aborted) return; // left 'running': resumed at the next start
    job.status = 'done';
    job.finishedAt = new Date().toISOString();
    await store.write(job);
    log.info('batch done');
  }
}
