import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PagePool } from '../../src/render/index.js';
import { testPages, type TestPages } from '../support/pipeline.js';

/**
 * The pool classifies what goes wrong where it enters, by type and state (never by message
 * text): a wait for a page past acquireTimeoutMs is RENDER_TIMEOUT, a full queue is
 * POOL_QUEUE_FULL, a page whose renderer crashed under the work is BROWSER_CRASHED.
 */
let pages: TestPages;
let pool: PagePool;

beforeAll(() => {
  pages = testPages({ acquireTimeoutMs: 300, maxQueue: 1 });
  pool = pages.pool;
});

afterAll(async () => {
  await pages.close();
});

/** Holds the only page until `release` is called. */
async function holdPage(): Promise<{ release: () => void; done: Promise<void> }> {
  let release!: () => void;
  let started!: () => void;
  const isHeld = new Promise<void>((resolve) => (started = resolve));
  const done = pool.use(AbortSignal.timeout(30_000), async () => {
    started();
    await new Promise<void>((resolve) => (release = resolve));
  });
  await isHeld;
  return { release, done };
}

describe('PagePool errors', () => {
  it('says RENDER_TIMEOUT when no page becomes free within acquireTimeoutMs, and POOL_QUEUE_FULL beyond the queue', async () => {
    const held = await holdPage();
    try {
      const waiting = pool.use(AbortSignal.timeout(30_000), async () => 'late');
      await expect(pool.use(AbortSignal.timeout(30_000), async () => 'refused')).rejects.toMatchObject({ code: 'POOL_QUEUE_FULL', message: expect.stringContaining('render.maxQueue') });
      await expect(waiting).rejects.toMatchObject({ code: 'RENDER_TIMEOUT', message: 'no page became free within 300 ms' });
    } finally {
      held.release();
      await held.done;
    }
    await expect(pool.use(AbortSignal.timeout(30_000), async () => 'free again')).resolves.toBe('free again');
  });

  it('says BROWSER_CRASHED when the page’s renderer dies under the work', async () => {
    const crash = pool.use(AbortSignal.timeout(30_000), async (page) => {
      void page.cdp.send('Page.crash').catch(() => undefined);
      await page.page.evaluate('new Promise(() => {})');
    });
    await expect(crash).rejects.toMatchObject({ code: 'BROWSER_CRASHED' });
    await expect(pool.use(AbortSignal.timeout(30_000), async (page) => page.page.evaluate('1 + 1'))).resolves.toBe(2);
  });
});
