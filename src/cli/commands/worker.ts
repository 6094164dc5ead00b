import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import type { MergeshotConfig } from '../../config/index.js';
import { openWorkerProcess, redactRedisUrl, requireDistributed } from '../../distributed/index.js';
import { createPipeline } from '../../pipeline/index.js';

export interface WorkerCommandOptions {
  /** Aborted by cli/main.ts on SIGTERM/SIGINT: stop taking chunks, finish the ones in progress. */
  readonly signal: AbortSignal;
  /** Renders in flight within a chunk (default 2 × pages). */
  readonly concurrency?: number | undefined;
  /** Serve this worker's Prometheus metrics on http://<metricsHost>:<port>/metrics. */
  readonly metricsPort?: number | undefined;
  /** The address the metrics listen on; default loopback only (serveMetrics). */
  readonly metricsHost?: string | undefined;
  readonly logger?: Logger;
}

/**
 * `mergeshot worker --redis … --store …`: renders chunk jobs until SIGTERM, then finishes the
 * chunks in progress (a second signal forces: their rows go to another worker). Logs are JSON
 * lines on stdout; the first is `{"msg":"worker ready",…}`.
 */
export async function runWorker(config: Readonly<MergeshotConfig>, options: WorkerCommandOptions): Promise<void> {
  const { redisUrl, storeUrl } = requireDistributed(config.distributed, 'mergeshot worker');
  const logger = options.logger ?? pino({ base: { service: 'mergeshot-worker' } });
  const pipeline = createPipeline(config, { onWarning: (message) => logger.warn(message) });
  const registry = new Registry();
  let metrics: Server | undefined;
  try {
    const worker = await openWorkerProcess(config.distributed, pipeline, { logger, registry, concurrency: options.concurrency });
    try {
      if (options.metricsPort !== undefined) metrics = await serveMetrics(registry, { port: options.metricsPort, host: options.metricsHost });
      await pipeline.warm();
      logger.info({ worker: worker.worker.name, redis: redactRedisUrl(redisUrl), store: storeUrl, pages: config.render.pages }, 'worker ready');
      if (!options.signal.aborted) await once(options.signal, 'abort');
      logger.info('stopping: finishing the chunks in progress');
    } finally {
      await worker.close();
      metrics?.close();
    }
  } finally {
    await pipeline.close();
  }
}

/**
 * A worker's /metrics. It asks for no credentials, so it listens on loopback unless told
 * otherwise (`--metrics-host 0.0.0.0` for a scraper on another machine, behind a firewall):
 * queue and row counts by worker name are an operator's, not the network's.
 */
export async function serveMetrics(registry: Registry, where: { readonly port: number; readonly host?: string | undefined }): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    void registry.metrics().then((text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text));
  });
  server.listen(where.port, where.host ?? '127.0.0.1');
  await once(server, 'listening');
  return server;
}
