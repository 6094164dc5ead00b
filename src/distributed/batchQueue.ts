import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { BatchRow } from '../pipeline/index.js';
import type { FieldSpecs } from '../template/index.js';
import { batchStateKeptSeconds, chunkJobSchema, chunkQueueName, chunkRows, redisKeys, rowResultSchema, withoutValues, type ChunkJob, type RowResult } from './chunkJobs.js';

/**
 * The submitting side of a distributed batch: splits rows into chunk jobs as they are read (a
 * million-row file is never held whole), then follows the batch by its counters and reads the
 * per-row results back once every row has one. Re-submitting with the same batch id (a
 * restarted `render --resume`) adds no chunk twice (jobs have ids `<batch>-<chunk>`), and the
 * workers skip rows that already have a result.
 */
export interface BatchQueueOptions {
  /** BullMQ's connection (role `queue`). */
  readonly connection: Redis;
  readonly prefix: string;
  readonly chunkRows: number;
  readonly attempts: number;
  readonly backoffMs: number;
}

export interface BatchTarget {
  readonly template: string;
  readonly templateVersion: string;
  readonly preset: string;
  readonly size: string;
  readonly withRecord: boolean;
  /** The template's fields: only their values are queued (chunkRows). Not part of the job data. */
  readonly fields: FieldSpecs;
}

export interface BatchProgress {
  /** Undefined until every row has been read and enqueued. */
  readonly total: number | undefined;
  readonly done: number;
  readonly ok: number;
  readonly warning: number;
  readonly failed: number;
  /** Chunks of the queue waiting for a retry after a failure (store or Redis trouble). */
  readonly retrying: number;
  readonly active: number;
  readonly waiting: number;
  /** Deleted or `render --cancel`led: nothing more will be recorded for it. */
  readonly cancelled: boolean;
}

/**
 * The end of a batch is cut finer: its last 2 chunks' worth of rows go in chunks of a quarter
 * size. Workers run out of chunks at different moments, and the batch is done only when the
 * last one finishes: with whole chunks the others sat idle for most of a chunk's time (2.5 s of
 * a 60 s run with 2 workers, bench:scale), with quarter chunks for a quarter of it. Only for a
 * batch of more than 4 chunks; the cut depends on the row count alone, so a re-submission makes
 * the same chunks.
 */
const tailChunks = 2;
const tailDivisor = 4;
/** Enqueue this many chunks per round trip. */
const addBatch = 20;
/** Remove this many chunk jobs at once when a batch is cancelled. */
const removeBatch = 200;

export class BatchQueue {
  readonly #queue: Queue<ChunkJob>;
  readonly #redis: Redis;
  readonly #options: BatchQueueOptions;
  readonly #keys;

  constructor(options: BatchQueueOptions) {
    this.#options = options;
    this.#redis = options.connection;
    this.#keys = redisKeys(options.prefix);
    this.#queue = new Queue<ChunkJob>(chunkQueueName, { connection: options.connection, prefix: options.prefix });
  }

  get queue(): Queue<ChunkJob> {
    return this.#queue;
  }

