/**
 * The pipeline: record → normalize + fallbacks → resolve images → merge → render → encode.
 *
 * Ownership tree (each owner closes its children in reverse creation order, idempotently):
 *   front end (CLI, server) → Pipeline
 *     Pipeline → { BrowserSupervisor, PagePool, ImageFetcher, StaticResolver, TemplateRegistry }
 *   A page lease belongs to one render call (PagePool.use); a deadline belongs to one render.
 * The pipeline never imports a front end, installs signal handlers or exits the process.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createImageFetcher, cropOf, StaticResolver, type ImageFetcher } from '../assets/index.js';
import type { MergeshotConfig } from '../config/index.js';
import { mapRecord, normalizeRecord, type FieldValue, type NormalizedRecord, type NormalizeResult } from '../data/index.js';
import { encodeImage, renderScaleFor, resolvePresets, type Preset } from '../encode/index.js';
import { isMergeshotError, RenderError, type RenderWarning } from '../errors/index.js';
import { BrowserSupervisor, formatCodePoints, GlyphCoverage, pageOrigin, PagePool, renderPage, systemFontFiles, type FontLoader, type PageCapture, type PageRenderRequest, type RequestHandler } from '../render/index.js';
import { mergeDocument, TemplateRegistry, type LoadedTemplate } from '../template/index.js';
import { targetOf } from './target.js';
import type { Measurement, PreparedRecord, RenderRequest, RenderResult } from './types.js';

export interface PipelineStats {
  readonly renders: number;
  /** Records measured without a capture (preflight). */
  readonly measures: number;
  readonly failures: number;
  readonly warmSwaps: number;
  readonly browserLaunches: number;
  readonly browserRestarts: number;
  readonly pagesInUse: number;
  readonly queueDepth: number;
}

export interface Pipeline {
  readonly config: Readonly<MergeshotConfig>;
  readonly registry: TemplateRegistry;
  readonly presets: Readonly<Record<string, Preset>>;
  renderOne(request: RenderRequest): Promise<RenderResult>;
  /**
   * Everything renderOne does up to the settled page (normalize, fetch images through the same
   * guard, merge, lay out, fit, measure), without the capture and the encode: what a record
   * would render as, several times cheaper. Same deadline, same errors.
   */
  measure(request: RenderRequest): Promise<Measurement>;
  /**
   * Maps values to the template's fields and normalizes them exactly as renderOne will, so a
   * front end can derive a cache key from the same record before rendering.
   */
  normalize(template: LoadedTemplate, data: Readonly<Record<string, unknown>>, map?: Readonly<Record<string, string>>): NormalizeResult;
  /** normalize() as a PreparedRecord, which renderOne accepts in place of the data. */
  prepare(template: LoadedTemplate, data: Readonly<Record<string, unknown>>, map?: Readonly<Record<string, string>>): PreparedRecord;
  /** Opens Chromium and the warm pages ahead of the first render. */
  warm(): Promise<void>;
  stats(): PipelineStats;
  /** The supervised Chromium's pid (Linux), for diagnostics. */
  browserPid(): Promise<number | undefined>;
  browserVersion(): Promise<{ path: string; source: string; version: string }>;
  close(): Promise<void>;
}

export interface PipelineOptions {
  readonly onWarning?: (message: string) => void;
}

/** How many times a render is retried after Chromium crashed under it. */
const crashRetries = 1;

