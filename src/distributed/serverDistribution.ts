import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CacheStore, PurgeFilter } from '../cache/index.js';
import { openRedis, openStore, probeStore, requireDistributed, type DistributedSettings } from './connections.js';
import { BatchQueue } from './batchQueue.js';
import { createDistributedMetrics } from './metrics.js';
import { PurgeMarkers } from './purgeMarkers.js';
import { RenderLocks, type RenderCoordinator } from './renderLocks.js';
import type { S3Store } from './s3Store.js';
import { SharedCache } from './sharedCache.js';

/**
 * What `mergeshot serve --redis … --store …` adds to a server node: the shared cache tier under
 * its memory and disk layers, the cross-node render lock, purges that reach every node, and the
 * batch queue that `POST /api/batches` hands its rows to (the workers render them).
 *
 * Ownership: the server that opened it closes it (after its own cache): connections in reverse
 * order of opening, then the store's HTTP agent.
 */
export interface ServerDistribution {
  /** The node's cache: `local` (its disk) in front of the shared store. */
  cacheStore(local: CacheStore): CacheStore;
  readonly renders: RenderCoordinator;
  /** Called with `scope: 'local'` for every purge announced by any node (this one included). */
  onRemotePurge(listener: (filter: PurgeFilter) => void): void;
  /** Batches of this node go to the workers: chunk jobs in, row results and images (in the store) out. */
  readonly batches: BatchSubmission;
  close(): Promise<void>;
}

export interface BatchSubmission {
  readonly queue: BatchQueue;
  /** Reads back the images the workers wrote. */
  readonly images: Pick<S3Store, 'getWritten'>;
}

export interface ServerDistributionOptions {
  readonly logger: Logger;
  readonly registry: Registry;
}

export async function openServerDistribution(settings: DistributedSettings, options: ServerDistributionOptions): Promise<ServerDistribution> {
  const { redisUrl, storeUrl } = requireDistributed(settings, 'mergeshot serve');
  const { logger } = options;
  let redisErrors = 0;
  const onError = (error: Error) => {
    // One line per outage start, not one per reconnect attempt.
    if (redisErrors++ === 0) logger.warn({ code: 'QUEUE_UNAVAILABLE', err: { message: error.message } }, 'Redis connection lost; image renders fall back to one per node until it is back');
  };
  const redis = await openRedis(redisUrl, 'fast', onError);
  redis.on('ready', () => (redisErrors = 0));
  const subscriber = await openRedis(redisUrl, 'queue', onError);
  // The queue: batches submitted by this node, and /metrics (jobs by state, depth, workers alive).
  const queueConnection = await openRedis(redisUrl, 'queue', onError);
  const batches = new BatchQueue({ connection: queueConnection, prefix: settings.queuePrefix, chunkRows: settings.chunkRows, attempts: settings.jobAttempts, backoffMs: settings.backoffMs });
  const metrics = createDistributedMetrics(options.registry, batches.queue);
  const store = openStore(settings, storeUrl, (operation, seconds, failed) => metrics.observeStore(operation, seconds, failed));
  await probeStore(store, storeUrl);
  const purges = new PurgeMarkers({ redis, subscriber, prefix: settings.queuePrefix });
  await purges.start();
  const renders = new RenderLocks({ redis, store, prefix: settings.queuePrefix, ttlMs: settings.lockTtlMs, logger, onOutcome: (outcome) => metrics.locks.inc({ outcome }) });
  let closing: Promise<void> | undefined;
  return {
    cacheStore: (local) => new SharedCache(local, store, purges),
    renders,
    onRemotePurge: (listener) => purges.onPurge(listener),
    batches: { queue: batches, images: store },
    close: () =>
      (closing ??= (async () => {
        await batches.close();
        queueConnection.disconnect();
        subscriber.disconnect();
        redis.disconnect();
        await store.close();
      })()),
  };
}
