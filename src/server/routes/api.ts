import { performance } from 'node:perf_hooks';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { z } from 'zod';
import type { MergeshotConfig } from '../../config/index.js';
import { AccessError, MergeshotError } from '../../errors/index.js';
import type { Pipeline } from '../../pipeline/index.js';
import { templateIdPattern, type LoadedTemplate } from '../../template/index.js';
import { httpError, sendError } from '../httpErrors.js';
import type { ImageService } from '../images.js';
import { parse, recordSchema } from './requestSchemas.js';
import type { ServerMetrics } from '../metrics.js';
import type { StudioSessions } from '../../studio/index.js';
import { ApiKeyRing, sessionPrincipal, type Principal } from '../apiKeys.js';
import { bearerThrottle } from '../keyThrottle.js';
import type { UrlSigner } from '../signing.js';
import type { TokenCodec } from '../tokens.js';
import { mountStudioRoutes } from './studio.js';
import { mountVisualRoutes } from './visual.js';
import { assertEveryRouteScoped, authorizeRoute } from './routeScopes.js';

/**
 * /api: JSON in, JSON (or image bytes) out, `Authorization: Bearer <key>` with a key from
 * server.apiKeys / MERGESHOT_API_KEYS (apiKeys.ts), or a studio session. Wrong keys are
 * throttled per address (keyThrottle.ts); each route needs a scope (routeScopes.ts). No key
 * configured → every /api request without a studio session is 401. Every answer is
 * `Cache-Control: no-store` unless a route says otherwise: most carry personal data.
 */

const renderBody = z.strictObject({
  template: z.string().regex(templateIdPattern, 'must be a template id (folder name)'),
  data: recordSchema.default({}),
  preset: z.string().max(64).optional(),
  size: z.string().max(64).optional(),
});

const purgeBody = z.strictObject({ template: z.string().regex(templateIdPattern, 'must be a template id (folder name)').optional() }).default({});

/** What /api needs of the batch runner (server/batches/): it mounts its own routes. */
export interface BatchRoutes {
  mount(router: Router): void;
}

export interface ApiRouteOptions {
  readonly config: Readonly<MergeshotConfig>;
  readonly pipeline: Pipeline;
  readonly images: ImageService;
  readonly metrics: ServerMetrics;
  readonly batches: BatchRoutes | undefined;
  /** The studio's sessions, when the studio is on: its pages authenticate with a cookie. */
  readonly studio?: StudioSessions | undefined;
  /** GET /api/events, the studio's hot reload. */
  readonly events?: { mount(router: Router): void } | undefined;
  /** /api/queues, the queue dashboard of a node in distributed mode (routes/queueDashboard.ts). */
  readonly queues?: { mount(router: Router): void } | undefined;
  readonly signer: UrlSigner;
  readonly tokens: TokenCodec | undefined;
}