  /** Enqueues every row of `rows` in chunks; returns the row and chunk counts. */
  async submit(batchId: string, target: BatchTarget, rows: AsyncIterable<BatchRow>): Promise<{ total: number; chunks: number }> {
    const batchKey = this.#keys.batch(batchId);
    const { fields, ...job } = target;
    await this.#redis.multi().hset(batchKey, { template: target.template, version: target.templateVersion, preset: target.preset, size: target.size, createdAt: String(Date.now()) }).expire(batchKey, batchStateKeptSeconds).exec();
    let pending: BatchRow[] = [];
    let jobs: { name: string; data: ChunkJob; opts: { jobId: string; attempts: number; backoff: { type: 'exponential'; delay: number }; removeOnComplete: { age: number }; removeOnFail: { age: number } } }[] = [];
    let total = 0;
    let chunk = 0;
    const flushJobs = async () => {
      if (!jobs.length) return;
      await this.#queue.addBulk(jobs);
      jobs = [];
      // Counted as they are queued: a batch deleted before its input was read to the end still
      // has every queued chunk removed (cancel goes by this count).
      await this.#redis.hset(batchKey, 'chunks', String(chunk));
    };
    const closeChunk = (size: number) => {
      const rows = pending.slice(0, size);
      pending = pending.slice(size);
      if (!rows.length) return;
      jobs.push({
        name: 'chunk',
        data: { batchId, chunk, ...job, rows: chunkRows(rows, fields) },
        // A finished chunk stays listed (the dashboard, the dedupe of a resubmission) with its row numbers only: the worker drops the values as it ends.
        opts: { jobId: chunkJobId(batchId, chunk), attempts: this.#options.attempts, backoff: { type: 'exponential', delay: this.#options.backoffMs }, removeOnComplete: { age: 24 * 3600 }, removeOnFail: { age: batchStateKeptSeconds } },
      });
      chunk += 1;
    };
    const size = this.#options.chunkRows;
    const tailRows = tailChunks * size;
    // Rows are read into chunks as they come, but the last tailRows of them are held back until
    // the input ends, to be cut finer.
    for await (const row of rows) {
      pending.push(row);
      total += 1;
      if (pending.length >= size + tailRows) closeChunk(size);
      if (jobs.length >= addBatch) await flushJobs();
    }
    while (pending.length > tailRows) closeChunk(size);
    const tailSize = chunk >= tailChunks ? Math.ceil(size / tailDivisor) : size;
    while (pending.length) closeChunk(tailSize);
    await flushJobs();
    await this.#redis.hset(batchKey, { total: String(total), chunks: String(chunk) });
    return { total, chunks: chunk };
  }

  async progress(batchId: string): Promise<BatchProgress> {
    const [meta, done, counts, cancelled] = await Promise.all([this.#redis.hgetall(this.#keys.batch(batchId)), this.#redis.hlen(this.#keys.results(batchId)), this.#queue.getJobCounts('delayed', 'active', 'waiting'), this.#redis.exists(this.#keys.cancelled(batchId))]);
    const number = (value: string | undefined) => (value === undefined ? 0 : Number(value));
    return { total: meta.total === undefined ? undefined : Number(meta.total), done, ok: number(meta.ok), warning: number(meta.warning), failed: number(meta.failed), retrying: counts.delayed ?? 0, active: counts.active ?? 0, waiting: counts.waiting ?? 0, cancelled: cancelled === 1 };
  }

  /** The results of these rows, in the order given; undefined where a row has none yet. */
  async resultsOf(batchId: string, rows: readonly number[]): Promise<(RowResult | undefined)[]> {
    if (rows.length === 0) return [];
    const texts = await this.#redis.hmget(this.#keys.results(batchId), ...rows.map(String));
    return texts.map((text) => (text === null ? undefined : rowResultSchema.parse(JSON.parse(text))));
  }

  /** Every recorded row result, sorted by row. */
  async results(batchId: string): Promise<RowResult[]> {
    const all = await this.#redis.hvals(this.#keys.results(batchId));
    return all.map((text) => rowResultSchema.parse(JSON.parse(text))).sort((a, b) => a.row - b.row);
  }

  /**
   * Stops a batch for good (it was deleted): its chunks still queued are removed, a worker on one
   * of its chunks stops within a few rows, and no worker records anything more for it; then its
   * state leaves Redis, and so do the values of a chunk a worker holds. Images already in the
   * store stay (other batches and image URLs share them).
   * Returns the number of chunks removed before any worker took them.
   */
  async cancel(batchId: string): Promise<number> {
    await this.#redis.set(this.#keys.cancelled(batchId), '1', 'EX', batchStateKeptSeconds);
    const chunks = Number((await this.#redis.hget(this.#keys.batch(batchId), 'chunks')) ?? 0);
    let removed = 0;
    for (let from = 0; from < chunks; from += removeBatch) {
      const ids = Array.from({ length: Math.min(removeBatch, chunks - from) }, (_, at) => chunkJobId(batchId, from + at));
      // 0 for a chunk a worker holds (locked) or that is gone already: the flag stops that one,
      // and its values go now rather than when it ends (its worker keeps its own copy).
      const answers = await Promise.all(ids.map((id) => this.#queue.remove(id)));
      removed += answers.filter((answer) => answer === 1).length;
      await Promise.all(ids.filter((_, at) => answers[at] !== 1).map((id) => this.#dropValues(id)));
    }
    await this.forget(batchId);
    return removed;
  }

  /** A held chunk's data without its values; nothing for a chunk that is gone. */
  async #dropValues(jobId: string): Promise<void> {
    const job = await this.#queue.getJob(jobId);
    if (!job) return;
    const parsed = chunkJobSchema.safeParse(job.data);
    // Not a chunk of ours (another program's job under the same prefix): leave it be.
    if (!parsed.success) return;
    try {
      await job.updateData(withoutValues(parsed.data));
    } catch (error) {
      // Gone between the read and the write (removed as it ended): nothing left to strip.
      if (await this.#queue.getJob(jobId)) throw error;
    }
  }

  /** Drops a finished batch's state from Redis (its images stay in the store). */
  async forget(batchId: string): Promise<void> {
    await this.#redis.del(this.#keys.batch(batchId), this.#keys.results(batchId));
  }

  async close(): Promise<void> {
    await this.#queue.close();
  }
}

function chunkJobId(batchId: string, chunk: number): string {
  return `${batchId}-${chunk}`;
}
