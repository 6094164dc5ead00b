import { isAbsolute, relative } from 'node:path';
import express, { type Router } from 'express';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import type { MergeshotConfig } from '../../config/index.js';
import { isMergeshotError, UsageError } from '../../errors/index.js';
import { readConfined } from '../../files/index.js';
import { extensionOf, type Pipeline } from '../../pipeline/index.js';
import { checkTemplate, edgeCases, inspectRecord, usageOf, type CheckReport } from '../../qa/index.js';
import type { ImageService } from '../images.js';
import { buildMergeTagUrl, espLabels, espNames } from '../mergeTagUrl.js';
import { buildImageUrl, type UrlSigner } from '../signing.js';
import type { TokenCodec } from '../tokens.js';
import { parse, recordSchema } from './requestSchemas.js';

/**
 * The API calls the studio's template page makes (any API client may make them too):
 * - GET  /api/templates/<id>/problem  why the template does not load: file, line and excerpt
 * - GET  /api/templates/<id>/cases    its samples and the generated edge cases of `mergeshot check`
 * - GET  /api/templates/<id>/check    the `mergeshot check` report (cached per template version)
 * - POST /api/templates/<id>/inspect  one record rendered with the check's rendered rules: image + findings
 * - POST /api/templates/<id>/url      the URL builder: merge-tag URL, signed URL or token URL
 * - GET  /api/platforms               the email platforms the URL builder knows
 */

export interface StudioRouteOptions {
  readonly config: Readonly<MergeshotConfig>;
  readonly pipeline: Pipeline;
  readonly images: ImageService;
  readonly signer: UrlSigner;
  readonly tokens: TokenCodec | undefined;
}

const urlBody = z.strictObject({
  mode: z.enum(['merge-tags', 'signed', 'token']).default('merge-tags'),
  esp: z.enum(espNames).default('mailchimp'),
  /** The server's public address as recipients reach it; the request's own origin when absent. */
  base: z.url({ protocol: /^https?$/ }).max(512).optional(),
  preset: z.string().max(64).optional(),
  size: z.string().max(64).optional(),
  /** For signed and token URLs: the one record the URL shows. */
  data: recordSchema.default({}),
});

const checkQuery = z.object({ size: z.string().max(64).optional() });

const inspectBody = z.strictObject({
  /** A sample's name or `generated:<case>`; it names the record in the findings. */
  name: z.string().max(120).default('record'),
  data: recordSchema.default({}),
  size: z.string().max(64).optional(),
});

/** The lines around a problem, numbered, for the studio's error panel. */
const excerptLines = 2;

