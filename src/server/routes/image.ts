import { Router, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { CacheEntry } from '../../cache/index.js';
import type { MergeshotConfig } from '../../config/index.js';
import { AccessError, isMergeshotError, MergeshotError } from '../../errors/index.js';
import type { FallbackImages } from '../fallbackImage.js';
import { sendError } from '../httpErrors.js';
import { isImageExtension, type ImageExtension, type ImageService, type ImageTarget, type PreparedImage } from '../images.js';
import type { ServerMetrics } from '../metrics.js';
import { findRepeatedParam, imagePath, isUnsignedParam, repeatedParamError, signatureParam, type UrlSigner } from '../signing.js';
import type { TokenCodec } from '../tokens.js';

/**
 * GET /i/<template>.<ext>?<field>=<value>…[&preset=][&size=] and GET /t/<token>.<ext>.
 *
 * Never a broken image: once the template, preset and size are known, ANY failure to produce
 * the requested image (render timeout, crash, full queue, bad asset, rate limit, a required
 * field missing) answers 200 with the template's fallback image, `Cache-Control: no-store` and
 * `X-Mergeshot-Fallback: <code>`. Only configuration errors in the URL itself answer an error:
 * unknown template 404, bad or missing signature / token 403, unknown preset or size 400, and on
 * a signed template a parameter given twice 400 (see server/signing.ts).
 */

/** Query parameters that steer the render instead of filling a field. */
const controlParams: ReadonlySet<string> = new Set(['preset', 'size', signatureParam]);

export interface ImageRouteOptions {
  readonly config: Readonly<MergeshotConfig>;
  readonly images: ImageService;
  readonly fallbacks: FallbackImages;
  readonly metrics: ServerMetrics;
  readonly signer: UrlSigner;
  readonly tokens: TokenCodec | undefined;
}

interface LogInfo {
  template?: string;
  preset?: string;
  size?: string;
  cache?: 'hit' | 'miss' | 'shared' | 'not-modified';
  fallback?: string;
}

export function imageRouter(options: ImageRouteOptions): Router {
  const { config, images, fallbacks, metrics, signer, tokens } = options;
  const router = Router();

  // Counts cache misses only (see below): hits are cheap and proxies of large mail providers
  // legitimately send thousands of them from one address.
  const missLimiter = rateLimit({
    windowMs: 60_000,
    limit: config.server.missesPerMinute,
    standardHeaders: false,
    legacyHeaders: false,
    handler: (_req, res, next) => {
      res.locals.rateLimited = true;
      next();
    },
  });
  const allowMiss = (req: Request, res: Response): Promise<boolean> =>
    new Promise((resolve, reject) => {
      void missLimiter(req, res, (error?: unknown) => (error ? reject(error) : resolve(res.locals.rateLimited !== true)));
    });

  const log = (res: Response): LogInfo => (res.locals.log ??= {}) as LogInfo;

  async function answer(req: Request, res: Response, target: ImageTarget, values: Readonly<Record<string, unknown>>): Promise<void> {
    let image: PreparedImage;
    try {
      image = images.prepare(target, values);
    } catch (error) {
      await answerFallback(req, res, target, error);
      return;
    }
    const etag = `"${image.key}"`;
    const maxAge = target.template.manifest.maxAge ?? config.server.maxAgeSeconds;
    if (matchesEtag(req.headers['if-none-match'], etag)) {
      log(res).cache = 'not-modified';
      res.setHeader('ETag', etag);
      res.setHeader('Cache-Control', `public, max-age=${maxAge}`);
      res.status(304).end();
      return;
    }
    const hit = images.peek(image.key) ?? (await images.lookup(image.key));
    if (hit) {
      metrics.cacheHits.inc();
      log(res).cache = 'hit';
      sendImage(res, hit, etag, `public, max-age=${maxAge}`);
      return;
    }
    metrics.cacheMisses.inc();
    if (!(await allowMiss(req, res))) {
      await answerFallback(req, res, target, new MergeshotError('RATE_LIMITED', 'cache misses per address exceeded server.missesPerMinute'));
      return;
    }
    const flight = images.render(image);
    log(res).cache = flight.leader ? 'miss' : 'shared';
    let entry: CacheEntry;
    try {
      entry = await flight.promise;
    } catch (error) {
      await answerFallback(req, res, target, error);
      return;
    }
    sendImage(res, entry, etag, `public, max-age=${maxAge}`);
  }

  async function answerFallback(req: Request, res: Response, target: ImageTarget, error: unknown): Promise<void> {
    const reason = isMergeshotError(error) ? error.code : 'INTERNAL';
    metrics.fallbacks.inc({ reason });
    log(res).fallback = reason;
    // Expected failures are one warn line with the code (the request line); the unexpected keep their cause chain.
    if (!isMergeshotError(error)) req.log?.error({ err: error }, 'unexpected failure on an image route; answering the fallback');
    const entry = await fallbacks.get(target);
    res.setHeader('X-Mergeshot-Fallback', reason);
    sendImage(res, entry, undefined, 'no-store');
  }

  router.get('/i/:file', async (req, res) => {
    const match = /^(.+)\.([a-z]+)$/i.exec(req.params.file);
    const ext = match?.[2]?.toLowerCase();
    if (!match || !ext || !isImageExtension(ext)) {
      sendError(res, new MergeshotError('NOT_FOUND', 'image URLs end in .png, .jpg or .webp'));
      return;
    }
    const templateId = match[1]!;
    try {
      const template = await images.template(templateId);
      log(res).template = template.id;
      const all = queryPairs(req.originalUrl);
      const isSigned = template.manifest.access === 'signed';
      if (isSigned) {
        const path = imagePath(templateId, ext);
        // The signature covers the sorted pairs, the render reads one occurrence: with a name
        // given twice, reordering the query would change the image under the same signature.
        const repeated = findRepeatedParam(all);
        if (repeated !== undefined) {
          req.log?.warn({ template: template.id, reason: 'repeated parameter' }, 'signed template: request refused');
          throw repeatedParamError(path, repeated);
        }
        const signature = all.find(([name]) => name === signatureParam)?.[1];
        if (!signer.verify(path, all, signature)) {
          req.log?.warn({ template: template.id, reason: signature ? 'bad signature' : 'no signature' }, 'signed template: request refused');
          throw new AccessError('SIGNATURE_INVALID', 'missing or invalid signature');
        }
      }
      // Only what the signature covers may steer a signed render: utm_* could otherwise fill a
      // field that folds to the same name (utm_source → utmSource) without breaking the signature.
      const params = isSigned ? all.filter(([name]) => !isUnsignedParam(name)) : all;
      const control = firstValues(params.filter(([name]) => controlParams.has(name)));
      const target = images.target(template, { preset: control.get('preset'), size: control.get('size'), ext });
      Object.assign(log(res), { preset: target.preset, size: target.size.name });
      await answer(req, res, target, fieldValues(params));
    } catch (error) {
      sendError(res, error);
    }
  });

  router.get('/t/:file', async (req, res) => {
    const match = /^([A-Za-z0-9_-]+)\.([a-z]+)$/i.exec(req.params.file);
    const ext = match?.[2]?.toLowerCase();
    if (!match || !ext || !isImageExtension(ext) || !tokens) {
      sendError(res, new MergeshotError('NOT_FOUND', 'no such image'));
      return;
    }
    try {
      const payload = tokens.decode(match[1]!);
      if (!payload) throw new AccessError('TOKEN_INVALID', 'token does not open');
      const template = await images.template(payload.template);
      log(res).template = template.id;
      const target = images.target(template, { preset: payload.preset, size: payload.size, ext: ext as ImageExtension });
      Object.assign(log(res), { preset: target.preset, size: target.size.name });
      await answer(req, res, target, payload.data);
    } catch (error) {
      sendError(res, error);
    }
  });

  return router;
}

function sendImage(res: Response, entry: CacheEntry, etag: string | undefined, cacheControl: string): void {
  res.status(200);
  res.setHeader('Content-Type', entry.meta.contentType);
  res.setHeader('Content-Length', String(entry.bytes.length));
  res.setHeader('Cache-Control', cacheControl);
  if (etag) res.setHeader('ETag', etag);
  res.end(entry.bytes);
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim().replace(/^W\//, '');
    return tag === etag || tag === '*';
  });
}

/** Query parameters in order, decoded (`+` and `%20` alike). */
function queryPairs(url: string): [string, string][] {
  const at = url.indexOf('?');
  return at < 0 ? [] : [...new URLSearchParams(url.slice(at + 1))];
}

/** name → value, the first value of a repeated name winning (only open templates get repeats this far). */
function firstValues(params: readonly (readonly [string, string])[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const [name, value] of params) if (!values.has(name)) values.set(name, value);
  return values;
}

/** Values for the fields: control parameters removed, the first value of a repeated name wins. */
function fieldValues(params: readonly (readonly [string, string])[]): Record<string, string> {
  // fromEntries defines own properties, so "__proto__" stays a (dropped) column name.
  return Object.fromEntries(firstValues(params.filter(([name]) => !controlParams.has(name))));
}
