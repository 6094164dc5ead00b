import genericPool, { type Pool } from 'generic-pool';
import type { BrowserContext, CDPSession, Page, Route } from 'playwright-core';
import { isMergeshotError, RenderError } from '../errors/index.js';
import type { BrowserSupervisor } from './supervisor.js';

/** Answers one request of a page, or refuses it (undefined). */
export type RequestHandler = (url: URL) => Promise<{ body: Buffer; contentType: string; headers?: Record<string, string> } | undefined>;

/** A warm page: its own context (no shared cookies/cache between records), page and CDP session. */
export interface PooledPage {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly cdp: CDPSession;
  /** Renders done on this page, for recycling. */
  uses: number;
  /** Identity of the document currently loaded (template version + head + size), for body swaps. */
  documentKey: string | undefined;
  /** Device metrics currently emulated, to skip redundant overrides. */
  metricsKey: string | undefined;
  /** The page's browser window, looked up when it first moves to another screen (see screenOrigin). */
  windowId: number | undefined;
  /** The request handler of the render that holds the lease; undefined between leases. */
  handler: RequestHandler | undefined;
  /** Requests refused during the current lease. */
  blocked: URL[];
  /** Set when the page's renderer crashed or it threw mid-render: never reused. */
  broken: boolean;
  /** Set by the page's `crash` event: its renderer process died. */
  crashed: boolean;
}

export interface PagePoolOptions {
  readonly size: number;
  readonly acquireTimeoutMs: number;
  readonly maxQueue: number;
  readonly recycleAfter: number;
}

/** The origin every template document is served from; nothing on it exists outside our handler. */
export const pageOrigin = 'http://mergeshot.invalid';

/**
 * A generic-pool of warm pages. Pages are validated on borrow (browser still connected, page
 * not crashed), destroyed rather than returned when a render failed on them, and recycled
 * after `recycleAfter` renders so a slow leak in Chromium cannot grow without bound.
 */
export class PagePool {
  readonly #pool: Pool<PooledPage>;
  readonly #options: PagePoolOptions;
  readonly #supervisor: BrowserSupervisor;
  #inUse = 0;
  #closing = false;

