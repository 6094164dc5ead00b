import express, { type Router } from 'express';
import { z } from 'zod';
import type { Pipeline } from '../../pipeline/index.js';
import { imageKinds, VisualReview, type CaseReview, type TemplateReview } from '../../visual/index.js';
import type { ImageService } from '../images.js';
import { parse } from './requestSchemas.js';

/**
 * The visual review under /api (the studio's "Visual review", any API client alike):
 *   GET  /api/templates/<id>/visual                       the suite's verdict per image, as JSON
 *   GET  /api/templates/<id>/visual/<case>/<kind>.png     expected (the golden), actual, diff
 *   POST /api/templates/<id>/visual/accept                {"cases": [...]} or {"all": true}
 * Accepting writes what `npm run test:templates -- --update-snapshots` writes (src/visual).
 * The review renders every case once per template version and keeps bounded memory; it is
 * owned by this router and borrows the server's pipeline.
 */

export interface VisualRouteOptions {
  readonly pipeline: Pipeline;
  readonly images: ImageService;
  /** Memory for renders and diffs (src/visual's default when absent). */
  readonly maxBytes?: number;
}

/** `<sample>.<size>.<preset>`: file-name-safe segments (src/visual/templateCases.ts). */
const caseName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9][A-Za-z0-9_-]*){2}$/, 'must be a visual test name: <sample>.<size>.<preset>, e.g. "typical.default.original"').max(300);

const imageParams = z.object({ case: caseName, kind: z.enum(imageKinds) });

const acceptBody = z
  .strictObject({
    cases: z.array(caseName).min(1, 'must name at least one visual test').max(1000).optional(),
    all: z.literal(true, 'must be true (accept every image of the template)').optional(),
  })
  .refine((body) => (body.cases === undefined) !== (body.all === undefined), 'send either "cases": ["<sample>.<size>.<preset>", …] or "all": true, not both and not neither');

export function mountVisualRoutes(router: Router, options: VisualRouteOptions): void {
  const { images } = options;
  const review = new VisualReview({ pipeline: options.pipeline, ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }) });
  const json = express.json({ limit: 64 * 1024 });

  router.get('/templates/:id/visual', async (req, res) => {
    const template = await images.template(req.params.id);
    res.locals.log = { template: template.id };
    res.setHeader('Cache-Control', 'no-store');
    res.json(withUrls(await review.review(template)));
  });

  router.get('/templates/:id/visual/:case/:kind.png', async (req, res) => {
    const params = parse(imageParams, req.params, 'path');
    const template = await images.template(req.params.id);
    res.locals.log = { template: template.id };
    const bytes = await review.image(template, params.case, params.kind);
    res.setHeader('Content-Type', 'image/png');
    res.setHeader('Content-Length', String(bytes.length));
    // The golden changes on accept and the render on edit, under the same URL.
    res.setHeader('Cache-Control', 'no-store');
    res.end(bytes);
  });

  router.post('/templates/:id/visual/accept', json, async (req, res) => {
    const body = parse(acceptBody, req.body ?? {}, 'body');
    const template = await images.template(req.params.id);
    res.locals.log = { template: template.id };
    const result = await review.accept(template, body.all ? 'all' : (body.cases ?? []));
    res.setHeader('Cache-Control', 'no-store');
    res.json({ ...result, review: withUrls(result.review) });
  });
}

/** Each case with the URLs of its images; `?v=` is the image's hash, so a changed image is a new URL. */
function withUrls(review: TemplateReview): TemplateReview & { readonly cases: readonly (CaseReview & { readonly urls: Readonly<Record<string, string>> })[] } {
  const base = `/api/templates/${encodeURIComponent(review.template)}/visual`;
  return {
    ...review,
    cases: review.cases.map((entry) => ({
      ...entry,
      urls: Object.fromEntries(Object.entries(entry.images).map(([kind, hash]) => [kind, `${base}/${encodeURIComponent(entry.name)}/${kind}.png?v=${hash}`])),
    })),
  };
}
