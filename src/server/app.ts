import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { Registry } from 'prom-client';
import { DiskStore, MemoryLayer } from '../cache/index.js';
import { openServerDistribution, type ServerDistribution } from '../distributed/index.js';
import type { MergeshotConfig } from '../config/index.js';
import type { Pipeline } from '../pipeline/index.js';
import { BatchRunner } from './batches/index.js';
import { checkAtBoot, templateProblems } from './bootCheck.js';
import { FallbackImages } from './fallbackImage.js';
import { errorHandler, httpError, sendError } from './httpErrors.js';
import { ImageService } from './images.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { apiRouter } from './routes/api.js';
import { healthRouter } from './routes/health.js';
import { imageRouter } from './routes/image.js';
import { queueDashboard } from './routes/queueDashboard.js';
import { UrlSigner } from './signing.js';
import { TemplateWatcher } from './templateWatcher.js';
import { TemplateEvents } from './routes/events.js';
import { isLoopbackBind, StudioAccess, studioRouter } from '../studio/index.js';
import { parseTokenKey, TokenCodec } from './tokens.js';

/**
 * createServer(pipeline, config) → an express app and the resources it owns. It never listens
 * and never handles signals: `mergeshot serve` (cli/commands/serve.ts) does, and a host
 * application may mount the app in its own server.
 *
 * Ownership: front end → MergeshotServer → { cache store, template watcher, batch runner };
 * the pipeline belongs to the caller, who closes it after `server.close()`.
 */
export interface ServerDependencies {
  readonly logger: Logger;
  /** Where the metrics go; a new Registry when absent (never prom-client's global one). */
  readonly metricsRegistry?: Registry | undefined;
  /** Distributed mode with a distribution the caller owns; else opened here from config.distributed when set. */
  readonly distributed?: ServerDistribution | undefined;
}

export interface MergeshotServer {
  readonly app: Express;
  readonly metrics: ServerMetrics;
  readonly images: ImageService;
  /** The studio's one-time login token, while unspent and unexpired (no studio password configured). */
  readonly studioLoginToken: () => string | undefined;
  /** From now on /readyz answers 503, so a load balancer stops sending traffic. */
  beginShutdown(): void;
  /** Waits for renders in flight, stops the watcher and batches, closes the cache. Idempotent. */
  close(): Promise<void>;
}

