/**
 * Node-side image fetching for `image` fields. Chromium never touches the network: this module
 * fetches each image, checks it and re-encodes it, and the renderer serves the bytes from memory.
 *
 * Threats it stops, all driven by hostile record values:
 *  - SSRF: every hop (first URL and each redirect) goes through the address guard, and sockets
 *    open only to vetted addresses (see addressGuard.ts). Only http:, https: and data: are read.
 *  - Resource exhaustion: one deadline for the whole fetch, a byte cap counted on the wire (a
 *    Content-Length header is a claim, not a limit), a pixel cap checked on the header before any
 *    pixel is decoded, and bounded caches.
 *  - Content smuggling: the type is sniffed from magic bytes, never taken from Content-Type or the
 *    extension, so HTML posing as PNG reaches no decoder; SVG is refused because it can load external
 *    resources and carry script; only libvips loaders for raster formats we list are ever reached.
 *  - Leaking personal data: URLs carry names and e-mails in their paths and queries, so messages
 *    name the scheme and host only.
 *
 * This file owns the fetcher: its options, the bounded cache and the sharing of in-flight fetches.
 * One load (loadImage.ts) reads a data: URI (dataUri.ts) or downloads a URL (sourceUrl.ts,
 * download.ts), sniffs and normalises the bytes (imageFormat.ts, normalizeImage.ts) and turns any
 * failure into an AssetError (imageFailure.ts).
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { Agent } from 'undici';
import { AssetError, UsageError } from '../errors/index.js';
import { createAddressGuard, createGuardedConnector } from './addressGuard.js';
import { cropKey, type ImageCrop } from './crop.js';
import { abortedError, asAssetError, closedError, reissue } from './imageFailure.js';
import { resolveOptions, type ImageFetcherOptions } from './imageFetcherOptions.js';
import { loadImage } from './loadImage.js';
import type { FetchedImage } from './normalizeImage.js';

export interface ImageRequest {
  /** The caller's cancellation (render deadline joined with shutdown). */
  readonly signal: AbortSignal;
  /** Bounding box in pixels; callers pass 2× the slot size so the image stays sharp on HiDPI. */
  readonly maxWidth: number;
  readonly maxHeight: number;
  /** The image field's crop rule and slot aspect (cropOf); without one the image is only scaled to fit the box. */
  readonly crop?: ImageCrop | undefined;
}

export interface ImageFetcher {
  /** Fetches (or reads a data: URI), checks and normalises; rejects with AssetError ASSET_REFUSED, ASSET_FAILED or ABORTED. */
  fetch(source: string, request: ImageRequest): Promise<FetchedImage>;
  /** Cancels in-flight fetches, closes the connection pool and clears the cache. Idempotent. */
  close(): Promise<void>;
}

/** Largest box a request may ask for; libvips and JPEG handle it, and render sizes cap well below. */
const maxDimension = 16_384;
/** Cache accounting for what is not the image bytes: keys, the entry object, a remembered error. */
const entryOverheadBytes = 256;

type CacheEntry = { readonly kind: 'image'; readonly image: FetchedImage } | { readonly kind: 'failure'; readonly error: AssetError };

interface InFlight {
  readonly promise: Promise<FetchedImage>;
  /**
   * Called when the last waiting caller gives up: cancels the shared work and forgets it, so a
   * caller arriving next starts afresh instead of joining work that is being cancelled.
   */
  readonly abandon: () => void;
  waiters: number;
}

