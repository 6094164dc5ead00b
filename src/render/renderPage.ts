import { RenderError } from '../errors/index.js';
import { screenOrigin } from './browser.js';
import { settleScript, type SettleReport } from './fit.js';
import type { PageFontFace } from './glyphCoverage.js';
import { cleanupScript, inspectScript, transparentScript, type PageInspection, type PageMeasurement, type TransparentLayer } from './inspect.js';
import { pageOrigin, type PooledPage, type RequestHandler } from './pagePool.js';

export interface PageRenderRequest {
  /** Identity of the document's head (template version + size + head hash): equal keys allow a body swap. */
  readonly documentKey: string;
  readonly documentPath: string;
  readonly head: string;
  readonly body: string;
  readonly width: number;
  readonly height: number;
  readonly scale: number;
  /**
   * How Chromium hands the pixels over. PNG for lossless outputs; for lossy ones a JPEG at
   * quality 95 is measured ~1.5× faster end to end (less to encode, copy over CDP and decode)
   * and its loss disappears under the final encode.
   */
  readonly capture: { readonly format: 'png' } | { readonly format: 'jpeg'; readonly quality: number };
  /** Answers the page's requests other than the document itself. */
  readonly resources: RequestHandler;
  /**
   * Whether the page lists the document's @font-face rules (PageCapture.faces). They depend on
   * the document's head alone and cost ~140 ms on a head of ~2,500 faces: the caller asks
   * once per document and remembers them.
   */
  readonly listFaces?: boolean;
  /**
   * Opt-in inspection for `mergeshot check` (inspect.ts): after the capture, measure every text
   * node and capture the page once per field with that field's text transparent. `values` are
   * the merged values by field, to map text outside any [data-field] element to its field.
   * Absent on every normal render, which then runs exactly as before.
   */
  readonly inspect?: { readonly values: readonly (readonly [string, string])[] } | undefined;
  /** Settle and measure only (preflight): no screenshot; the capture's image is empty. */
  readonly measureOnly?: boolean | undefined;
  readonly signal: AbortSignal;
}

export interface PageCapture {
  /** PNG or JPEG straight from Chromium (as requested), width × scale by height × scale pixels. */
  readonly image: Buffer;
  readonly report: SettleReport;
  /** The document's @font-face rules, when the request asked for them. */
  readonly faces?: readonly PageFontFace[];
  readonly blocked: readonly URL[];
  /** True when the body was swapped into a warm document instead of loading a new one. */
  readonly warm: boolean;
  /** Only when the request asked for it. */
  readonly inspection?: PageInspection;
}

