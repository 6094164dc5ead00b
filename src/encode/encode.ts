import sharp, { type ResizeOptions } from 'sharp';
import { EncodeError, isMergeshotError, type RenderWarning } from '../errors/index.js';
import { encodeWithinBudget, type Attempt } from './budget.js';
import type { Preset, PresetFormat } from './presets.js';

/**
 * Turns a Chromium capture into the bytes a channel receives: resize per the preset, sRGB, no
 * metadata, then encode (within the byte budget, see budget.ts).
 *
 * The capture is decoded and resized once into raw sRGB pixels, and every encode attempt starts
 * from those: a budget search then repeats only the encode, and because raw pixels carry no
 * metadata, no EXIF, XMP or ICC from the input can reach the output. An embedded profile (a P3
 * screenshot) is converted to sRGB first, and none is written: sRGB is what browsers and mail
 * clients assume for untagged images, and the profile would cost ~0.5 KB per image.
 */

export interface EncodedImage {
  readonly bytes: Buffer;
  readonly format: PresetFormat;
  readonly contentType: string;
  readonly width: number;
  readonly height: number;
  /** The quality encoded at: JPEG, lossy WebP, palette PNG. Undefined for lossless output. */
  readonly quality?: number;
  /** Encodes it took (1 unless the budget search ran), for logs and metrics. */
  readonly encodes: number;
  readonly warnings: readonly RenderWarning[];
}

export interface EncodeOptions {
  readonly signal?: AbortSignal;
}

const contentTypes = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' } as const satisfies Record<PresetFormat, string>;

/** JPEG has no alpha; a preset without `background` flattens onto white, like a mail client's page. */
const defaultJpegBackground = '#ffffff';

/**
 * Palette PNG effort (libimagequant speed 7). Measured on 1200×630 captures: effort 7 (sharp's
 * default) is 1.6–4.5× slower for 1–9 % fewer bytes; effort 3 made a design with gradients twice
 * as large.
 */
const paletteEffort = 4;

/**
 * Truecolour PNG: zlib level 6 with adaptive filtering. Measured on 1200×630 captures: level 9
 * saves ~14 % more but takes ~3× as long (40 ms → 130 ms); adaptive filtering alone saves ~20 %.
 * Palette PNG uses level 9: its data is a third the size, so level 9 costs no measurable time.
 */
const truecolourCompression = 6;
const paletteCompression = 9;

interface Pixels {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
}

