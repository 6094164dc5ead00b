import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Pipeline } from '../pipeline/index.js';
import { BatchQueue } from './batchQueue.js';
import { openRedis, openStore, probeStore, requireDistributed, type DistributedSettings } from './connections.js';
import { createDistributedMetrics } from './metrics.js';
import { RenderLocks } from './renderLocks.js';
import { RenderWorker } from './renderWorker.js';
import type { S3Store } from './s3Store.js';

/**
 * The resources of one `mergeshot worker` and of one distributed batch submitter, opened in one
 * place so each front end (cli/commands/worker.ts, cli/commands/render.ts, the bench) only
 * says what it wants. Each owner closes in reverse order of opening.
 */
export interface WorkerProcess {
  readonly worker: RenderWorker;
  close(): Promise<void>;
}

export interface WorkerProcessOptions {
  readonly logger: Logger;
  readonly registry?: Registry | undefined;
  /** Renders in flight within a chunk; default 2 × the pipeline's pages. */
  readonly concurrency?: number | undefined;
}

export async function openWorkerProcess(settings: DistributedSettings, pipeline: Pipeline, options: WorkerProcessOptions): Promise<WorkerProcess> {
  const { redisUrl, storeUrl } = requireDistributed(settings, 'mergeshot worker');
  const metrics = options.registry ? createDistributedMetrics(options.registry, undefined) : undefined;
  const store = openStore(settings, storeUrl, metrics ? (operation, seconds, failed) => metrics.observeStore(operation, seconds, failed) : undefined);
  await probeStore(store, storeUrl);
  const onError = () => undefined; // the Worker reports its own connection errors (renderWorker.ts)
  const connection = await openRedis(redisUrl, 'queue', onError);
  const redis = await openRedis(redisUrl, 'queue', onError);
  const worker = new RenderWorker({
    pipeline,
    connection,
    redis,
    prefix: settings.queuePrefix,
    chunks: settings.workerChunks,
    concurrency: options.concurrency ?? pipeline.config.render.pages * 2,
    stalledMs: settings.stalledMs,
    logger: options.logger,
    writes: new RenderLocks({ redis, store, prefix: settings.queuePrefix, ttlMs: settings.lockTtlMs, logger: options.logger }),
    onRow: metrics ? (result) => metrics.rows.inc({ worker: result.worker, outcome: result.status }) : undefined,
  });
  await worker.ready();
  let closing: Promise<void> | undefined;
  return {
    worker,
    close: () =>
      (closing ??= (async () => {
        await worker.close();
        redis.disconnect();
        connection.disconnect();
        await store.close();
      })()),
  };
}

export interface BatchSubmitter {
  readonly batches: BatchQueue;
  /** Where the workers put the images: read back by the submitter. */
  readonly store: S3Store;
  close(): Promise<void>;
}

export async function openBatchSubmitter(settings: DistributedSettings, command = 'mergeshot render'): Promise<BatchSubmitter> {
  const { redisUrl, storeUrl } = requireDistributed(settings, command);
  const store = openStore(settings, storeUrl);
  await probeStore(store, storeUrl);
  const connection = await openRedis(redisUrl, 'queue');
  const batches = new BatchQueue({ connection, prefix: settings.queuePrefix, chunkRows: settings.chunkRows, attempts: settings.jobAttempts, backoffMs: settings.backoffMs });
  let closing: Promise<void> | undefined;
  return {
    batches,
    store,
    close: () =>
      (closing ??= (async () => {
        await batches.close();
        connection.disconnect();
        await store.close();
      })()),
  };
}

/**
 * Cancels a batch (BatchQueue.cancel) with Redis alone: stopping work must not wait for a store
 * that may be the very reason to stop.
 */
export async function cancelBatch(settings: DistributedSettings, batchId: string, command = 'mergeshot render --cancel'): Promise<number> {
  const { redisUrl } = requireDistributed(settings, command);
  const connection = await openRedis(redisUrl, 'queue');
  const batches = new BatchQueue({ connection, prefix: settings.queuePrefix, chunkRows: settings.chunkRows, attempts: settings.jobAttempts, backoffMs: settings.backoffMs });
  try {
    return await batches.cancel(batchId);
  } finally {
    await batches.close();
    connection.disconnect();
  }
}
