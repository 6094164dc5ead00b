import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Queue } from 'bullmq';
import type { StoreOperation } from './s3Store.js';

/**
 * Scale-out metrics, on a Registry the caller owns (the server's /metrics, or a worker's).
 * Queue figures are read from Redis when scraped (one round trip each), never polled in between;
 * with Redis down they are left out after a second, so a scrape never hangs on the queue.
 */
export interface DistributedMetrics {
  observeStore(operation: StoreOperation, seconds: number, failed: boolean): void;
  readonly rows: Counter<'worker' | 'outcome'>;
  readonly locks: Counter<'outcome'>;
}

export function createDistributedMetrics(registry: Registry, queue?: Queue): DistributedMetrics {
  const registers = [registry];
  if (queue) {
    new Gauge({
      name: 'mergeshot_distributed_jobs',
      help: 'Chunk jobs of the queue by state (waiting, active, delayed = waiting for a retry, completed, failed)',
      labelNames: ['state'],
      registers,
      async collect() {
        const counts = await answered(queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'));
        for (const [state, count] of Object.entries(counts ?? {})) this.set({ state }, count);
      },
    });
    new Gauge({
      name: 'mergeshot_distributed_queue_depth',
      help: 'Chunk jobs not yet taken by a worker (waiting, prioritized, delayed)',
      registers,
      async collect() {
        const counts = await answered(queue.getJobCounts('waiting', 'prioritized', 'delayed'));
        if (counts) this.set(Object.values(counts).reduce((sum, n) => sum + n, 0));
      },
    });
    new Gauge({
      name: 'mergeshot_distributed_workers_alive',
      help: 'Workers connected to the queue (BullMQ worker connections)',
      registers,
      async collect() {
        const workers = await answered(queue.getWorkers());
        if (workers) this.set(workers.length);
      },
    });
  }
  const duration = new Histogram({ name: 'mergeshot_store_request_duration_seconds', help: 'Shared store requests by operation', labelNames: ['operation'], buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers });
  const errors = new Counter({ name: 'mergeshot_store_errors_total', help: 'Shared store requests that failed (not counting "no such key")', labelNames: ['operation'], registers });
  return {
    observeStore(operation, seconds, failed) {
      duration.observe({ operation }, seconds);
      if (failed) errors.inc({ operation });
    },
    rows: new Counter({ name: 'mergeshot_worker_rows_total', help: 'Rows rendered and recorded by this worker, by outcome (rate() = renders/s per worker)', labelNames: ['worker', 'outcome'], registers }),
    locks: new Counter({ name: 'mergeshot_render_locks_total', help: 'Cross-node render locks of image URLs: leader rendered, waited for another node, Redis down, gave up waiting', labelNames: ['outcome'], registers }),
  };
}

/** The value, or undefined when it fails or takes more than a second. */
async function answered<T>(work: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work.catch(() => undefined), new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 1_000)))]);
  } finally {
    clearTimeout(timer);
  }
}