export async function encodeImage(capture: Buffer, preset: Preset, options: EncodeOptions = {}): Promise<EncodedImage> {
  const { signal } = options;
  checkAborted(signal, 'before decoding');
  try {
    const pixels = await decode(capture, preset);
    checkAborted(signal, 'after decoding');
    const encodeAttempt = async (attempt: Attempt): Promise<Buffer> => {
      checkAborted(signal, 'before encoding');
      const bytes = await encodePixels(pixels, preset, attempt);
      checkAborted(signal, 'after encoding');
      return bytes;
    };
    const result = await encodeWithinBudget(preset, encodeAttempt);
    return {
      bytes: result.bytes,
      format: preset.format,
      contentType: contentTypes[preset.format],
      width: pixels.width,
      height: pixels.height,
      ...(result.attempt.quality === undefined ? {} : { quality: result.attempt.quality }),
      encodes: result.encodes,
      warnings: result.warnings,
    };
  } catch (error) {
    if (isMergeshotError(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new EncodeError('ENCODE_FAILED', `could not encode the capture as ${preset.format}: ${reason}`, { hint: 'The capture must be a PNG or JPEG image.' }, { cause: error });
  }
}

function checkAborted(signal: AbortSignal | undefined, when: string): void {
  if (signal?.aborted) throw new EncodeError('ABORTED', `encode cancelled ${when}`, {}, { cause: signal.reason });
}

/** The output size for an input of inW×inH. Exported for tests; see the preset schema for the rules. */
export function outputSize(inWidth: number, inHeight: number, preset: Preset): { width: number; height: number } {
  const { width, height, fit, maxLongSide } = preset;
  let w = inWidth;
  let h = inHeight;
  if (width !== undefined && height !== undefined && fit !== 'inside') {
    // cover and contain produce exactly the box, enlarging if needed: a social card that is not
    // 1200×630 is cropped or letterboxed by the platform, which is worse than a soft image.
    w = width;
    h = height;
  } else if (width !== undefined || height !== undefined) {
    const factor = Math.min(1, width === undefined ? Infinity : width / inWidth, height === undefined ? Infinity : height / inHeight);
    w = Math.max(1, Math.round(inWidth * factor));
    h = Math.max(1, Math.round(inHeight * factor));
  }
  if (maxLongSide !== undefined && Math.max(w, h) > maxLongSide) {
    const factor = maxLongSide / Math.max(w, h);
    w = Math.max(1, Math.round(w * factor));
    h = Math.max(1, Math.round(h * factor));
  }
  return { width: w, height: h };
}

async function decode(capture: Buffer, preset: Preset): Promise<Pixels> {
  // failOn 'error' (sharp's default is 'warning'): a truncated or corrupt capture fails rather than
  // going out with a grey band, while a benign libpng warning (an sRGB profile it dislikes) does not.
  const image = sharp(capture, { failOn: 'error' });
  const { width: inWidth, height: inHeight } = await image.metadata();
  const size = outputSize(inWidth, inHeight, preset);
  const background = preset.background ?? (preset.format === 'jpeg' ? defaultJpegBackground : undefined);
  if (size.width !== inWidth || size.height !== inHeight) {
    const exactBox = preset.width !== undefined && preset.height !== undefined && preset.fit !== 'inside';
    const resize: ResizeOptions = exactBox
      ? { width: size.width, height: size.height, fit: preset.fit, position: 'centre', background: background ?? { r: 0, g: 0, b: 0, alpha: 0 } }
      : { width: size.width, height: size.height, fit: 'fill' };
    image.resize(resize);
  }
  if (preset.format === 'jpeg') image.flatten({ background: background ?? defaultJpegBackground });
  const { data, info } = await image.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 && info.channels !== 4) {
    throw new EncodeError('ENCODE_FAILED', `could not encode the capture: expected 3 or 4 channels after sRGB conversion, got ${info.channels}`);
  }
  const pixels: Pixels = { data, width: info.width, height: info.height, channels: info.channels };
  if (pixels.channels === 3 || !isOpaque(pixels.data)) return pixels;
  const rgb = await sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: 4 } }).removeAlpha().raw().toBuffer();
  return { ...pixels, data: rgb, channels: 3 };
}

/**
 * Chromium screenshots carry an alpha channel even when every pixel is opaque. Measured on a
 * 1200×630 capture, writing it makes a truecolour PNG 14 % larger (WebP notices opaque alpha by
 * itself), so an opaque capture is encoded as RGB. The scan costs ~1 ms.
 */
function isOpaque(rgba: Buffer): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) return false;
  return true;
}

function encodePixels(pixels: Pixels, preset: Preset, attempt: Attempt): Promise<Buffer> {
  const image = sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: pixels.channels } });
  switch (preset.format) {
    case 'jpeg':
      // mozjpeg mode also makes the file progressive with optimised scans, which is smaller too.
      // Without mozjpeg, still take its free wins: its quantisation tables and optimised Huffman
      // coding (same ≈ 9 ms as baseline libjpeg-turbo, ≈ 5 % smaller). Progressive scans would
      // save another 6 % for twice the encode time on the render hot path.
      return image
        .jpeg(preset.mozjpeg === true ? { quality: attempt.quality, mozjpeg: true, chromaSubsampling: '4:2:0' } : { quality: attempt.quality, chromaSubsampling: '4:2:0', quantisationTable: 3, optimiseCoding: true })
        .toBuffer();
    case 'webp':
      return image.webp(preset.lossless === true ? { lossless: true } : { quality: attempt.quality }).toBuffer();
    case 'png':
      return (
        attempt.palette
          ? image.png({ palette: true, quality: attempt.quality, dither: attempt.dither, effort: paletteEffort, compressionLevel: paletteCompression })
          : image.png({ compressionLevel: truecolourCompression, adaptiveFiltering: true })
      ).toBuffer();
  }
}
