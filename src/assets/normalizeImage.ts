/**
 * sharp normalisation of fetched bytes: the sniffed format must match what libvips reads, the
 * pixel cap is checked on the header before any pixel is decoded, and the image is decoded once to
 * 8-bit sRGB and re-encoded without metadata.
 *
 * Output format: PNG when the image has any non-opaque pixel, else JPEG quality 90. The bytes are an
 * intermediate (Chromium rasterises them again and encode/ re-encodes the screenshot), so JPEG's
 * loss at q90 and 2× the slot size is invisible, while lossless WebP would be 3–5× larger for
 * photos and several times slower to encode; PNG and JPEG also take Chromium's fastest decode paths.
 */
import sharp, { type Metadata, type ResizeOptions, type SharpOptions } from 'sharp';
import { cropResize, type ImageCrop } from './crop.js';
import { Reason } from './imageFailure.js';
import type { ResolvedOptions } from './imageFetcherOptions.js';
import { sniffFormat } from './imageFormat.js';

/** The fetcher currently emits PNG and JPEG; WebP is part of the contract so it can be added without breaking callers. */
export type ImageContentType = 'image/png' | 'image/jpeg' | 'image/webp';

/** A normalised image. Shared with other callers through the cache: treat `bytes` as read-only. */
export interface FetchedImage {
  readonly bytes: Buffer;
  readonly contentType: ImageContentType;
  readonly width: number;
  readonly height: number;
}

export async function normalizeImage(bytes: Buffer, maxWidth: number, maxHeight: number, config: ResolvedOptions, crop?: ImageCrop): Promise<FetchedImage> {
  const format = sniffFormat(bytes);
  if (format === 'svg') {
    throw new Reason('ASSET_REFUSED', 'SVG images are refused: they can load external resources.', 'Convert the image to PNG or JPEG.');
  }
  if (format === undefined) {
    throw new Reason('ASSET_FAILED', 'not an image in a supported format (PNG, JPEG, WebP, GIF, AVIF, HEIF, TIFF).', 'Check that the URL points at the image itself, not a web page.');
  }
  const input: SharpOptions = { limitInputPixels: config.maxPixels, failOn: 'warning' };
  let metadata: Metadata;
  try {
    // Header only: no pixel is decoded here, so the pixel limit is applied below by hand, which
    // lets the message give the claimed dimensions.
    metadata = await sharp(bytes, { ...input, limitInputPixels: false }).metadata();
  } catch (error) {
    throw undecodable(error);
  }
  if (metadata.format !== format) throw undecodable(undefined);
  // The header's dimensions, before any pixel is decoded: a 100 kB PNG can claim 10000×10000.
  const pixels = metadata.width * metadata.height;
  if (pixels > config.maxPixels) {
    throw new Reason('ASSET_REFUSED', `the image is ${metadata.width}×${metadata.height} = ${pixels} pixels, more than maxPixels (${config.maxPixels}).`, 'Use a smaller image or raise fetch.maxPixels.');
  }
  // The crop works on the image as displayed, so on the oriented dimensions.
  const resize: ResizeOptions = crop
    ? cropResize(metadata.autoOrient.width, metadata.autoOrient.height, maxWidth, maxHeight, crop)
    : { width: maxWidth, height: maxHeight, fit: 'inside', withoutEnlargement: true };
  try {
    // Decode once to 8-bit sRGB pixels: EXIF orientation applied, embedded ICC/CMYK converted,
    // every metadata block left behind. The alpha check then decides the output format (a
    // `contain` crop's transparent bars make it PNG).
    const { data, info } = await sharp(bytes, { ...input, autoOrient: true })
      .resize(resize)
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .timeout({ seconds: Math.max(1, Math.ceil(config.timeoutMs / 1000)) })
      .toBuffer({ resolveWithObject: true });
    const channels = info.channels as 3 | 4;
    const isTranslucent = channels === 4 && hasTranslucentPixel(data);
    const pixelsOut = sharp(data, { raw: { width: info.width, height: info.height, channels } });
    const encoded = isTranslucent
      ? await pixelsOut.png().toBuffer({ resolveWithObject: true })
      : await pixelsOut.removeAlpha().jpeg({ quality: 90, chromaSubsampling: '4:4:4' }).toBuffer({ resolveWithObject: true });
    return {
      bytes: encoded.data,
      contentType: isTranslucent ? 'image/png' : 'image/jpeg',
      width: encoded.info.width,
      height: encoded.info.height,
    };
  } catch (error) {
    // The header's dimensions passed the pixel limit above, so a decoder that still trips
    // limitInputPixels met an image whose pixels are not what its header says: corrupt too.
    // (sharp's errors carry no class or code to tell them apart: none is read from its text.)
    throw undecodable(error);
  }
}

function hasTranslucentPixel(rgba: Buffer): boolean {
  for (let index = 3; index < rgba.length; index += 4) {
    if (rgba[index] !== 255) return true;
  }
  return false;
}

function undecodable(cause: unknown): Reason {
  const reason = new Reason('ASSET_FAILED', 'the image data is corrupt or cannot be decoded.', 'Re-save the image as PNG or JPEG.');
  if (cause !== undefined) reason.cause = cause;
  return reason;
}