const documentCsp = [
  "default-src 'self' data:",
  "script-src 'none'", // templates carry no scripts; our runtime is evaluated over CDP, which CSP does not govern
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * One render on a leased page: load or warm-swap the document, settle (fonts, images, fitting),
 * capture. Each await loses to the deadline; a page interrupted mid-render is marked broken by
 * the pool and never reused.
 */
export async function renderPage(pooled: PooledPage, request: PageRenderRequest): Promise<PageCapture> {
  const { signal } = request;
  const documentUrl = `${pageOrigin}${request.documentPath}`;
  const fullHtml = request.head + request.body;
  pooled.handler = async (url) => {
    if (url.pathname === request.documentPath) {
      return { body: Buffer.from(fullHtml), contentType: 'text/html; charset=utf-8', headers: { 'content-security-policy': documentCsp } };
    }
    return request.resources(url);
  };

  const metricsKey = `${request.width}x${request.height}@${request.scale}`;
  if (pooled.metricsKey !== metricsKey) {
    pooled.metricsKey = undefined;
    await race(signal, moveToScreen(pooled, request.scale));
    await race(signal, pooled.cdp.send('Emulation.setDeviceMetricsOverride', { width: request.width, height: request.height, deviceScaleFactor: request.scale, mobile: false }));
    pooled.metricsKey = metricsKey;
  }

  const warm = pooled.documentKey === request.documentKey;
  if (!warm) {
    pooled.documentKey = undefined;
    await race(signal, pooled.page.goto(documentUrl, { waitUntil: 'load' }));
    pooled.documentKey = request.documentKey;
  }
  const report = (await race(signal, pooled.page.evaluate(`(${settleScript})(${JSON.stringify({ body: warm ? request.body : undefined, faces: request.listFaces === true, fitted: request.measureOnly === true })})`))) as SettleReport;
  const refusedByPolicy = report.violations.flatMap((uri) => (URL.canParse(uri) ? [new URL(uri)] : []));
  if (request.measureOnly) return { image: Buffer.alloc(0), report, faces: report.faces, blocked: [...pooled.blocked, ...refusedByPolicy], warm };
  const shot = (await race(
    signal,
    pooled.cdp.send('Page.captureScreenshot', {
      ...request.capture,
      // Chromium's default PNG compression costs ~150 ms an image; sharp re-encodes anyway.
      optimizeForSpeed: true,
      clip: { x: 0, y: 0, width: request.width, height: request.height, scale: 1 },
      captureBeyondViewport: false,
    }),
  )) as { data: string };
  const image = Buffer.from(shot.data, 'base64');
  const inspection = request.inspect ? await inspectPage(pooled, request, request.capture.format === 'png' ? image : undefined) : undefined;
  return { image, report, faces: report.faces, blocked: [...pooled.blocked, ...refusedByPolicy], warm, ...(inspection ? { inspection } : {}) };
}

/**
 * The inspection of a settled page (inspect.ts): measurements, then one lossless capture per
 * group of text (each field, and the template's own copy) with that text transparent.
 */
async function inspectPage(pooled: PooledPage, request: PageRenderRequest, png: Buffer | undefined): Promise<PageInspection> {
  const { signal } = request;
  const capturePng = async (clip: { x: number; y: number; width: number; height: number }) => {
    const shot = (await race(signal, pooled.cdp.send('Page.captureScreenshot', { format: 'png', optimizeForSpeed: true, clip: { ...clip, scale: 1 }, captureBeyondViewport: false }))) as { data: string };
    return Buffer.from(shot.data, 'base64');
  };
  const measurement = (await race(signal, pooled.page.evaluate(`(${inspectScript})(${JSON.stringify(request.inspect?.values ?? [])})`))) as PageMeasurement;
  const base = png ?? (await capturePng({ x: 0, y: 0, width: request.width, height: request.height }));
  const groups = new Map<string | null, { x0: number; y0: number; x1: number; y1: number; indices: number[] }>();
  for (const { rect, field, index } of measurement.texts) {
    if (rect.width <= 0) continue;
    // Padded by 2 px for anti-aliasing, on whole CSS px so the clip maps onto device pixels.
    const x0 = Math.max(0, Math.floor(rect.x) - 2), y0 = Math.max(0, Math.floor(rect.y) - 2);
    const x1 = Math.min(request.width, Math.ceil(rect.x + rect.width) + 2), y1 = Math.min(request.height, Math.ceil(rect.y + rect.height) + 2);
    const group = groups.get(field);
    if (!group) groups.set(field, { x0, y0, x1, y1, indices: [index] });
    else Object.assign(group, { x0: Math.min(group.x0, x0), y0: Math.min(group.y0, y0), x1: Math.max(group.x1, x1), y1: Math.max(group.y1, y1), indices: [...group.indices, index] });
  }
  const layers: TransparentLayer[] = [];
  try {
    for (const [field, { x0, y0, x1, y1, indices }] of groups) {
      if (x1 <= x0 || y1 <= y0) continue;
      const clip = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
      await race(signal, pooled.page.evaluate(`(${transparentScript})(${JSON.stringify(indices)})`));
      layers.push({ field, clip, image: await capturePng(clip) });
    }
  } finally {
    // Left with the injected style or highlight, the page must not serve a warm body swap.
    const cleaned = await pooled.page.evaluate(`(${cleanupScript})()`).then(() => true, () => false);
    if (!cleaned) pooled.documentKey = undefined;
  }
  return { ...measurement, base, layers };
}

/**
 * Puts the page's window on the screen whose scale factor is `scale` (see screenOrigin). Only
 * a speed-up: emulation alone renders the same layout at the same size, so a Chromium without
 * our screens (an explicit MERGESHOT_CHROMIUM that ignores --screen-info) stays where it is.
 */
async function moveToScreen(pooled: PooledPage, scale: number): Promise<void> {
  const origin = screenOrigin(scale);
  if (!origin) return;
  try {
    pooled.windowId ??= ((await pooled.cdp.send('Browser.getWindowForTarget')) as { windowId: number }).windowId;
    await pooled.cdp.send('Browser.setWindowBounds', { windowId: pooled.windowId, bounds: origin });
  } catch (error) {
    if (pooled.page.isClosed()) throw error;
  }
}

function race<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  work.catch(() => undefined); // a late failure of abandoned work is not unhandled
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort!));
}

function abortError(signal: AbortSignal): RenderError {
  const reason: unknown = signal.reason;
  if (reason instanceof RenderError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') return new RenderError('RENDER_TIMEOUT', 'the render exceeded its deadline');
  return new RenderError('ABORTED', 'the render was cancelled');
}