export function createPipeline(config: Readonly<MergeshotConfig>, options: PipelineOptions = {}): Pipeline {
  const presets = resolvePresets(config.presets);
  const registry = new TemplateRegistry({ templatesDir: config.templatesDir, stylesDir: config.stylesDir });
  const statics = new StaticResolver({ stylesDir: config.stylesDir });
  const fetcher: ImageFetcher = createImageFetcher({ timeoutMs: config.fetch.timeoutMs, maxBytes: config.fetch.maxBytes, maxPixels: config.fetch.maxPixels, allowHosts: config.fetch.allowHosts });
  const supervisor = new BrowserSupervisor({ executablePath: config.render.chromiumPath, launchTimeoutMs: config.render.launchTimeoutMs, closeTimeoutMs: config.render.closeTimeoutMs, onWarning: options.onWarning });
  const pool = new PagePool(supervisor, { size: config.render.pages, acquireTimeoutMs: config.render.timeoutMs, maxQueue: config.render.maxQueue, recycleAfter: config.render.recycleAfter });
  const glyphs = new GlyphCoverage({ systemFonts: systemFontFiles() });
  /** The version of each template the static files in `statics` were read for. */
  const staticsVersions = new Map<string, string>();
  const shutdown = new AbortController();
  const counters = { renders: 0, measures: 0, failures: 0, warmSwaps: 0 };
  let closing: Promise<void> | undefined;

  function renderOne(request: RenderRequest): Promise<RenderResult> {
    return underDeadline(request, 'renders', (signal) => runStages(request, signal));
  }

  function measure(request: RenderRequest): Promise<Measurement> {
    return underDeadline(request, 'measures', async (signal) => {
      const { record, warnings, merged, capture } = await stagesToPage(request, signal, true);
      return { record, warnings, alt: merged.alt, fitted: capture.report.fitted ?? [] };
    });
  }

  /** One render's deadline, joined with shutdown and the caller's signal; counted once. */
  async function underDeadline<T>(request: RenderRequest, counter: 'renders' | 'measures', work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (shutdown.signal.aborted) throw new RenderError('ABORTED', 'the pipeline is closed');
    const deadline = AbortSignal.timeout(config.render.timeoutMs);
    const signal = AbortSignal.any([deadline, shutdown.signal, ...(request.signal ? [request.signal] : [])]);
    try {
      const result = await work(signal);
      counters[counter] += 1;
      return result;
    } catch (error) {
      counters.failures += 1;
      if (deadline.aborted && !isMergeshotError(error)) throw new RenderError('RENDER_TIMEOUT', `the render exceeded ${config.render.timeoutMs} ms`, {}, { cause: error });
      throw error;
    }
  }

  function normalize(template: LoadedTemplate, data: Readonly<Record<string, unknown>>, map?: Readonly<Record<string, string>>): NormalizeResult {
    const fields = template.manifest.fields;
    return normalizeRecord(fields, mapRecord(fields, data, map), { locale: template.manifest.locale, defaultMaxLength: config.data.maxLength });
  }

  function prepare(template: LoadedTemplate, data: Readonly<Record<string, unknown>>, map?: Readonly<Record<string, string>>): PreparedRecord {
    return { templateDir: template.dir, templateVersion: template.version, ...normalize(template, data, map) };
  }

  async function runStages(request: RenderRequest, signal: AbortSignal): Promise<RenderResult> {
    const { template, presetName, preset, size, record, warnings, merged, capture, retries, lap, timings } = await stagesToPage(request, signal, false);
    const encoded = await encodeImage(capture.image, preset, { signal });
    warnings.push(...encoded.warnings);
    const encodeMs = lap();

    return {
      bytes: encoded.bytes,
      contentType: encoded.contentType,
      format: encoded.format,
      width: encoded.width,
      height: encoded.height,
      alt: merged.alt,
      record,
      warnings,
      template: { id: template.id, version: template.version },
      preset: presetName,
      size: size.name,
      timings: { ...timings, encodeMs },
      retries,
      codes: merged.codes,
      ...(capture.inspection ? { inspection: { ...capture.inspection, brokenImages: capture.report.brokenImages } } : {}),
    };
  }

  /** Every stage up to the settled page; `measureOnly` skips the capture (Pipeline.measure). */
  async function stagesToPage(request: RenderRequest, signal: AbortSignal, measureOnly: boolean) {
    const template = await registry.get(request.template);
    // An edit of a template's files or of a shared stylesheet gives it a new version: the files
    // cached for the old one (its CSS, images, the styles) must not reach the new one's render.
    const staticsVersion = staticsVersions.get(template.dir);
    if (staticsVersion !== template.version) {
      if (staticsVersion !== undefined) statics.clear();
      staticsVersions.set(template.dir, template.version);
    }
    const { presetName, preset, size } = targetOf({ config, presets }, template, { preset: request.preset, size: request.size });
    const warnings: RenderWarning[] = [];
    let mark = performance.now();
    const lap = () => {
      const now = performance.now();
      const elapsed = now - mark;
      mark = now;
      return Math.round(elapsed * 10) / 10;
    };

    const prepared = request.prepared;
    const normalized = prepared && prepared.templateDir === template.dir && prepared.templateVersion === template.version ? prepared : normalize(template, request.data ?? {}, request.map);
    warnings.push(...normalized.warnings);
    const normalizeMs = lap();

    const scale = renderScaleFor(preset, size.width, size.height);
    const images = new Map<string, { body: Buffer; contentType: string }>();
    const record = await resolveImages(template, normalized.record, { width: size.width * scale, height: size.height * scale }, images, warnings, signal);
    const assetsMs = lap();

    const merged = mergeDocument(template, record, { size: size.name });
    warnings.push(...merged.warnings);
    const mergeMs = lap();

    const lossless = preset.format === 'png' || (preset.format === 'webp' && preset.lossless === true);
    const templatePrefix = `/t/${encodeURIComponent(template.id)}/`;
    const resources: RequestHandler = async (url) => images.get(url.pathname) ?? (await statics.resolve(url, templatePrefix, template.dir));
    const documentKey = `${template.dir}\0${template.version}\0${merged.size.name}\0${createHash('sha1').update(merged.head).digest('hex')}`;
    const { capture, retries } = await renderWithRetry({ documentKey, documentPath: templatePrefix, head: merged.head, body: merged.body, width: merged.size.width, height: merged.size.height, scale, capture: lossless ? { format: 'png' } : { format: 'jpeg', quality: 95 }, resources, listFaces: !glyphs.knows(documentKey), inspect: request.inspect && !measureOnly ? { values: inspectValues(record) } : undefined, measureOnly, signal });
    warnings.push(...(await missingGlyphs(template, record, documentKey, capture, resources)));
    for (const { field, px } of capture.report.overflow) warnings.push({ code: 'overflow', field, message: `field "${field}" overflows its box by ${px} px` });
    for (const field of capture.report.brokenImages) warnings.push({ code: 'image-failed', field, message: `an image in "${field}" could not be decoded by the page` });
    for (const origin of new Set(capture.blocked.map((url) => `${url.protocol}//${url.host}`))) {
      warnings.push({ code: 'request-blocked', field: origin, message: `the page requested a resource from ${origin} that is not allowed; it was refused` });
    }
    if (capture.warm) counters.warmSwaps += 1;
    const renderMs = lap();
    return { template, presetName, preset, size, record, warnings, merged, capture, retries, lap, timings: { normalizeMs, assetsMs, mergeMs, renderMs } };
  }

  /**
   * Image fields are fetched by Node, never by Chromium: each becomes a same-origin path the
   * page's request handler answers from `images`. A failure falls back to the field's fallback.
   */
  async function resolveImages(
    template: LoadedTemplate,
    record: NormalizedRecord,
    slot: { width: number; height: number },
    images: Map<string, { body: Buffer; contentType: string }>,
    warnings: RenderWarning[],
    signal: AbortSignal,
  ): Promise<NormalizedRecord> {
    const out: Record<string, FieldValue> = { ...record };
    await Promise.all(
      Object.entries(template.manifest.fields)
        .filter(([name, spec]) => spec.type === 'image' && typeof record[name] === 'string' && /^(https?:|data:)/i.test(record[name] as string))
        .map(async ([name, spec]) => {
          try {
            const image = await fetcher.fetch(record[name] as string, { signal, maxWidth: Math.min(4000, slot.width), maxHeight: Math.min(4000, slot.height), crop: cropOf(spec) });
            const path = `/img/${name}-${createHash('sha1').update(image.bytes).digest('hex').slice(0, 12)}`;
            images.set(path, { body: image.bytes, contentType: image.contentType });
            out[name] = path;
          } catch (error) {
            if (signal.aborted) throw error;
            const fallback = typeof spec.fallback === 'string' && !/^(https?:|data:)/i.test(spec.fallback) ? spec.fallback : null;
            out[name] = fallback;
            const reason = isMergeshotError(error) ? error.message : 'unknown error';
            warnings.push({ code: 'image-failed', field: name, message: `image for "${name}" not used (${reason}); ${fallback ? 'fallback used' : 'left empty'}` });
          }
        }),
    );
    return out;
  }

  async function renderWithRetry(request: PageRenderRequest): Promise<{ capture: PageCapture; retries: number }> {
    for (let attempt = 0; ; attempt++) {
      try {
        const capture = await pool.use(request.signal, (page) => renderPage(page, request));
        return { capture, retries: attempt };
      } catch (error) {
        if (request.signal.aborted || attempt >= crashRetries || !isBrowserCrash(error)) throw wrapRenderError(error);
      }
    }
  }

  /**
   * Text values with characters no font of the page has (they would show as boxes). Checked on
   * the values as rendered (after fallbacks); the warning names code points, never the value.
   */
  async function missingGlyphs(template: LoadedTemplate, record: NormalizedRecord, documentKey: string, capture: PageCapture, resources: RequestHandler): Promise<RenderWarning[]> {
    const load: FontLoader = async (src) => {
      if (src.startsWith('data:')) return dataUrlBytes(src);
      return (await resources(new URL(src, pageOrigin)))?.body;
    };
    const warnings: RenderWarning[] = [];
    for (const [field, spec] of Object.entries(template.manifest.fields)) {
      const value = record[field];
      if ((spec.type !== 'text' && spec.type !== 'enum') || typeof value !== 'string' || value === '') continue;
      const missing = await glyphs.uncovered(documentKey, capture.faces, value, load);
      if (missing.length > 0) {
        warnings.push({ code: 'missing-glyph', field, message: `field "${field}" has ${missing.length} character${missing.length === 1 ? '' : 's'} no font of the page can draw (${formatCodePoints(missing)}); ${missing.length === 1 ? 'it renders' : 'they render'} as empty boxes` });
      }
    }
    return warnings;
  }

  return {
    config,
    registry,
    presets,
    renderOne,
    measure,
    normalize,
    prepare,
    warm: () => pool.warm(),
    stats: () => ({ ...counters, browserLaunches: supervisor.stats.launches, browserRestarts: supervisor.stats.restarts, pagesInUse: pool.inUse, queueDepth: pool.waiting }),
    browserPid: () => supervisor.pid(),
    browserVersion: async () => {
      const browser = await supervisor.browser();
      return { path: supervisor.executable?.path ?? '', source: supervisor.executable?.source ?? '', version: browser.version() };
    },
    close: () =>
      (closing ??= (async () => {
        shutdown.abort(new RenderError('ABORTED', 'the pipeline is closing'));
        await pool.close();
        await supervisor.close();
        await fetcher.close();
        statics.clear();
      })()),
  };
}

