import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { imageCacheKey, renderBatch, targetOf, type BatchRow, type Pipeline, type RowOutcome } from '../pipeline/index.js';
import { chunkJobSchema, chunkQueueName, redisKeys, withoutValues, type ChunkJob, type RowResult } from './chunkJobs.js';
import type { EntryWriter, PendingWrite } from './renderLocks.js';
import { recordRows, RowRecorder } from './rowRecorder.js';

/**
 * `mergeshot worker`: takes chunk jobs off the queue and renders their rows with the ordinary
 * pipeline (the pipeline does not know it runs in a worker), storing each image in the shared
 * store under its cache key and each row's outcome in the batch's results hash.
 *
 * Exactly once per row, without distributed transactions:
 * - A row's outcome is recorded with HSETNX after its image is stored: recorded ⇒ stored. Rows
 *   are stored and recorded in small groups (RowRecorder), a few Redis calls per group.
 * - A chunk first drops the rows already recorded, so a chunk retried after a failure, or
 *   handed to another worker after its first one died (BullMQ's stalled-job check: the dead
 *   worker stops renewing the job's lock), renders only what is missing.
 * - A row rendered twice (the first worker was slow, not dead) writes the same bytes to the same
 *   object, and HSETNX keeps one outcome.
 * A store or Redis failure fails the job, and BullMQ retries it with exponential backoff.
 *
 * A chunk's row values stay in Redis only while they may still be rendered: as a chunk ends
 * (done, dropped, given up) its job data is replaced by its row numbers (chunkJobs.ts).
 *
 * Ownership: the caller owns the pipeline, the entry writer and the connections; close() stops taking
 * jobs and waits for the chunks in progress.
 */
export interface RenderWorkerOptions {
  readonly pipeline: Pipeline;
  /** BullMQ's blocking connection (role `queue`). */
  readonly connection: Redis;
  /** Commands for the results hash (role `queue`: waits out an outage). */
  readonly redis: Redis;
  readonly prefix: string;
  /** Chunks in progress at once. */
  readonly chunks: number;
  /** Renders in flight within a chunk. */
  readonly concurrency: number;
  readonly stalledMs: number;
  readonly logger: Logger;
  /** Writes images to the shared store, one writer per key (RenderLocks; why: EntryWriter). */
  readonly writes: EntryWriter;
  /** Each row this worker recorded (not the ones another worker had recorded first). */
  readonly onRow?: ((result: RowResult) => void) | undefined;
}

/** A chunk job's return value (BullMQ keeps it with the completed job). */
export interface ChunkOutcome {
  readonly rendered: number;
  readonly skipped: number;
  /** Its batch was deleted before or while it ran. */
  readonly cancelled: boolean;
}

export class RenderWorker {
  readonly #worker: Worker<ChunkJob>;
  readonly #options: RenderWorkerOptions;
  readonly #name = `${hostname()}:${process.pid}`;
  #closing: Promise<void> | undefined;

