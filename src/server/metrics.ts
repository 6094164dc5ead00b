import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Pipeline } from '../pipeline/index.js';

/**
 * The server's metrics, on a Registry the caller owns (never prom-client's global one), so two
 * servers in one process — tests, or a host application — never share counters.
 */
export interface ServerMetrics {
  readonly registry: Registry;
  readonly renders: Counter<'template' | 'outcome'>;
  readonly renderDuration: Histogram<'template'>;
  readonly httpDuration: Histogram<'route' | 'method' | 'status'>;
  readonly cacheHits: Counter;
  readonly cacheMisses: Counter;
  readonly fallbacks: Counter<'reason'>;
}

export function createMetrics(registry: Registry, pipeline: Pipeline): ServerMetrics {
  const registers = [registry];
  let restartsSeen = 0;
  new Gauge({
    name: 'mergeshot_queue_depth',
    help: 'Renders waiting for a free page',
    registers,
    collect() {
      this.set(pipeline.stats().queueDepth);
    },
  });
  new Gauge({
    name: 'mergeshot_pool_pages_in_use',
    help: 'Pages rendering right now',
    registers,
    collect() {
      this.set(pipeline.stats().pagesInUse);
    },
  });
  new Counter({
    name: 'mergeshot_chromium_restarts_total',
    help: 'Chromium restarts (crash, disconnect or recycling)',
    registers,
    collect() {
      const restarts = pipeline.stats().browserRestarts;
      if (restarts > restartsSeen) this.inc(restarts - restartsSeen);
      restartsSeen = restarts;
    },
  });
  return {
    registry,
    renders: new Counter({ name: 'mergeshot_renders_total', help: 'Renders by template and outcome (ok, warning, failed, fallback)', labelNames: ['template', 'outcome'], registers }),
    renderDuration: new Histogram({ name: 'mergeshot_render_duration_seconds', help: 'Duration of one render, queue wait included', labelNames: ['template'], buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10], registers }),
    httpDuration: new Histogram({ name: 'mergeshot_http_request_duration_seconds', help: 'HTTP request duration by route, method and status', labelNames: ['route', 'method', 'status'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers }),
    cacheHits: new Counter({ name: 'mergeshot_cache_hits_total', help: 'Image requests answered from the cache', registers }),
    cacheMisses: new Counter({ name: 'mergeshot_cache_misses_total', help: 'Image requests that needed a render', registers }),
    fallbacks: new Counter({ name: 'mergeshot_fallbacks_total', help: 'Fallback images served, by reason code', labelNames: ['reason'], registers }),
  };
}
