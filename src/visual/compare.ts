import { utils } from 'playwright-core/lib/coreBundle';
import type { VisualTolerance } from './comparableImage.js';

/**
 * A golden comparison by Playwright's own comparator: the function toMatchSnapshot calls for a
 * `.png` snapshot (getComparator('image/png'): pixelmatch with the same threshold, maxDiffPixels
 * and maxDiffPixelRatio rules, the same padding of images of different sizes, the same diff
 * image). The studio and the suite therefore never disagree on whether an image passes.
 */
export interface Comparison {
  /** Within the tolerance: what toMatchSnapshot passes. */
  readonly matches: boolean;
  /** Pixels pixelmatch counted as different; undefined when the images match. */
  readonly diffPixels?: number;
  /** Playwright's message: "Expected an image 600px by 200px, received …", "12 pixels (ratio 0.01 of all image pixels) are different." */
  readonly message?: string;
  /** The diff image Playwright writes beside a failure (`-diff.png`). */
  readonly diff?: Buffer;
}

const comparePng = utils.getComparator('image/png');

/** The count in Playwright's message: "<count> pixels (ratio …) are different." */
const countInMessage = /(\d+) pixels \(ratio/;

export function compareWithGolden(actual: Buffer, golden: Buffer, tolerance: VisualTolerance): Comparison {
  // Equal bytes cannot differ; skip the decode (Playwright's comparator answers null for them too).
  if (actual.equals(golden)) return { matches: true };
  const result = comparePng(actual, golden, tolerance);
  if (!result) return { matches: true };
  const count = countInMessage.exec(result.errorMessage)?.[1];
  return { matches: false, message: result.errorMessage.trim(), ...(count === undefined ? {} : { diffPixels: Number(count) }), ...(result.diff ? { diff: result.diff } : {}) };
}
