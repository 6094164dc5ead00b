import { unpackBundledChromium } from '../src/render/browser.js';

/**
 * Unpacks the bundled Chromium once before any test file starts: parallel workers racing the
 * first unpack would fail with `spawn ETXTBSY`.
 */
export default async function setup(): Promise<void> {
  if (!process.env.MERGESHOT_CHROMIUM) await unpackBundledChromium();
}
