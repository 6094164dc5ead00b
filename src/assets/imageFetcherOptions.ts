/**
 * Options of the image fetcher: their defaults, and the check that runs in createImageFetcher so
 * that a fetcher with an invalid option never exists.
 */
import { configSchema } from '../config/index.js';
import { ConfigError } from '../errors/index.js';

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

/** The settings under `fetch` take their defaults from the config schema, the only place they live. */
const settings = configSchema.shape.fetch.parse(undefined);

/** The rest are the fetcher's own tuning, not settings. */
const imageFetcherDefaults = {
  timeoutMs: settings.timeoutMs,
  maxBytes: settings.maxBytes,
  maxPixels: settings.maxPixels,
  allowHosts: settings.allowHosts as readonly string[],
  maxRedirects: 3,
  cacheEntries: 200,
  cacheBytes: 64 * 1024 * 1024,
  failureTtlMs: 60_000,
  userAgent: 'mergeshot (image fetcher)',
} as const satisfies Required<ImageFetcherOptions>;

export type ResolvedOptions = { readonly [K in keyof ImageFetcherOptions]-?: NonNullable<ImageFetcherOptions[K]> };

export function resolveOptions(options: ImageFetcherOptions): ResolvedOptions {
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
