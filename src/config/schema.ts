import { availableParallelism } from 'node:os';
import { z } from 'zod';

/**
 * Every setting and its default: the only place defaults live. Units are in the names.
 * `presets` is validated by the encode stage's own schema (it owns the shape).
 */
export const configSchema = z.strictObject({
  templatesDir: z.string().default('templates'),
  stylesDir: z.string().default('styles'),
  render: z
    .strictObject({
      /** Warm pages; each is a Chromium tab with its own context. One per core keeps both busy without thrashing. */
      pages: z.number().int().min(1).max(32).default(Math.max(1, Math.min(8, availableParallelism()))),
      timeoutMs: z.number().int().min(100).max(300_000).default(10_000),
      maxQueue: z.number().int().min(0).max(1_000_000).default(1_000),
      recycleAfter: z.number().int().min(1).default(500),
      chromiumPath: z.string().optional(),
      launchTimeoutMs: z.number().int().min(1_000).default(30_000),
      closeTimeoutMs: z.number().int().min(100).default(5_000),
    })
    .prefault({}),
  fetch: z
    .strictObject({
      timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
      maxBytes: z.number().int().min(1_024).default(10 * 1024 * 1024),
      maxPixels: z.number().int().min(1).default(40_000_000),
      /** Hosts (or IPs/CIDRs) whose private addresses may be fetched, e.g. an intranet CDN. */
      allowHosts: z.array(z.string()).default([]),
    })
    .prefault({}),
  data: z
    .strictObject({
      /** Cap for text fields without their own maxLength. */
      maxLength: z.number().int().min(1).max(10_000).default(200),
    })
    .prefault({}),
  presets: z.record(z.string(), z.unknown()).default({}),
  server: z
    .strictObject({
      port: z.number().int().min(0).max(65_535).default(3000),
      host: z.string().default('0.0.0.0'),
      /** Rendered images on disk; survives restarts. Relative to the working directory. */
      cacheDir: z.string().default('.mergeshot-cache'),
      /** Disk cache size cap; least recently used images are evicted past it. */
      cacheMaxBytes: z.number().int().min(1_048_576).default(1024 * 1024 * 1024),
      /** In-memory hot layer in front of the disk cache. */
      memoryMaxBytes: z.number().int().min(0).default(64 * 1024 * 1024),
      /** Batch jobs' state and images; survives restarts. */
      batchesDir: z.string().default('.mergeshot-cache/batches'),
      /** Cache-Control max-age of image answers when the manifest has no `maxAge`. */
      maxAgeSeconds: z.number().int().min(0).default(86_400),
      /**
       * Cache misses (renders) per client address per minute. Generous: mail providers' image
       * proxies fetch for thousands of recipients from a few addresses.
       */
      missesPerMinute: z.number().int().min(1).default(6_000),
      /** API requests per key per minute. */
      apiRequestsPerMinute: z.number().int().min(1).default(600),
      /** JSON body cap of /api (bytes). */
      bodyMaxBytes: z.number().int().min(1_024).default(1024 * 1024),
      /** CSV/JSON upload cap of POST /api/batches (bytes). */
      uploadMaxBytes: z.number().int().min(1_024).default(20 * 1024 * 1024),
      /** Bearer keys for /api; none configured → /api refuses every request. */
      apiKeys: z.array(z.string().min(16)).default([]),
      /** HMAC keys for signed URLs: the first signs, all verify (rotation). */
      signingKeys: z.array(z.string().min(16)).default([]),
      /** AES-256-GCM key for /t/ tokens: 32 bytes as 64 hex digits or base64. */
      tokenKey: z.string().optional(),
      /** express "trust proxy": hops in front of the server whose X-Forwarded-For is believed. */
      trustProxy: z.union([z.boolean(), z.number().int().min(0)]).default(false),
      /** In-flight requests get this long to finish on SIGTERM/SIGINT. */
      shutdownGraceMs: z.number().int().min(0).default(30_000),
      /** /readyz reuses its test render this long. */
      readyCacheMs: z.number().int().min(0).default(5_000),
      /** Re-read templates and styles when their files change. */
      watchTemplates: z.boolean().default(true),
      /** Preset per extension when the URL names none and the template's defaultPreset has another format. */
      extensionPresets: z
        .strictObject({ jpg: z.string().default('email'), png: z.string().default('original'), webp: z.string().default('web') })
        .prefault({}),
    })
    .prefault({}),
});

export type MergeshotConfig = z.infer<typeof configSchema>;
/** What callers may pass: every key optional, nested too. */
export type MergeshotConfigInput = z.input<typeof configSchema>;
