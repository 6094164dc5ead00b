import { join } from 'node:path';
import sharp from 'sharp';
import { parseConfig, type MergeshotConfigInput } from '../../src/config/index.js';
import { createPipeline, type Pipeline } from '../../src/pipeline/index.js';
import { BrowserSupervisor, PagePool, type PagePoolOptions } from '../../src/render/index.js';

export const repoRoot = join(import.meta.dirname, '../..');
export const fixtureTemplates = join(repoRoot, 'test/fixtures/templates');
export const bundledTemplates = join(repoRoot, 'templates');

/** A real pipeline (real Chromium, real sharp) over the given templates folder; one per test file. */
export function testPipeline(overrides: MergeshotConfigInput = {}): Pipeline {
  const config = parseConfig({ templatesDir: fixtureTemplates, stylesDir: join(repoRoot, 'styles'), ...overrides, render: { pages: 2, ...overrides.render } }, 'test', repoRoot);
  return createPipeline(config);
}

/** Mean RGB of a region of an encoded image, in its own pixels. */
export async function meanColour(image: Buffer, region: { left: number; top: number; width: number; height: number }): Promise<[number, number, number]> {
  const { data, info } = await sharp(image).extract(region).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const sums = [0, 0, 0];
  for (let i = 0; i < data.length; i += info.channels) for (let c = 0; c < 3; c++) sums[c]! += data[i + c]!;
  const n = data.length / info.channels;
  return [Math.round(sums[0]! / n), Math.round(sums[1]! / n), Math.round(sums[2]! / n)];
}

export interface TestPages {
  readonly pool: PagePool;
  close(): Promise<void>;
}

/** One real Chromium with a pool of one page, for tests below the pipeline; one per test file. */
export function testPages(options: Partial<PagePoolOptions> = {}): TestPages {
  const supervisor = new BrowserSupervisor({ launchTimeoutMs: 60_000, closeTimeoutMs: 10_000 });
  const pool = new PagePool(supervisor, { size: 1, acquireTimeoutMs: 30_000, maxQueue: 4, recycleAfter: 100, ...options });
  return {
    pool,
    close: async () => {
      await pool.close();
      await supervisor.close();
    },
  };
}