export async function createServer(pipeline: Pipeline, config: Readonly<MergeshotConfig>, dependencies: ServerDependencies): Promise<MergeshotServer> {
  const { logger } = dependencies;
  const server = config.server;
  const signer = new UrlSigner(server.signingKeys);
  const tokens = server.tokenKey ? new TokenCodec(parseTokenKey(server.tokenKey)) : undefined;
  await checkAtBoot(pipeline, config, logger);
  if (server.apiKeys.length === 0) logger.warn("no API keys configured (MERGESHOT_API_KEYS): API clients are refused; the studio's pages use their login session");

  const metrics = createMetrics(dependencies.metricsRegistry ?? new Registry(), pipeline);
  // Distributed mode: memory → this node's disk → the shared store (distributed/sharedCache.ts).
  const ownDistribution = !dependencies.distributed && (config.distributed.redisUrl || config.distributed.storeUrl) ? await openServerDistribution(config.distributed, { logger, registry: metrics.registry }) : undefined;
  const distributed = dependencies.distributed ?? ownDistribution;
  const disk = await DiskStore.open({ dir: server.cacheDir, maxBytes: server.cacheMaxBytes });
  const store = new MemoryLayer(distributed ? distributed.cacheStore(disk) : disk, { maxBytes: server.memoryMaxBytes });
  const images = new ImageService({ pipeline, config, store, metrics, logger, coordinator: distributed?.renders });
  distributed?.onRemotePurge((filter) => {
    images.invalidateTemplates();
    store.purge(filter).catch((error: unknown) => logger.warn({ err: error }, 'applying a purge from another node failed'));
  });
  const fallbacks = new FallbackImages({ pipeline, store, metrics, logger });
  // The studio always asks for a login, whatever the bind (studio/access.ts says why).
  const studio = config.studio.enabled
    ? new StudioAccess({
        password: config.studio.password,
        apiKeys: server.apiKeys.map((entry) => entry.key),
        idleMs: config.studio.sessionIdleMs,
        maxMs: config.studio.sessionMaxMs,
        loginLinkMs: config.studio.loginLinkMs,
        loopbackBind: isLoopbackBind(server.host),
        trustProxy: server.trustProxy !== false && server.trustProxy !== 0,
      })
    : undefined;
  const events = new TemplateEvents(config.templatesDir, studio);
  const watcher = server.watchTemplates
    ? new TemplateWatcher(
        [config.templatesDir, config.stylesDir],
        (changed) => {
          images.invalidateTemplates();
          events.changed(changed);
        },
        logger,
        { pollMs: server.templatePollMs },
      )
    : undefined;
  // What the files are at start, so the first edit after it is told apart from them.
  await watcher?.ready;
  const batches = await BatchRunner.open({ dir: server.batchesDir, dataDir: config.studio.dataDir, pipeline, images, metrics, logger, uploadMaxBytes: server.uploadMaxBytes, batchTtlMs: server.batchTtlMs, studio: config.studio, distributed: distributed?.batches });
  let draining = false;

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', server.trustProxy);

  app.use(
    pinoHttp({
      logger,
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // Field values, tokens and signatures are personal or secret: the log keeps the route only.
      wrapSerializers: false,
      serializers: {
        req: (req: IncomingMessage & { id?: unknown }) => ({ id: req.id, method: req.method, path: loggablePath(req.url ?? '') }),
        res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
      },
      // The caller by its key's name (never the key): routes/api.ts sets `principal`.
      customProps: (_req: IncomingMessage, res: ServerResponse) => {
        const locals = (res as ServerResponse & { locals?: { log?: object; principal?: { name: string } } }).locals;
        return { ...locals?.log, ...(locals?.principal ? { caller: locals.principal.name } : {}) };
      },
      // A fallback answer is a 200 that still means a failure: warn, like a 4xx.
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
        error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 || (res as ServerResponse & { locals?: { log?: { fallback?: string } } }).locals?.log?.fallback ? 'warn' : 'info',
      autoLogging: { ignore: (req: IncomingMessage) => req.url === '/metrics' || req.url === '/healthz' },
    }),
  );

  app.use((req, res, next) => {
    // Draining: answer, then close the connection, so keep-alive clients reconnect elsewhere.
    if (draining) res.setHeader('Connection', 'close');
    const started = performance.now();
    res.once('finish', () => {
      metrics.httpDuration.observe({ route: routeLabel(req.path), method: req.method, status: String(res.statusCode) }, (performance.now() - started) / 1000);
    });
    next();
  });

  // Images are embedded by other origins (mail clients, web pages): allow cross-origin embedding.
  app.use(helmet({ crossOriginResourcePolicy: { policy: 'cross-origin' } }));

  app.use(healthRouter({ pipeline, metrics, readyCacheMs: server.readyCacheMs, isDraining: () => draining, problems: () => templateProblems(pipeline, config) }));
  app.use(imageRouter({ config, images, fallbacks, metrics, signer, tokens }));
  const queues = distributed ? queueDashboard(distributed.batches.queue.queue) : undefined;
  app.use('/api', apiRouter({ config, pipeline, images, metrics, batches, studio, events, queues, signer, tokens }));
  if (studio) app.use(studioRouter({ access: studio }));
  app.use((_req, res) => sendError(res, httpError('NOT_FOUND')));
  app.use(errorHandler(logger));

  let closing: Promise<void> | undefined;
  return {
    app,
    metrics,
    images,
    studioLoginToken: () => studio?.loginToken,
    beginShutdown() {
      draining = true;
      events.close();
    },
    close: () =>
      (closing ??= (async () => {
        draining = true;
        events.close();
        studio?.close();
        watcher?.close();
        await batches.close();
        await images.settled();
        await store.close();
        await ownDistribution?.close();
      })()),
  };
}

/** The path without its query string; a token in /t/ is replaced. */
export function loggablePath(url: string): string {
  const path = url.split('?')[0] ?? '';
  return path.startsWith('/t/') ? `/t/[token]${/\.[a-z]+$/i.exec(path)?.[0] ?? ''}` : path;
}

function routeLabel(path: string): string {
  if (path.startsWith('/i/')) return '/i';
  if (path.startsWith('/t/')) return '/t';
  if (path.startsWith('/api/batches')) return '/api/batches';
  if (path.startsWith('/api/templates')) return '/api/templates';
  if (['/healthz', '/readyz', '/metrics', '/api/render', '/api/purge'].includes(path)) return path;
  return 'other';
}
