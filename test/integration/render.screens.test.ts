import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPage, screenOrigin, type PooledPage } from '../../src/render/index.js';
import { testPages, type TestPages } from '../support/pipeline.js';

/**
 * A page that renders at scale 2 sits on Chromium's 2× headless screen, so the screenshot does
 * not re-raster it at another scale (see screenOrigin). If a Chromium update dropped
 * --screen-info, renders would stay correct but slow: these tests are what would notice.
 */
let pages: TestPages;

beforeAll(() => {
  pages = testPages();
});

afterAll(async () => {
  await pages.close();
});

function render(page: PooledPage, scale: number) {
  return renderPage(page, {
    documentKey: 'screens',
    documentPath: '/t/screens/',
    head: '<!doctype html><html><head><meta charset="utf-8"></head>',
    body: '<body style="margin:0;background:#1e3a8a"><p style="margin:0;color:#fff;font:20px sans-serif">scale</p></body>',
    width: 300,
    height: 150,
    scale,
    capture: { format: 'png' },
    resources: async () => undefined,
    signal: AbortSignal.timeout(30_000),
  });
}

/** The scale factor of the screen the window is on, without emulation. */
async function screenScale(page: PooledPage): Promise<number> {
  await page.cdp.send('Emulation.clearDeviceMetricsOverride');
  page.metricsKey = undefined; // the next render sets its metrics again
  return (await page.cdp.send('Runtime.evaluate', { expression: 'devicePixelRatio', returnByValue: true })).result.value as number;
}

describe('render screens', () => {
  it('puts a page on the screen of its scale factor, and back', async () => {
    await pages.pool.use(AbortSignal.timeout(60_000), async (page) => {
      for (const scale of [2, 1, 3, 2]) {
        const capture = await render(page, scale);
        const { width, height } = await sharp(capture.image).metadata();
        expect([width, height]).toEqual([300 * scale, 150 * scale]);
        const { bounds } = (await page.cdp.send('Browser.getWindowForTarget')) as { bounds: { left: number } };
        expect(bounds.left).toBe(screenOrigin(scale)!.left);
        expect(await screenScale(page)).toBe(scale);
      }
    });
  });

  it('renders a scale without a screen of its own by emulation alone', async () => {
    expect(screenOrigin(1.5)).toBeUndefined();
    await pages.pool.use(AbortSignal.timeout(60_000), async (page) => {
      const capture = await render(page, 1.5);
      const { width, height } = await sharp(capture.image).metadata();
      expect([width, height]).toEqual([450, 225]);
    });
  });
});