export function apiRouter(options: ApiRouteOptions): Router {
  const { config, pipeline, images, metrics, batches } = options;
  const router = Router();
  const keys = new ApiKeyRing(config.server.apiKeys);
  const throttle = bearerThrottle();

  router.use((req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', 'no-store');
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S{1,512})$/i.exec(header);
    let principal: Principal | undefined;
    if (match) {
      const wait = throttle.blockedFor(req.ip);
      if (wait > 0) {
        res.setHeader('Retry-After', String(Math.ceil(wait / 1000)));
        sendError(res, new MergeshotError('RATE_LIMITED', 'too many wrong API keys from this address'));
        return;
      }
      principal = keys.identify(match[1]!);
      if (!principal) throttle.failed(req.ip);
    } else {
      // The studio's pages call this same API with their session cookie instead of a key.
      const session = options.studio?.session(req);
      // A cookie rides along on any cross-site request: a state-changing call must also carry
      // the token only the studio's own pages know.
      if (session && !['GET', 'HEAD', 'OPTIONS'].includes(req.method) && !options.studio!.checkCsrf(req, session)) {
        sendError(res, new AccessError('CSRF_INVALID', 'missing or wrong X-CSRF-Token header: reload the studio page'));
        return;
      }
      if (session) {
        principal = sessionPrincipal(session, keys);
        res.locals.rateKey = `session:${session.id.slice(0, 12)}`;
      }
    }
    if (!principal) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      sendError(res, new AccessError('UNAUTHORIZED', 'missing or unknown API key'));
      return;
    }
    res.locals.principal = principal;
    res.locals.rateKey ??= `key:${principal.name}`;
    next();
  });

  router.use(
    rateLimit({
      windowMs: 60_000,
      limit: config.server.apiRequestsPerMinute,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      keyGenerator: (_req, res) => String(res.locals.rateKey),
      handler: (_req, res) => sendError(res, new MergeshotError('RATE_LIMITED', 'too many API requests for this key')),
    }),
  );

  router.use(authorizeRoute);

  const json = express.json({ limit: config.server.bodyMaxBytes });
  options.events?.mount(router);
  options.queues?.mount(router);

  router.post('/render', json, async (req, res) => {
    const body = parse(renderBody, req.body, 'body');
    const template = await images.template(body.template);
    const target = images.target(template, { preset: body.preset, size: body.size });
    const image = images.prepare(target, body.data);
    let entry = images.peek(image.key) ?? (await images.lookup(image.key));
    res.setHeader('X-Mergeshot-Cache', entry ? 'hit' : 'miss');
    if (entry) metrics.cacheHits.inc();
    else {
      metrics.cacheMisses.inc();
      const started = performance.now();
      entry = await images.render(image).promise;
      res.setHeader('Server-Timing', `render;dur=${Math.round(performance.now() - started)}`);
    }
    res.locals.log = { template: template.id, preset: target.preset, size: target.size.name };
    res.status(200);
    res.setHeader('Content-Type', entry.meta.contentType);
    res.setHeader('Content-Length', String(entry.bytes.length));
    res.setHeader('ETag', `"${image.key}"`);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Mergeshot-Warnings', (entry.meta.warnings ?? []).join(','));
    res.end(entry.bytes);
  });

  router.get('/templates', async (_req, res) => {
    const ids = await pipeline.registry.list();
    const templates = [];
    for (const id of ids) {
      try {
        templates.push(summary(await images.template(id)));
      } catch (error) {
        templates.push({ id, error: { code: error instanceof MergeshotError ? error.code : 'INTERNAL' } });
      }
    }
    res.json({ templates });
  });

  router.get('/templates/:id', async (req, res) => {
    const template = await images.template(req.params.id);
    const { manifest } = template;
    res.json({
      ...summary(template),
      fields: manifest.fields,
      samples: manifest.samples ?? {},
      alt: manifest.alt,
      locale: manifest.locale,
      maxAge: manifest.maxAge ?? config.server.maxAgeSeconds,
      presets: Object.fromEntries(Object.entries(pipeline.presets).map(([name, preset]) => [name, { format: preset.format, description: preset.description }])),
    });
  });

  router.post('/purge', json, async (req, res) => {
    const body = parse(purgeBody, req.body ?? {}, 'body');
    if (body.template !== undefined) await images.template(body.template);
    const purged = await images.store.purge({ template: body.template });
    // Purge also re-reads templates, for servers running with watchTemplates off.
    images.invalidateTemplates();
    res.json({ purged, template: body.template ?? null });
  });

  // studio feature routes: each in its own file, taking `parse`/`recordSchema` from
  // ./requestSchemas.js (importing them from this file would make an import cycle).
  mountStudioRoutes(router, { config, pipeline, images, signer: options.signer, tokens: options.tokens });
  mountVisualRoutes(router, { pipeline, images });

  if (batches) batches.mount(router);
  else router.all('/batches{/*rest}', (_req, res) => sendError(res, httpError('NOT_FOUND', 'batches are not enabled')));

  router.use((_req, res) => sendError(res, httpError('NOT_FOUND')));
  assertEveryRouteScoped(router);
  return router;
}

function summary(template: LoadedTemplate) {
  const { manifest } = template;
  return {
    id: template.id,
    name: manifest.name,
    description: manifest.description,
    version: template.version,
    width: manifest.width,
    height: manifest.height,
    sizes: manifest.sizes ?? {},
    access: manifest.access ?? 'open',
    defaultPreset: manifest.defaultPreset,
    fields: Object.keys(manifest.fields),
  };
}

