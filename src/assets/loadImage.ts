/**
 * One load of one image under one deadline: decode the data: URI or download the URL, normalise
 * the bytes, and classify any failure into an AssetError that names the scheme and host only.
 */
import type { Dispatcher } from 'undici';
import type { AddressGuard } from './addressGuard.js';
import { decodeDataUri } from './dataUri.js';
import { download } from './download.js';
import type { ImageCrop } from './crop.js';
import { classify } from './imageFailure.js';
import type { ResolvedOptions } from './imageFetcherOptions.js';
import { normalizeImage, type FetchedImage } from './normalizeImage.js';
import { checkScheme, describeUrl, parseSourceUrl } from './sourceUrl.js';

export async function loadImage(
  source: string,
  maxWidth: number,
  maxHeight: number,
  cancel: AbortSignal,
  config: ResolvedOptions,
  guard: AddressGuard,
  agent: Dispatcher,
  crop?: ImageCrop,
): Promise<FetchedImage> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), config.timeoutMs);
  const signal = AbortSignal.any([cancel, deadline.signal]);
  const trimmed = source.trim();
  const isData = /^data:/i.test(trimmed);
  let where = isData ? 'data: URI' : 'URL';
  try {
    let bytes: Buffer;
    if (isData) {
      bytes = decodeDataUri(trimmed, config.maxBytes);
    } else {
      const url = parseSourceUrl(trimmed);
      where = describeUrl(url);
      checkScheme(url);
      bytes = await download(url, { signal, config, guard, agent });
    }
    signal.throwIfAborted();
    return await normalizeImage(bytes, maxWidth, maxHeight, config, crop);
  } catch (error) {
    throw classify(error, where, { cancelled: cancel.aborted, timedOut: deadline.signal.aborted, timeoutMs: config.timeoutMs, maxBytes: config.maxBytes });
  } finally {
    clearTimeout(timer);
  }
}
