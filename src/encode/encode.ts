import sharp, { type ResizeOptions, type Sharp } from 'sharp';
import { EncodeError, isMergeshotError, type RenderWarning } from '../errors/index.js';
import { encodeWithinBudget, type Attempt } from './budget.js';
import { renderScaleFor, type Preset, type PresetFormat } from './presets.js';

/**
 * Turns a Chromium capture into the bytes a channel receives: resize per the preset, sRGB, no
 * metadata, then encode (within the byte budget, see budget.ts).
 *
 * A capture without alpha (Chromium's PNG and JPEG captures are RGB), or any capture for a JPEG
 * preset (flattened anyway), is encoded in one sharp pipeline straight from the capture: decode,
 * resize and encode stream through libvips together. Measured on a 1200×630 capture for `email`:
 * 12.5 ms CPU against 16.2 ms when the pixels were first written out raw and read back. A budget
 * search repeats the whole pipeline (decoding again costs ~3 ms, and the search is rare). A
 * capture with alpha is decoded once into raw pixels instead, so an all-opaque one can drop its
 * alpha (see isOpaque).
 * No metadata reaches the output: sharp writes none unless asked, and raw pixels carry none. An
 * embedded profile (a P3 screenshot) is converted to sRGB, and none is written: sRGB is what
 * browsers and mail clients assume for untagged images, and the profile would cost ~0.5 KB.
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

/** Where every encode attempt starts: a fresh sharp pipeline up to, not including, the encoder. */
interface Source {
  readonly open: () => Sharp;
  readonly width: number;
  readonly height: number;
}

export async function encodeImage(capture: Buffer, preset: Preset, options: EncodeOptions = {}): Promise<EncodedImage> {
  const { signal } = options;
  checkAborted(signal, 'before decoding');
  try {
    const source = await prepare(capture, preset);
    checkAborted(signal, 'after decoding');
    const encodeAttempt = async (attempt: Attempt): Promise<Buffer> => {
      checkAborted(signal, 'before encoding');
      const bytes = await encoder(source.open(), preset, attempt).toBuffer();
      checkAborted(signal, 'after encoding');
      return bytes;
    };
    const result = await encodeWithinBudget(preset, encodeAttempt);
    return {
      bytes: result.bytes,
      format: preset.format,
      contentType: contentTypes[preset.format],
      width: source.width,
      height: source.height,
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

/**
 * The size encodeImage gives a render of a template `width`×`height` with this preset, known
 * without rendering (a fallback image, a URL's <img> snippet): the capture at the preset's
 * render scale, then the preset's resize rules.
 */
export function encodedSize(preset: Preset, width: number, height: number): { width: number; height: number } {
  const scale = renderScaleFor(preset, width, height);
  return outputSize(Math.round(width * scale), Math.round(height * scale), preset);
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

async function prepare(capture: Buffer, preset: Preset): Promise<Source> {
  // failOn 'error' (sharp's default is 'warning'): a truncated or corrupt capture fails rather than
  // going out with a grey band, while a benign libpng warning (an sRGB profile it dislikes) does not.
  const input = { failOn: 'error' } as const;
  const { width: inWidth, height: inHeight, hasAlpha } = await sharp(capture, input).metadata();
  const size = outputSize(inWidth, inHeight, preset);
  const background = preset.background ?? (preset.format === 'jpeg' ? defaultJpegBackground : undefined);
  const shape = (image: Sharp): Sharp => {
    if (size.width !== inWidth || size.height !== inHeight) {
      const exactBox = preset.width !== undefined && preset.height !== undefined && preset.fit !== 'inside';
      const resize: ResizeOptions = exactBox
        ? { width: size.width, height: size.height, fit: preset.fit, position: 'centre', background: background ?? { r: 0, g: 0, b: 0, alpha: 0 } }
        : { width: size.width, height: size.height, fit: 'fill' };
      image.resize(resize);
    }
    if (preset.format === 'jpeg') image.flatten({ background: background ?? defaultJpegBackground });
    return image.toColourspace('srgb');
  };
  if (!hasAlpha || preset.format === 'jpeg') return { open: () => shape(sharp(capture, input)), ...size };

  const { data, info } = await shape(sharp(capture, input)).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 && info.channels !== 4) {
    throw new EncodeError('ENCODE_FAILED', `could not encode the capture: expected 3 or 4 channels after sRGB conversion, got ${info.channels}`);
  }
  const raw = { width: info.width, height: info.height, channels: info.channels };
  if (raw.channels === 3 || !isOpaque(data)) return { open: () => sharp(data, { raw }), width: raw.width, height: raw.height };
  const rgb = await sharp(data, { raw }).removeAlpha().raw().toBuffer();
  return { open: () => sharp(rgb, { raw: { ...raw, channels: 3 } }), width: raw.width, height: raw.height };
}

/**
 * An RGBA input is often opaque everywhere (a screenshot from another tool, an older Chromium).
 * Measured on a 1200×630 capture, writing that alpha makes a truecolour PNG 14 % larger (WebP
 * notices opaque alpha by itself), so an opaque input is encoded as RGB. The scan costs ~1 ms.
 */
function isOpaque(rgba: Buffer): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) return false;
  return true;
}

function encoder(image: Sharp, preset: Preset, attempt: Attempt): Sharp {
  switch (preset.format) {
    case 'jpeg':
      // mozjpeg mode also makes the file progressive with optimised scans, which is smaller too.
      // Without mozjpeg, still take its free wins: its quantisation tables and optimised Huffman
      // coding (same ≈ 9 ms as baseline libjpeg-turbo, ≈ 5 % smaller). Progressive scans would
      // save another 6 % for twice the encode time on the render hot path.
      return image
        .jpeg(preset.mozjpeg === true ? { quality: attempt.quality, mozjpeg: true, chromaSubsampling: '4:2:0' } : { quality: attempt.quality, chromaSubsampling: '4:2:0', quantisationTable: 3, optimiseCoding: true });
    case 'webp':
      return image.webp(preset.lossless === true ? { lossless: true } : { quality: attempt.quality });
    case 'png':
      return attempt.palette
        ? image.png({ palette: true, quality: attempt.quality, dither: attempt.dither, effort: paletteEffort, compressionLevel: paletteCompression })
        : image.png({ compressionLevel: truecolourCompression, adaptiveFiltering: true });
  }
}