export function createImageFetcher(options: ImageFetcherOptions = {}): ImageFetcher {
  const config = resolveOptions(options);
  const guard = createAddressGuard({ allowHosts: config.allowHosts });
  const agent = new Agent({
    connect: createGuardedConnector(guard, { timeoutMs: config.timeoutMs }),
    headersTimeout: config.timeoutMs,
    bodyTimeout: config.timeoutMs,
    // A second byte cap at the HTTP parser, behind the one counted in readBody.
    maxResponseSize: config.maxBytes,
  });
  const cache = new LRUCache<string, CacheEntry>({
    max: config.cacheEntries,
    maxSize: config.cacheBytes,
    sizeCalculation: (entry) => (entry.kind === 'image' ? entry.image.bytes.length : 0) + entryOverheadBytes,
  });
  const inFlight = new Map<string, InFlight>();
  const closeController = new AbortController();
  let closing: Promise<void> | undefined;

  async function fetchImage(source: string, request: ImageRequest): Promise<FetchedImage> {
    checkRequest(request);
    if (closeController.signal.aborted) throw new AssetError('ABORTED', 'image fetch refused: the image fetcher is closed.');
    if (request.signal.aborted) throw abortedError(request.signal);

    const sourceKey = createHash('sha256').update(source).digest('base64url');
    // The crop is part of what the bytes are: a logo contained and the same logo cropped differ.
    const imageKey = `image:${sourceKey}@${request.maxWidth}x${request.maxHeight}/${cropKey(request.crop)}`;
    // Failures do not depend on the requested size, so one dead link is remembered for every size.
    const failureKey = `failure:${sourceKey}`;

    const cached = cache.get(imageKey) ?? cache.get(failureKey);
    if (cached?.kind === 'image') return cached.image;
    if (cached?.kind === 'failure') throw reissue(cached.error);

    let entry = inFlight.get(imageKey);
    if (entry === undefined) {
      const controller = new AbortController();
      const work = loadImage(source, request.maxWidth, request.maxHeight, AbortSignal.any([controller.signal, closeController.signal]), config, guard, agent, request.crop);
      const promise = work.then(
        (image) => {
          if (!closeController.signal.aborted) cache.set(imageKey, { kind: 'image', image });
          return image;
        },
        (error: unknown) => {
          const failure = asAssetError(error);
          // Cancellations say nothing about the image; remembering them would fail later callers.
          if (failure.code !== 'ABORTED' && config.failureTtlMs > 0 && !closeController.signal.aborted) {
            cache.set(failureKey, { kind: 'failure', error: failure }, { ttl: config.failureTtlMs });
          }
          throw failure;
        },
      );
      const forget = (): void => {
        if (inFlight.get(imageKey) === created) inFlight.delete(imageKey);
      };
      const created: InFlight = {
        promise: promise.finally(forget),
        abandon: () => {
          forget();
          controller.abort();
        },
        waiters: 0,
      };
      // Every waiter may leave before the work settles; the rejection must not go unhandled then.
      created.promise.catch(() => undefined);
      inFlight.set(imageKey, created);
      entry = created;
    }
    return waitFor(entry, request.signal, closeController.signal);
  }

  function close(): Promise<void> {
    if (closing === undefined) {
      closeController.abort();
      cache.clear();
      closing = agent.destroy().catch(() => undefined);
    }
    return closing;
  }

  return { fetch: fetchImage, close };
}

/**
 * Concurrent callers of one key share one fetch (single flight). Each caller still leaves on its
 * own signal; the shared work is cancelled only when the last one leaves, so one impatient row
 * cannot fail the others and an abandoned fetch does not run on to its deadline.
 */
function waitFor(entry: InFlight, signal: AbortSignal, closeSignal: AbortSignal): Promise<FetchedImage> {
  entry.waiters += 1;
  return new Promise<FetchedImage>((resolve, reject) => {
    let settled = false;
    const leave = (): void => {
      settled = true;
      entry.waiters -= 1;
      signal.removeEventListener('abort', onAbort);
      closeSignal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      if (settled) return;
      leave();
      if (entry.waiters === 0) entry.abandon();
      reject(signal.aborted ? abortedError(signal) : closedError(closeSignal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    closeSignal.addEventListener('abort', onAbort, { once: true });
    entry.promise.then(
      (image) => {
        if (settled) return;
        leave();
        resolve(image);
      },
      (error: unknown) => {
        if (settled) return;
        leave();
        reject(reissue(asAssetError(error)));
      },
    );
  });
}

function checkRequest(request: ImageRequest): void {
  for (const key of ['maxWidth', 'maxHeight'] as const) {
    const value = request[key];
    if (!Number.isInteger(value) || value < 1 || value > maxDimension) {
      throw new UsageError('USAGE', `fetchImage: request.${key} must be an integer 1–${maxDimension}, got ${String(value)} (${typeof value}). Pass twice the slot size in CSS pixels.`);
    }
  }
  const crop = request.crop;
  if (crop && ![crop.aspectWidth, crop.aspectHeight].every((side) => Number.isInteger(side) && side >= 1 && side <= 9999)) {
    throw new UsageError('USAGE', `fetchImage: request.crop's aspect must be two integers 1–9999, got ${String(crop.aspectWidth)}:${String(crop.aspectHeight)}. Build it with cropOf() from a validated field spec.`);
  }
}
