import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserSupervisor, PagePool } from '../../src/render/index.js';

/**
 * The pool classifies what goes wrong where it enters, by type and state (never by message
 * text): a wait for a page past acquireTimeoutMs is RENDER_TIMEOUT, a full queue is
 * POOL_QUEUE_FULL, a page whose renderer crashed under the work is BROWSER_CRASHED.
 */
let supervisor: BrowserSupervisor;
/** One page, a 300 ms wait and a queue of one: the limits the first test runs into. */
let pool: PagePool;
/**
 * A second pool on the same browser for the crash: replacing a crashed page takes longer than
 * 300 ms on a loaded machine, and that wait is not what the test is about.
 */
let patient: PagePool;

beforeAll(() => {
  supervisor = new BrowserSupervisor({ launchTimeoutMs: 60_000, closeTimeoutMs: 10_000 });
  pool = new PagePool(supervisor, { size: 1, acquireTimeoutMs: 300, maxQueue: 1, recycleAfter: 100 });
  patient = new PagePool(supervisor, { size: 1, acquireTimeoutMs: 30_000, maxQueue: 4, recycleAfter: 100 });
});

afterAll(async () => {
  await pool.close();
  await patient.close();
  await supervisor.close();
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
    const crash = patient.use(AbortSignal.timeout(30_000), async (page) => {
      void page.cdp.send('Page.crash').catch(() => undefined);
      await page.page.evaluate('new Promise(() => {})');
    });
    await expect(crash).rejects.toMatchObject({ code: 'BROWSER_CRASHED' });
    await expect(patient.use(AbortSignal.timeout(30_000), async (page) => page.page.evaluate('1 + 1'))).resolves.toBe(2);
  });
});