  constructor(supervisor: BrowserSupervisor, options: PagePoolOptions) {
    this.#options = options;
    this.#supervisor = supervisor;
    this.#pool = genericPool.createPool<PooledPage>(
      {
        // generic-pool retries a failed create at once, for as long as anyone waits: pace the
        // retries so a dead browser costs a few attempts a second, not a core.
        create: async () =>
          createPage(supervisor).catch(async (error: unknown) => {
            await new Promise((resolve) => setTimeout(resolve, 250));
            throw error;
          }),
        destroy: async (pooled) => {
          await pooled.context.close().catch(() => undefined);
        },
        validate: async (pooled) => !pooled.broken && !pooled.page.isClosed() && pooled.context.browser()?.isConnected() === true,
      },
      {
        max: options.size,
        min: 0,
        testOnBorrow: true,
        acquireTimeoutMillis: options.acquireTimeoutMs,
        maxWaitingClients: options.maxQueue,
        autostart: false,
      },
    );
  }

  get inUse(): number {
    return this.#inUse;
  }

  get waiting(): number {
    return this.#pool.pending;
  }

  /** Opens the pages ahead of the first render. */
  async warm(): Promise<void> {
    const leases = await Promise.all(Array.from({ length: this.#options.size }, () => this.#acquire(AbortSignal.timeout(this.#options.acquireTimeoutMs))));
    await Promise.all(leases.map((lease) => this.#pool.release(lease)));
  }

  /**
   * Runs `work` on a leased page. The lease never escapes: the page goes back (or is
   * destroyed if the work threw or the page is worn out) whatever happens.
   */
  async use<T>(signal: AbortSignal, work: (page: PooledPage) => Promise<T>): Promise<T> {
    const pooled = await this.#acquire(signal);
    this.#inUse += 1;
    pooled.blocked = [];
    try {
      const result = await work(pooled);
      pooled.uses += 1;
      return result;
    } catch (error) {
      pooled.broken = true;
      throw isMergeshotError(error) ? error : classifyPageError(error, pooled);
    } finally {
      this.#inUse -= 1;
      pooled.handler = undefined;
      if (pooled.broken || pooled.uses >= this.#options.recycleAfter) await this.#pool.destroy(pooled).catch(() => undefined);
      else await this.#pool.release(pooled).catch(() => undefined);
    }
  }

  async #acquire(signal: AbortSignal): Promise<PooledPage> {
    signal.throwIfAborted();
    // generic-pool retries a failing factory forever while its callers wait; start (or fail to
    // start) the browser here first, so a Chromium that cannot run fails the render at once.
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new RenderError('RENDER_TIMEOUT', 'timed out waiting for a free page'));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    let acquiring: Promise<PooledPage> | undefined;
    try {
      const launching = this.#supervisor.browser();
      launching.catch(() => undefined);
      await Promise.race([launching, aborted]);
      // generic-pool refuses a full queue with a plain Error that only its text tells apart:
      // refuse it here first, by the same rule (no page free or to be made, queue at its bound).
      if (this.#closing) throw new RenderError('ABORTED', 'the page pool is closing');
      const pool = this.#pool;
      if (pool.spareResourceCapacity < 1 && pool.available < 1 && pool.pending >= this.#options.maxQueue) {
        throw new RenderError('POOL_QUEUE_FULL', `render queue is full (${this.#options.maxQueue} waiting); retry later or raise render.maxQueue`);
      }
      acquiring = pool.acquire();
      return await Promise.race([acquiring, aborted]);
    } catch (error) {
      // A page that arrives after its caller gave up goes straight back.
      acquiring?.then((late) => this.#pool.release(late), () => undefined);
      if (error instanceof RenderError) throw error;
      // generic-pool's acquireTimeoutMillis rejects with its own TimeoutError class (not exported: known by name).
      if (error instanceof Error && error.name === 'TimeoutError') throw new RenderError('RENDER_TIMEOUT', `no page became free within ${this.#options.acquireTimeoutMs} ms`, {}, { cause: error });
      throw error;
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /** Waits for leased pages to come back, then closes every page. Idempotent. */
  async close(timeoutMs = 30_000): Promise<void> {
    this.#closing = true;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    try {
      await Promise.race([this.#pool.drain().catch(() => undefined), gaveUp]);
      await this.#pool.clear().catch(() => undefined);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * A Playwright error from a render, classified where it enters: by the page's and browser's
 * state and the error's class name, never by its message text. A page whose renderer crashed,
 * a closed page or context, or a disconnected browser is BROWSER_CRASHED (the pipeline retries
 * those once on a new page); anything else stays as it is, for the pipeline to wrap.
 */
function classifyPageError(error: unknown, pooled: PooledPage): unknown {
  const gone = pooled.crashed || pooled.page.isClosed() || pooled.context.browser()?.isConnected() !== true || (error instanceof Error && error.name === 'TargetClosedError');
  return gone ? new RenderError('BROWSER_CRASHED', 'Chromium crashed or disconnected during the render', {}, { cause: error }) : error;
}

const violationRecorder = `document.addEventListener('securitypolicyviolation', (event) => {
  (window.__mergeshotViolations ||= []).push(event.blockedURI);
});`;

async function createPage(supervisor: BrowserSupervisor): Promise<PooledPage> {
  const browser = await supervisor.browser();
  const context = await browser.newContext({ viewport: null, javaScriptEnabled: true, serviceWorkers: 'block', acceptDownloads: false, offline: false });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  const pooled: PooledPage = { context, page, cdp, uses: 0, documentKey: undefined, metricsKey: undefined, windowId: undefined, handler: undefined, blocked: [], broken: false, crashed: false };
  // CSP refuses off-origin requests before they reach the route handler; collect those refusals
  // too, so every refused request is reported. Init scripts run over CDP, outside the page's CSP.
  await context.addInitScript(violationRecorder);
  page.on('crash', () => {
    pooled.broken = true;
    pooled.crashed = true;
  });
  // Every request of the page comes here: answered from memory by the lease's handler, or refused.
  await context.route('**/*', async (route: Route) => {
    const url = new URL(route.request().url());
    const answer = pooled.handler && url.origin === pageOrigin ? await pooled.handler(url).catch(() => undefined) : undefined;
    if (!answer) {
      pooled.blocked.push(url);
      await route.abort('blockedbyclient').catch(() => undefined);
      return;
    }
    await route.fulfill({ status: 200, body: answer.body, contentType: answer.contentType, headers: answer.headers }).catch(() => undefined);
  });
  return pooled;
}
