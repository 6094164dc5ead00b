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
 * Output format: PNG when the image has any non-opaque pixel, else JPEG quality 90. The bytes are an
 * intermediate (Chromium rasterises them again and encode/ re-encodes the screenshot), so JPEG's
 * loss at q90 and 2× the slot size is invisible, while lossless WebP would be 3–5× larger for
 * photos and several times slower to encode; PNG and JPEG also take Chromium's fastest decode paths.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import sharp, { type Metadata, type SharpOptions } from 'sharp';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import { AssetError, ConfigError, UsageError, isMergeshotError } from '../errors/index.js';
import { createAddressGuard, createGuardedConnector, type AddressGuard } from './addressGuard.js';

export interface ImageFetcherOptions {
  /** Deadline for one fetch: every redirect hop, the body and decoding. */
  readonly timeoutMs?: number;
  /** Cap on the encoded image, counted as bytes arrive (and on the decoded data: URI). */
  readonly maxBytes?: number;
  /** Cap on width × height of the source, checked on the header before decoding. */
  readonly maxPixels?: number;
  readonly maxRedirects?: number;
  /** Hostnames, addresses or CIDR ranges fetched even though they are private (see addressGuard.ts). */
  readonly allowHosts?: readonly string[];
  /** Normalised images kept, by count… */
  readonly cacheEntries?: number;
  /** …and by total bytes. */
  readonly cacheBytes?: number;
  /** How long a failure is remembered, so a dead link repeated in 1000 rows is fetched once. 0 disables. */
  readonly failureTtlMs?: number;
  readonly userAgent?: string;
}

export interface ImageRequest {
  /** The caller's cancellation (render deadline joined with shutdown). */
  readonly signal: AbortSignal;
  /** Bounding box in pixels; callers pass 2× the slot size so the image stays sharp on HiDPI. */
  readonly maxWidth: number;
  readonly maxHeight: number;
}

/** The fetcher currently emits PNG and JPEG; WebP is part of the contract so it can be added without breaking callers. */
export type ImageContentType = 'image/png' | 'image/jpeg' | 'image/webp';

/** A normalised image. Shared with other callers through the cache: treat `bytes` as read-only. */
export interface FetchedImage {
  readonly bytes: Buffer;
  readonly contentType: ImageContentType;
  readonly width: number;
  readonly height: number;
}

export interface ImageFetcher {
  /** Fetches (or reads a data: URI), checks and normalises; rejects with AssetError ASSET_REFUSED, ASSET_FAILED or ABORTED. */
  fetch(source: string, request: ImageRequest): Promise<FetchedImage>;
  /** Cancels in-flight fetches, closes the connection pool and clears the cache. Idempotent. */
  close(): Promise<void>;
}

export const imageFetcherDefaults = {
  timeoutMs: 5_000,
  maxBytes: 10 * 1024 * 1024,
  maxPixels: 40_000_000,
  maxRedirects: 3,
  allowHosts: [] as readonly string[],
  cacheEntries: 200,
  cacheBytes: 64 * 1024 * 1024,
  failureTtlMs: 60_000,
  userAgent: 'mergeshot (image fetcher)',
} as const satisfies Required<ImageFetcherOptions>;

type ResolvedOptions = { readonly [K in keyof ImageFetcherOptions]-?: NonNullable<ImageFetcherOptions[K]> };

/** Largest box a request may ask for; libvips and JPEG handle it, and render sizes cap well below. */
const maxDimension = 16_384;
/** Cache accounting for what is not the image bytes: keys, the entry object, a remembered error. */
const entryOverheadBytes = 256;

type SniffedFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'tiff' | 'heif';

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
    const imageKey = `image:${sourceKey}@${request.maxWidth}x${request.maxHeight}`;
    // Failures do not depend on the requested size, so one dead link is remembered for every size.
    const failureKey = `failure:${sourceKey}`;

    const cached = cache.get(imageKey) ?? cache.get(failureKey);
    if (cached?.kind === 'image') return cached.image;
    if (cached?.kind === 'failure') throw reissue(cached.error);

    let entry = inFlight.get(imageKey);
    if (entry === undefined) {
      const controller = new AbortController();
      const work = loadImage(source, request.maxWidth, request.maxHeight, AbortSignal.any([controller.signal, closeController.signal]), config, guard, agent);
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

async function loadImage(
  source: string,
  maxWidth: number,
  maxHeight: number,
  cancel: AbortSignal,
  config: ResolvedOptions,
  guard: AddressGuard,
  agent: Dispatcher,
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
    return await normalizeImage(bytes, maxWidth, maxHeight, config);
  } catch (error) {
    throw classify(error, where, { cancelled: cancel.aborted, timedOut: deadline.signal.aborted, timeoutMs: config.timeoutMs, maxBytes: config.maxBytes });
  } finally {
    clearTimeout(timer);
  }
}

