/**
 * The one entry point of playwright-core this folder uses: `utils.getComparator`, the image
 * comparison behind Playwright Test's toMatchSnapshot (the package ships no types for it; its
 * package.json "exports" lists the module). Declared as narrowly as it is used.
 */
declare module 'playwright-core/lib/coreBundle' {
  export interface ComparatorOptions {
    readonly maxDiffPixels?: number;
    readonly maxDiffPixelRatio?: number;
    readonly threshold?: number;
    readonly comparator?: 'pixelmatch' | 'ssim-cie94';
  }
  /** null when the images match within the options; else the message and the diff image (PNG). */
  export type ComparatorResult = { readonly errorMessage: string; readonly diff?: Buffer } | null;
  export const utils: {
    getComparator(mimeType: string): (actual: Buffer, expected: Buffer, options?: ComparatorOptions) => ComparatorResult;
  };
}
