/**
 * Crop rules of image fields: the fetched image is brought to the slot's aspect ratio by sharp,
 * so the page's `object-fit: cover` (or a circular mask) has nothing left to cut and the subject
 * the rule chose stays in view.
 *
 *  - center, top: cover crop, kept part anchored at the centre or at the top edge (portraits
 *    framed head-first);
 *  - attention: cover crop on libvips' saliency strategy (skin tones, saturation, edges), which
 *    follows an off-centre face or product instead of the geometric centre;
 *  - contain: the whole image, letterboxed with transparent bars (logos of any aspect ratio).
 *
 * Only the ratio is declared, never a size in pixels: a template's sizes give one slot different
 * boxes (event-invite's photo is 300 px wide in the default size, 340 px in the square one), and
 * the CSS already says them. The resolution stays bounded by the request's box.
 */
import sharp, { type ResizeOptions } from 'sharp';
import type { ImageCropRule } from '../template/index.js';

export interface ImageCrop {
  readonly rule: ImageCropRule;
  /** The slot's aspect ratio as two positive integers (4:5 → 4 and 5). */
  readonly aspectWidth: number;
  readonly aspectHeight: number;
}

/** An image field's crop from its template.json spec ("aspect": "1:1"); none without an aspect. */
export function cropOf(spec: { readonly crop?: ImageCropRule | undefined; readonly aspect?: string | undefined }): ImageCrop | undefined {
  if (spec.aspect === undefined) return undefined;
  const [width, height] = spec.aspect.split(':').map(Number);
  return { rule: spec.crop ?? 'center', aspectWidth: width!, aspectHeight: height! };
}

/** The same crop always gives the same text: part of the image cache key. */
export function cropKey(crop: ImageCrop | undefined): string {
  return crop === undefined ? 'none' : `${crop.rule}:${crop.aspectWidth}:${crop.aspectHeight}`;
}

/**
 * sharp resize options bringing a `width`×`height` (oriented) image to the crop's ratio inside
 * the `maxWidth`×`maxHeight` box. Never enlarges: the output is the largest box of that ratio
 * the source fills (cover) or fits in (contain), scaled down to the request's box.
 */
export function cropResize(width: number, height: number, maxWidth: number, maxHeight: number, crop: ImageCrop): ResizeOptions {
  const ratio = crop.aspectWidth / crop.aspectHeight;
  const wider = width / height > ratio;
  // cover keeps the short side and cuts the long one; contain keeps the long side and pads.
  const covers = crop.rule !== 'contain';
  const boxWidth = wider === covers ? height * ratio : width;
  const boxHeight = wider === covers ? height : width / ratio;
  const scale = Math.min(1, maxWidth / boxWidth, maxHeight / boxHeight);
  const size = { width: Math.max(1, Math.round(boxWidth * scale)), height: Math.max(1, Math.round(boxHeight * scale)) };
  if (!covers) return { ...size, fit: 'contain', background: { r: 0, g: 0, b: 0, alpha: 0 } };
  const position = crop.rule === 'attention' ? sharp.strategy.attention : crop.rule === 'top' ? 'top' : 'centre';
  return { ...size, fit: 'cover', position };
}