/** A failure whose message is filled in with `where` by `classify`. */
class Reason extends Error {
  constructor(
    readonly code: 'ASSET_REFUSED' | 'ASSET_FAILED',
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

interface DownloadContext {
  readonly signal: AbortSignal;
  readonly config: ResolvedOptions;
  readonly guard: AddressGuard;
  readonly agent: Dispatcher;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

async function download(first: URL, context: DownloadContext): Promise<Buffer> {
  const { signal, config, guard, agent } = context;
  let url = first;
  for (let hop = 0; ; hop += 1) {
    const via = hop === 0 ? '' : `redirect to ${describeUrl(url)}: `;
    try {
      guard.checkHost(url.hostname);
    } catch (error) {
      throw prefixed(error, via);
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await agent.request({
        origin: url.origin,
        // No fragment (it is never sent) and no userinfo (credentials are not forwarded).
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        // Identity only: undici's request() does not decompress (a missing Accept-Encoding would
        // allow any coding), and an uncompressed body keeps the byte cap a cap on what we decode.
        headers: {
          'user-agent': config.userAgent,
          accept: 'image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8',
          'accept-encoding': 'identity',
        },
        signal,
      });
    } catch (error) {
      throw prefixed(error, via);
    }
    const { statusCode, headers, body } = response;
    if (redirectStatuses.has(statusCode)) {
      await body.dump({ limit: 64 * 1024, signal }).catch(() => undefined);
      const location = firstHeader(headers.location);
      if (location === undefined) throw new Reason('ASSET_FAILED', `${via}HTTP ${statusCode} without a Location header.`);
      if (hop >= config.maxRedirects) {
        throw new Reason('ASSET_FAILED', `more than ${config.maxRedirects} redirects (maxRedirects).`, 'Link the final image URL instead of a redirecting one.');
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new Reason('ASSET_FAILED', `${via}HTTP ${statusCode} redirects to a URL that cannot be parsed.`);
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new Reason('ASSET_REFUSED', `redirect to ${describeUrl(next)} refused: only http: and https: images are fetched.`);
      }
      url = next;
      continue;
    }
    if (statusCode < 200 || statusCode > 299) {
      await body.dump({ limit: 64 * 1024, signal }).catch(() => undefined);
      throw new Reason('ASSET_FAILED', `${via}HTTP ${statusCode}.`, 'Check that the image URL is public and still exists.');
    }
    const declared = Number(firstHeader(headers['content-length']));
    if (Number.isFinite(declared) && declared > config.maxBytes) {
      body.destroy();
      throw tooManyBytes(config.maxBytes, `${via}declared body`);
    }
    return readBody(body, config.maxBytes, via);
  }
}

/** Counts bytes as they arrive and stops reading at the cap: Content-Length may be absent or false. */
async function readBody(body: Dispatcher.ResponseData['body'], maxBytes: number, via: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      body.destroy();
      throw tooManyBytes(maxBytes, `${via}body`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function tooManyBytes(maxBytes: number, subject: string): Reason {
  return new Reason('ASSET_REFUSED', `${subject} is larger than maxBytes (${maxBytes} bytes).`, 'Use a smaller image or raise fetch.maxBytes.');
}

function parseSourceUrl(source: string): URL {
  try {
    return new URL(source);
  } catch {
    throw new Reason('ASSET_FAILED', 'not an absolute URL or data: URI.', 'Write the full URL, starting with https://.');
  }
}

function checkScheme(url: URL): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Reason('ASSET_REFUSED', `${url.protocol} URLs are refused: only http:, https: and data: images are read.`);
  }
}

/** Scheme and host (with port) only: paths and queries of record URLs carry personal data. */
function describeUrl(url: URL): string {
  return url.host === '' ? url.protocol : `${url.protocol}//${url.host}`;
}

/**
 * `data:[<mediatype>][;base64],<data>`, decoded as WHATWG fetch does: percent-decode, then base64
 * when flagged. The declared media type is ignored; the bytes are sniffed like any download.
 */
function decodeDataUri(source: string, maxBytes: number): Buffer {
  const comma = source.indexOf(',');
  if (comma < 0) throw new Reason('ASSET_FAILED', 'no "," separates the header from the data.', 'Write data:image/png;base64,<data>.');
  const isBase64 = /;[ \t]*base64[ \t]*$/i.test(source.slice(5, comma));
  const payload = source.slice(comma + 1);
  // No encoding of a within-cap image is longer than 4× its bytes (percent-encoded base64), so
  // anything longer is refused before decoding allocates more.
  if (payload.length > maxBytes * 4 + 1024) throw tooManyBytes(maxBytes, 'body');
  const decoded = percentDecode(payload);
  let bytes = decoded;
  if (isBase64) {
    const text = decoded.toString('latin1').replace(/[\t\n\f\r ]/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) {
      throw new Reason('ASSET_FAILED', 'the base64 data is malformed.');
    }
    bytes = Buffer.from(text, 'base64');
  }
  if (bytes.length > maxBytes) throw tooManyBytes(maxBytes, 'body');
  return bytes;
}

function percentDecode(text: string): Buffer {
  const input = Buffer.from(text, 'utf8');
  if (!input.includes(0x25)) return input;
  const output = Buffer.allocUnsafe(input.length);
  let length = 0;
  for (let index = 0; index < input.length; index += 1) {
    const byte = input[index] as number;
    const high = hexValue(input[index + 1]);
    const low = hexValue(input[index + 2]);
    if (byte === 0x25 && high !== undefined && low !== undefined) {
      output[length] = high * 16 + low;
      index += 2;
    } else {
      output[length] = byte;
    }
    length += 1;
  }
  return output.subarray(0, length);
}

function hexValue(byte: number | undefined): number | undefined {
  if (byte === undefined) return undefined;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return undefined;
}

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** ISO-BMFF brands of AVIF and HEIF still images and sequences. */
const heifBrands = new Set(['avif', 'avis', 'heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);

/**
 * Identifies the format from its magic bytes. Only these formats reach libvips, which has loaders
 * for much more (SVG, gzipped SVG, PDF, FITS, Matlab…) that untrusted bytes must never select.
 */
function sniffFormat(bytes: Buffer): SniffedFormat | 'svg' | undefined {
  const ascii = (start: number, end: number): string => bytes.toString('latin1', start, end);
  if (bytes.subarray(0, 8).equals(pngSignature)) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'tiff';
  if (ascii(4, 8) === 'ftyp' && heifBrands.has(ascii(8, 12))) return 'heif';
  if (looksLikeSvg(bytes)) return 'svg';
  return undefined;
}

function looksLikeSvg(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 4096);
  let text: string;
  if (head[0] === 0xff && head[1] === 0xfe) {
    text = head.subarray(2, head.length & ~1).toString('utf16le');
  } else if (head[0] === 0xfe && head[1] === 0xff) {
    text = Buffer.from(head.subarray(2, head.length & ~1)).swap16().toString('utf16le');
  } else {
    text = head.toString('latin1').replace(/^\u00EF\u00BB\u00BF/, '');
  }
  const start = text.trimStart().toLowerCase();
  return start.startsWith('<') && start.includes('<svg');
}

async function normalizeImage(bytes: Buffer, maxWidth: number, maxHeight: number, config: ResolvedOptions): Promise<FetchedImage> {
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
  try {
    // Decode once to 8-bit sRGB pixels: EXIF orientation applied, embedded ICC/CMYK converted,
    // every metadata block left behind. The alpha check then decides the output format.
    const { data, info } = await sharp(bytes, { ...input, autoOrient: true })
      .resize({ width: maxWidth, height: maxHeight, fit: 'inside', withoutEnlargement: true })
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

interface Circumstances {
  readonly cancelled: boolean;
  readonly timedOut: boolean;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/** Turns whatever a load threw into one AssetError whose message starts with the image's scheme and host. */
function classify(error: unknown, where: string, circumstances: Circumstances): AssetError {
  const prefix = `image ${where}: `;
  if (error instanceof Reason) {
    return new AssetError(error.code, `${prefix}${error.message}`, detail(where, error.hint), { cause: error.cause });
  }
  const guardError = findAssetError(error);
  if (guardError !== undefined) {
    return new AssetError(guardError.code, `${prefix}${guardError.message}`, detail(where, guardError.detail.hint), { cause: error });
  }
  if (circumstances.cancelled) return new AssetError('ABORTED', `${prefix}the fetch was cancelled.`, detail(where), { cause: error });
  if (circumstances.timedOut) {
    return new AssetError('ASSET_FAILED', `${prefix}no complete image within timeoutMs (${circumstances.timeoutMs} ms).`, detail(where, 'The server is too slow; host the image elsewhere or raise fetch.timeoutMs.'), { cause: error });
  }
  const code = errorCode(error);
  switch (code) {
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
      return new AssetError('ASSET_REFUSED', `${prefix}body is larger than maxBytes (${circumstances.maxBytes} bytes).`, detail(where, 'Use a smaller image or raise fetch.maxBytes.'), { cause: error });
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new AssetError('ASSET_FAILED', `${prefix}no complete image within timeoutMs (${circumstances.timeoutMs} ms).`, detail(where), { cause: error });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NODATA':
      return new AssetError('ASSET_FAILED', `${prefix}the host name does not resolve (${code}).`, detail(where, 'Check the host name in the image URL.'), { cause: error });
    default:
      return new AssetError('ASSET_FAILED', `${prefix}the request failed (${code ?? 'unknown error'}).`, detail(where), { cause: error });
  }
}

function detail(where: string, hint?: string): { source: string; hint?: string } {
  return hint === undefined ? { source: where } : { source: where, hint };
}

/** Guard refusals reach us wrapped by the socket layer; find them in the cause chain. */
function findAssetError(error: unknown): AssetError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth += 1) {
    if (current instanceof AssetError) return current;
  }
  return undefined;
}

function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth += 1) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Adds "redirect to <host>: " to a guard refusal met on a redirect hop. */
function prefixed(error: unknown, via: string): unknown {
  if (via === '' || !(error instanceof AssetError)) return error;
  return new AssetError(error.code, `${via}${error.message}`, error.detail, { cause: error });
}

function asAssetError(error: unknown): AssetError {
  if (error instanceof AssetError) return error;
  if (isMergeshotError(error) && error.code === 'ABORTED') return new AssetError('ABORTED', error.message, error.detail, { cause: error });
  return new AssetError('ASSET_FAILED', 'image: unexpected failure while loading the image.', {}, { cause: error });
}

/** A fresh error per caller, so one caller's handling (stack, wrapping) cannot affect another's. */
function reissue(error: AssetError): AssetError {
  return new AssetError(error.code, error.message, error.detail, { cause: error.cause });
}

function closedError(closeSignal: AbortSignal): AssetError {
  return new AssetError('ABORTED', 'image fetch cancelled: the image fetcher is closing.', {}, { cause: closeSignal.reason });
}

function abortedError(signal: AbortSignal): AssetError {
  return new AssetError('ABORTED', 'image fetch cancelled by the caller.', {}, { cause: signal.reason });
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function checkRequest(request: ImageRequest): void {
  for (const key of ['maxWidth', 'maxHeight'] as const) {
    const value = request[key];
    if (!Number.isInteger(value) || value < 1 || value > maxDimension) {
      throw new UsageError('USAGE', `fetchImage: request.${key} must be an integer 1–${maxDimension}, got ${String(value)} (${typeof value}). Pass twice the slot size in CSS pixels.`);
    }
  }
}

function resolveOptions(options: ImageFetcherOptions): ResolvedOptions {
  const resolved = { ...imageFetcherDefaults, ...stripUndefined(options) };
  const minimums = { timeoutMs: 1, maxBytes: 1, maxPixels: 1, maxRedirects: 0, cacheEntries: 1, cacheBytes: 1, failureTtlMs: 0 } as const;
  for (const [key, minimum] of Object.entries(minimums) as [keyof typeof minimums, number][]) {
    const value: unknown = resolved[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
      throw new ConfigError('CONFIG_INVALID', `fetch.${key} must be an integer ≥ ${minimum}, got ${String(value)} (${typeof value}).`);
    }
  }
  if (typeof resolved.userAgent !== 'string' || resolved.userAgent.trim() === '' || /[\r\n]/.test(resolved.userAgent)) {
    throw new ConfigError('CONFIG_INVALID', "the image fetcher's userAgent option must be a non-empty single-line string.");
  }
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
