import sharp from 'sharp';
import type { Manifest } from '../template/index.js';

export type VisualCheck = NonNullable<NonNullable<Manifest['check']>['visual']>;
export type VisualMask = NonNullable<VisualCheck['masks']>[number];

/** Playwright's comparison options, as toMatchSnapshot receives them from a template's check.visual. */
export interface VisualTolerance {
  readonly maxDiffPixels: number;
  readonly threshold: number;
  readonly maxDiffPixelRatio?: number;
}

/** Playwright's own mask colour (toHaveScreenshot's `maskColor` default). */
const maskColour = '#FF00FF';

/**
 * The tolerance of a template's check.visual: exact (0 pixels, threshold 0) unless it says
 * otherwise, matching the suite's project default in playwright.config.ts.
 */
export function toleranceOf(visual: VisualCheck): VisualTolerance {
  return { maxDiffPixels: visual.maxDiffPixels ?? 0, threshold: visual.threshold ?? 0, ...(visual.maxDiffPixelRatio === undefined ? {} : { maxDiffPixelRatio: visual.maxDiffPixelRatio }) };
}

/**
 * The image a golden holds for one render: mergeshot's encoded output itself when it is a PNG
 * and nothing is masked (the golden is then the very bytes that are shipped), else its pixels
 * as a lossless PNG with the masks painted over. Masks are in the size's CSS pixels and scale
 * with the output (an email preset renders at 2×).
 */
export async function comparableImage(output: { readonly bytes: Buffer; readonly format: string; readonly width: number }, sizeWidth: number, masks: readonly VisualMask[]): Promise<Buffer> {
  if (output.format === 'png' && masks.length === 0) return output.bytes;
  const scale = output.width / sizeWidth;
  const rectangles = masks.map((mask) => {
    const [left, top, width, height] = [mask.x, mask.y, mask.width, mask.height].map((value) => Math.round(value * scale)) as [number, number, number, number];
    return { input: { create: { width, height, channels: 4 as const, background: maskColour } }, left, top };
  });
  return sharp(output.bytes).composite(rectangles).png().toBuffer();
}

/** "exact (maxDiffPixels 0, threshold 0), no masks": the effective tolerance, printed on failure. */
export function describeTolerance(options: { readonly maxDiffPixels: number; readonly threshold: number; readonly maxDiffPixelRatio?: number | undefined }, masks: readonly VisualMask[]): string {
  const exact = options.maxDiffPixels === 0 && options.threshold === 0 && !options.maxDiffPixelRatio;
  const numbers = [`maxDiffPixels ${options.maxDiffPixels}`, `threshold ${options.threshold}`, ...(options.maxDiffPixelRatio ? [`maxDiffPixelRatio ${options.maxDiffPixelRatio}`] : [])].join(', ');
  const masked = masks.length === 0 ? 'no masks' : `masks ${masks.map((m) => `${m.width}×${m.height}@${m.x},${m.y}`).join(' ')}`;
  return `${exact ? 'exact' : 'tolerant'} (${numbers}), ${masked}; set in template.json check.visual`;
}