export function mountStudioRoutes(router: Router, options: StudioRouteOptions): void {
  const { config, pipeline, images } = options;
  // One check report per template version and size; a check renders a dozen records, so
  // concurrent asks share one run.
  const checks = new LRUCache<string, Promise<CheckReport>>({ max: 64 });

  router.get('/templates/:id/problem', async (req, res, next) => {
    try {
      await images.template(req.params.id);
      res.json({ problem: null });
    } catch (error) {
      if (!isMergeshotError(error) || !['TEMPLATE_INVALID', 'MANIFEST_INVALID', 'FILE_OUTSIDE_ROOT'].includes(error.code)) {
        next(error);
        return;
      }
      res.json({ problem: await describeProblem(error.message, error.detail.source, `${config.templatesDir}/${req.params.id}`) });
    }
  });

  router.get('/templates/:id/cases', async (req, res) => {
    const template = await images.template(req.params.id);
    const source = await pipeline.registry.source(template.dir);
    const declared = new Set(Object.keys(template.manifest.fields));
    const used = [...usageOf(source.html, 'template.html').uses, ...usageOf(template.manifest.alt ?? '', 'alt').uses].map((use) => use.field);
    res.json({
      records: [...Object.entries(template.manifest.samples ?? {}).map(([name, data]) => ({ name, data })), ...edgeCases(template.manifest, config.data.maxLength)],
      undeclared: [...new Set(used.filter((field) => !declared.has(field)))].sort(),
    });
  });

  router.get('/templates/:id/check', async (req, res) => {
    const { size } = parse(checkQuery, req.query, 'query');
    const template = await images.template(req.params.id);
    const key = `${template.id}\0${template.version}\0${size ?? ''}`;
    let report = checks.get(key);
    if (!report) {
      report = checkTemplate(pipeline, template.dir, { size });
      checks.set(key, report);
      report.catch(() => checks.delete(key));
    }
    const { dir: _dir, ...body } = await report;
    res.setHeader('Cache-Control', 'no-store');
    res.json(body);
  });

  router.post('/templates/:id/inspect', express.json({ limit: config.server.bodyMaxBytes }), async (req, res) => {
    const body = parse(inspectBody, req.body ?? {}, 'body');
    const template = await images.template(req.params.id);
    const { result, findings } = await inspectRecord(pipeline, template, body, { size: body.size });
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      name: body.name,
      image: `data:${result.contentType};base64,${result.bytes.toString('base64')}`,
      width: result.width,
      height: result.height,
      bytes: result.bytes.length,
      warnings: result.warnings.map(({ code, field, message }) => ({ code, field, message })),
      findings,
    });
  });

  router.get('/platforms', (_req, res) => {
    res.json({ platforms: espNames.map((id) => ({ id, label: espLabels[id] })) });
  });

  router.post('/templates/:id/url', express.json({ limit: config.server.bodyMaxBytes }), async (req, res) => {
    const body = parse(urlBody, req.body ?? {}, 'body');
    const template = await images.template(req.params.id);
    const base = body.base ?? `${req.protocol}://${req.get('host')}`;
    if (body.mode === 'merge-tags') {
      const built = await buildMergeTagUrl(pipeline, template.id, { esp: body.esp, base, preset: body.preset, size: body.size });
      res.json({ mode: body.mode, ...built, length: built.url.length, access: template.manifest.access ?? 'open' });
      return;
    }
    const target = images.target(template, { preset: body.preset, size: body.size });
    const params: [string, string][] = Object.entries(body.data)
      .filter(([, value]) => value !== undefined && value !== null && value !== '')
      .map(([field, value]) => [field, String(value)]);
    if (body.preset) params.push(['preset', target.preset]);
    if (body.size) params.push(['size', target.size.name]);
    let url: string;
    if (body.mode === 'signed') {
      if (!options.signer.canSign) throw new UsageError('USAGE', 'no signing key is configured: set MERGESHOT_SIGNING_KEYS to make signed URLs');
      url = buildImageUrl(base, template.id, extensionOf(target.presetSpec.format), params, options.signer);
    } else {
      if (!options.tokens) throw new UsageError('USAGE', 'no token key is configured: set MERGESHOT_TOKEN_KEY (32 bytes as hex or base64) to make token URLs');
      url = `${base.replace(/\/+$/, '')}/t/${options.tokens.encode({ template: template.id, data: body.data, preset: body.preset, size: body.size })}.${extensionOf(target.presetSpec.format)}`;
    }
    res.json({ mode: body.mode, url, img: `<img src="${url.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}" width="${target.size.width}" alt="">`, note: 'One URL per recipient: make them for a whole list with `mergeshot urls` or the campaign tab.', length: url.length, access: template.manifest.access ?? 'open' });
  });
}

/**
 * "template.html:12: Parse error on line 12: … Expecting 'ID', got 'EOF'" → file, line and the
 * lines around it. Paths are given relative to the template folder: the studio's user knows the
 * template, not the server's disk. The excerpt is read inside the template folder only: a file
 * that is a link out of it (template.html -> /proc/self/environ) gets none.
 */
async function describeProblem(message: string, source: string | undefined, templateDir: string) {
  const path = source?.replace(/:\d+(:\d+)?$/, '');
  const file = path && isAbsolute(path) ? relative(templateDir, path) : path;
  // "file:12: …" (ours), "Parse error on line 12" and "if doesn't match each - 12:6" (Handlebars').
  const line = Number(/:(\d+)(?::\d+)?:/.exec(message)?.[1] ?? /on line (\d+)/i.exec(message)?.[1] ?? / - (\d+):\d+\b/.exec(message)?.[1] ?? Number.NaN);
  const shown = path ? message.split(path).join(file ?? '') : message;
  let excerpt: string | undefined;
  if (file && Number.isInteger(line)) {
    const lines = (await readConfined(templateDir, file, 'utf8').catch(() => '')).split('\n');
    const from = Math.max(1, line - excerptLines);
    excerpt = lines.slice(from - 1, line + excerptLines).map((text, index) => `${String(from + index).padStart(4)} | ${text}`).join('\n');
  }
  return { message: shown, ...(file ? { file } : {}), ...(Number.isInteger(line) ? { line } : {}), ...(excerpt ? { excerpt } : {}) };
}