  constructor(options: RenderWorkerOptions) {
    this.#options = options;
    this.#worker = new Worker<ChunkJob>(chunkQueueName, (job) => this.#process(job), {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.chunks,
      // The lock is renewed every lockDuration/2 while the worker lives; a SIGKILLed worker's
      // chunk is found stalled within about one stalledInterval and goes back to the queue.
      lockDuration: options.stalledMs,
      stalledInterval: options.stalledMs,
      // A chunk may outlive several worker crashes (one bad machine) before it is given up.
      maxStalledCount: 5,
      autorun: true,
      name: this.#name,
    });
    this.#worker.on('failed', (job, error) => {
      if (!job) return;
      const final = error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      options.logger.warn({ batchId: job.data.batchId, chunk: job.data.chunk, attempts: job.attemptsMade, final, err: { message: error.message } }, final ? 'chunk failed for good; its rows end failed' : 'chunk failed; BullMQ retries it with backoff');
      // Given up: every row still without an outcome ends failed, so the batch completes and
      // the manifest says why instead of the submitter waiting forever; then its values go.
      if (final) {
        void this.#failRemaining(job.data, error)
          .then(() => job.updateData(withoutValues(job.data)))
          .catch((failure: Error) => options.logger.error({ code: 'QUEUE_UNAVAILABLE', batchId: job.data.batchId, chunk: job.data.chunk, err: { message: failure.message } }, 'could not record a given-up chunk (its rows stay without an outcome) or drop its values'));
      }
    });
    this.#worker.on('error', (error) => options.logger.warn({ err: { message: error.message } }, 'worker connection error; reconnecting'));
  }

  /** Resolves once the worker is connected and waiting for jobs. */
  async ready(): Promise<void> {
    await this.#worker.waitUntilReady();
  }

  get name(): string {
    return this.#name;
  }

  async #process(job: Job<ChunkJob>): Promise<ChunkOutcome> {
    const parsed = chunkJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`chunk job ${job.id} is not a mergeshot chunk: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const chunk = parsed.data;
    const { pipeline, redis, logger } = this.#options;
    const keys = redisKeys(this.#options.prefix);
    const template = await pipeline.registry.getById(chunk.template);
    if (template.version !== chunk.templateVersion) {
      // Rendering anyway would put another design under the batch's name.
      throw new UnrecoverableError(`template "${chunk.template}" on this worker (version ${template.version.slice(0, 12)}) is not the one the batch was submitted with (${chunk.templateVersion.slice(0, 12)}): deploy the same templates folder to every worker.`);
    }
    const target = targetOf(pipeline, template, { preset: chunk.preset, size: chunk.size });
    if ((await redis.exists(keys.cancelled(chunk.batchId))) === 1) {
      logger.info({ batchId: chunk.batchId, chunk: chunk.chunk }, 'chunk dropped: its batch was deleted');
      await job.updateData(withoutValues(chunk));
      return { rendered: 0, skipped: chunk.rows.length, cancelled: true };
    }
    const done = await redis.hmget(keys.results(chunk.batchId), ...chunk.rows.map((row) => String(row.row)));
    const todo: BatchRow[] = chunk.rows.filter((_, at) => done[at] === null);
    const recorder = new RowRecorder({ redis, keys, batchId: chunk.batchId, writes: this.#options.writes, onRow: this.#options.onRow });
    // A batch deleted while this chunk runs is seen when a group of rows is recorded (the
    // record script refuses it): no more rows start, the ones in flight finish.
    const stop = new AbortController();
    async function* rows(): AsyncGenerator<BatchRow> {
      for (const row of todo) {
        if (recorder.cancelled) return stop.abort();
        yield row;
      }
    }
    let rendered = 0;
    for await (const outcome of renderBatch(pipeline, rows(), { template: template.dir, preset: chunk.preset, size: chunk.size, concurrency: this.#options.concurrency, signal: stop.signal })) {
      let write: PendingWrite | undefined;
      if (outcome.result) {
        const { result } = outcome;
        const key = imageCacheKey(target, result.record);
        // createdAt is the job's, not the clock's, so a row rendered twice (a chunk taken over
        // after its worker lost Redis) writes the very same bytes.
        write = { key, entry: { bytes: result.bytes, meta: { contentType: result.contentType, template: template.id, createdAt: job.timestamp, width: result.width, height: result.height, warnings: warningList(outcome) } } };
      }
      await recorder.add(rowResult(outcome, write?.key, chunk.withRecord, this.#name), write);
      rendered += 1;
    }
    await recorder.finish();
    // Every row has its outcome (or the batch is gone): the values are not needed any more. A
    // failure here fails the chunk; its retry renders nothing and drops them again.
    await job.updateData(withoutValues(chunk));
    if (recorder.cancelled) stop.abort();
    logger.info({ batchId: chunk.batchId, chunk: chunk.chunk, rendered, skipped: chunk.rows.length - todo.length, cancelled: stop.signal.aborted }, stop.signal.aborted ? 'chunk stopped: its batch was deleted' : 'chunk done');
    return { rendered, skipped: chunk.rows.length - rendered, cancelled: stop.signal.aborted };
  }

  async #failRemaining(chunk: ChunkJob, error: Error): Promise<void> {
    const keys = redisKeys(this.#options.prefix);
    const code = error instanceof UnrecoverableError ? 'TEMPLATE_INVALID' : 'STORE_UNAVAILABLE';
    const results = chunk.rows.map((row): RowResult => ({ row: row.row, status: 'failed', bytes: 0, width: 0, height: 0, warnings: [], error: { code, message: `row ${row.row}: chunk ${chunk.chunk} failed after every retry: ${error.message}` }, alt: '', worker: this.#name }));
    await recordRows(this.#options.redis, keys, chunk.batchId, results);
  }

  /** Stops taking chunks and waits for the ones in progress. Idempotent. */
  close(): Promise<void> {
    return (this.#closing ??= this.#worker.close());
  }
}

function warningList(outcome: RowOutcome): string[] {
  return outcome.warnings.map((w) => `${w.code}:${w.field ?? ''}`);
}

function rowResult(outcome: RowOutcome, key: string | undefined, withRecord: boolean, worker: string): RowResult {
  const result = outcome.result;
  return {
    row: outcome.row,
    status: outcome.status,
    ...(key ? { key } : {}),
    ...(result ? { format: result.format } : {}),
    bytes: result?.bytes.length ?? 0,
    width: result?.width ?? 0,
    height: result?.height ?? 0,
    warnings: warningList(outcome),
    ...(outcome.error ? { error: outcome.error } : {}),
    alt: result?.alt ?? '',
    ...(withRecord && result ? { record: { ...result.record } } : {}),
    worker,
  };
}