/** The record's non-empty values as text, for an inspected page to map text to its field. */
function inspectValues(record: NormalizedRecord): [string, string][] {
  return Object.entries(record).flatMap(([field, value]) => (typeof value === 'string' || typeof value === 'number') && String(value).trim() !== '' ? [[field, String(value).trim()] as [string, string]] : []);
}

/** The bytes of a base64 or percent-encoded data: URL (a template's inline font). */
function dataUrlBytes(url: string): Buffer | undefined {
  const comma = url.indexOf(',');
  if (comma < 0) return undefined;
  const payload = url.slice(comma + 1);
  if (url.slice(0, comma).endsWith(';base64')) return Buffer.from(payload, 'base64');
  try {
    return Buffer.from(decodeURIComponent(payload), 'latin1');
  } catch {
    return undefined; // malformed: the page could not read it either
  }
}

/** Crashes are classified where they enter (PagePool.use, the supervisor), by type and state. */
function isBrowserCrash(error: unknown): boolean {
  return isMergeshotError(error) && (error.code === 'BROWSER_CRASHED' || error.code === 'BROWSER_UNAVAILABLE');
}

function wrapRenderError(error: unknown): Error {
  if (isMergeshotError(error)) return error;
  const message = error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error);
  return new RenderError('RENDER_FAILED', `the render failed: ${message}`, {}, { cause: error });
}
