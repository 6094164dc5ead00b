import { RenderError } from '../errors/index.js';
import { screenOrigin } from './browser.js';
import { settleScript, type SettleReport } from './fit.js';
import type { PageFontFace } from './glyphCoverage.js';
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
  const report = (await race(signal, pooled.page.evaluate(`(${settleScript})(${JSON.stringify({ body: warm ? request.body : undefined, faces: request.listFaces === true })})`))) as SettleReport;
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
  const refusedByPolicy = report.violations.flatMap((uri) => (URL.canParse(uri) ? [new URL(uri)] : []));
  return { image: Buffer.from(shot.data, 'base64'), report, faces: report.faces, blocked: [...pooled.blocked, ...refusedByPolicy], warm };
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
