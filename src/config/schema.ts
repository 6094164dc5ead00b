import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { z } from 'zod';

/**
 * What an API key may do (the route table is src/server/routes/routeScopes.ts): `render`
 * images and the batches the key made itself; `campaigns` every batch, upload and preflight
 * report (and render); `admin` purge, visual Accept and everything. A key without a scope list
 * may `render` only.
 */
export const apiScopes = ['render', 'campaigns', 'admin'] as const;
export type ApiScope = (typeof apiScopes)[number];

/** Who a studio session is, for the batches it makes (src/server/apiKeys.ts): no key may take the name. */
export const studioPrincipal = 'studio';
const keyName = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;
/** What may be echoed as a wrong scope: a word. Anything else may be the key in the wrong place. */
const showableScope = /^[a-z]{1,16}$/;

/**
 * `server.apiKeys`: a plain string (today's form, render-only, named `key-<first 8 hex digits of
 * its SHA-256>` so logs can tell keys apart without showing one) or `{name, key, scopes}`. Names
 * are what logs, errors and batch owners show; a key itself is never echoed.
 */
const apiKeyEntry = z.union([
  z.string().min(16),
  z.strictObject({
    name: z.string().regex(keyName, 'must be 1–40 letters, digits, "_", "." or "-", starting with a letter or digit, e.g. "ci"'),
    key: z.string().min(16),
    scopes: z.array(z.string()).min(1, `must list at least one scope: ${apiScopes.join(', ')}`).optional(),
  }),
]);

const apiKeysSchema = z
  .array(apiKeyEntry)
  .default([])
  .transform((entries, context) => {
    const keys = entries.map((entry, index) => {
      if (typeof entry === 'string') return { name: `key-${createHash('sha256').update(entry, 'utf8').digest('hex').slice(0, 8)}`, key: entry, scopes: ['render'] as ApiScope[] };
      const scopes = (entry.scopes ?? ['render']).filter((scope, at): scope is ApiScope => {
        if ((apiScopes as readonly string[]).includes(scope)) return true;
        const shown = showableScope.test(scope) ? `"${scope}"` : `of ${scope.length} characters (not shown: is the key in the scope list?)`;
        context.addIssue({ code: 'custom', path: [index, 'scopes', at], message: `(key "${entry.name}") is an unknown scope ${shown}. Scopes: ${apiScopes.join(', ')}.` });
        return false;
      });
      return { name: entry.name, key: entry.key, scopes: [...new Set(scopes)] };
    });
    keys.forEach((entry, index) => {
      if (entry.name === studioPrincipal) context.addIssue({ code: 'custom', path: [index, 'name'], message: `"${studioPrincipal}" is the name of the studio's sessions (the batches they make are theirs): give the key another name.` });
      const named = keys.findIndex((other) => other.name === entry.name);
      if (named < index) context.addIssue({ code: 'custom', path: [index, 'name'], message: `"${entry.name}" is also the name of server.apiKeys.${named}: give each key its own name (batches belong to the name of the key that made them).` });
      const same = keys.findIndex((other) => other.key === entry.key);
      if (same < index) context.addIssue({ code: 'custom', path: [index, 'key'], message: `(key "${entry.name}") is the same key as server.apiKeys.${same} ("${keys[same]!.name}"): list each key once, with all its scopes.` });
    });
    return keys;
  });

export type ApiKeySpec = z.output<typeof apiKeysSchema>[number];

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
      /**
       * A batch sent to the API (its rows, images, manifest and zip: personal data) is deleted
       * from disk this long after it finished; one still running never is. Default 7 days.
       * Batches made from a studio upload go with the upload (studio.uploadTtlMs).
       */
      batchTtlMs: z.number().int().min(1_000).default(7 * 24 * 60 * 60 * 1000),
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
      /** Bearer keys for /api, each a string (render only) or {name, key, scopes}; none configured → /api refuses every request. */
      apiKeys: apiKeysSchema,
      /** HMAC keys for signed URLs: the first signs, all verify (rotation). */
      signingKeys: z.array(z.string().min(16)).default([]),
      /** AES-256-GCM key for /t/ tokens: 32 bytes as 64 hex digits or base64. */
      tokenKey: z.string().optional(),
      /**
       * express "trust proxy": hops in front of the server whose X-Forwarded-For/-Proto are believed
       * (1 behind one nginx or Caddy; `true` would believe a client's own X-Forwarded-For). It
       * decides the client address the studio's login throttle counts, whether a request is HTTPS
       * (Secure, `__Host-` session cookie), and lets a proxied request name a public Host on a
       * loopback bind.
       */
      trustProxy: z.union([z.boolean(), z.number().int().min(0)]).default(false),
      /** In-flight requests get this long to finish on SIGTERM/SIGINT. */
      shutdownGraceMs: z.number().int().min(0).default(30_000),
      /** /readyz reuses its test render this long. */
      readyCacheMs: z.number().int().min(0).default(5_000),
      /**
       * Refuse to start when a template does not load or has a problem (server/bootCheck.ts). Off:
       * the server starts, serves every good template, and /readyz lists the broken ones.
       */
      strict: z.boolean().default(false),
      /** Re-read templates and styles when their files change. */
      watchTemplates: z.boolean().default(true),
      /**
       * With watchTemplates: re-check the template and style files this often, besides fs events
       * (which some saves and network mounts never give). Cheap: a stat per file, a file is hashed
       * only when its stat changed. 0: events only.
       */
      templatePollMs: z.number().int().min(0).max(60_000).default(1_000),
      /** Preset per extension when the URL names none and the template's defaultPreset has another format. */
      extensionPresets: z
        .strictObject({ jpg: z.string().default('email'), png: z.string().default('original'), webp: z.string().default('web') })
        .prefault({}),
    })
    .prefault({}),
  studio: z
    .strictObject({
      /** The web page at `/` of `mergeshot serve`: gallery, previews, campaigns, visual review. */
      enabled: z.boolean().default(true),
      /**
       * The studio's login, on every bind, loopback too (an API key works too). None configured →
       * the server prints a one-time login URL at start, as Jupyter does.
       */
      password: z.string().min(12).optional(),
      /** A login session lasts this long without use. */
      sessionIdleMs: z.number().int().min(60_000).default(8 * 60 * 60 * 1000),
      /** …and this long at most, however much it is used: then the studio asks for a login again. */
      sessionMaxMs: z.number().int().min(60_000).default(12 * 60 * 60 * 1000),
      /** The one-time login URL printed at start logs in once, within this long. */
      loginLinkMs: z.number().int().min(10_000).default(15 * 60 * 1000),
      /** Uploaded CSVs, preflight reports and campaign outputs (personal data): only here. */
      dataDir: z.string().default('.mergeshot-cache/studio'),
      /** Data rows one upload may hold; a longer list is refused, naming this setting. */
      uploadMaxRows: z.number().int().min(1).max(10_000_000).default(250_000),
      /** Disk quota of dataDir (uploads, reports, campaign images); an upload that would pass it is refused. */
      dataMaxBytes: z.number().int().min(1_048_576).default(2 * 1024 * 1024 * 1024),
      /**
       * An upload, its preflight report and the batches made from it are deleted from disk this
       * long after the upload (personal data does not stay forever). Default 7 days.
       */
      uploadTtlMs: z.number().int().min(1_000).default(7 * 24 * 60 * 60 * 1000),
      /** How often expired uploads and API batches (server.batchTtlMs) are looked for (and once at start). */
      sweepIntervalMs: z.number().int().min(100).max(24 * 60 * 60 * 1000).default(60 * 60 * 1000),
    })
    .prefault({}),
  /**
   * Scale-out (docs/scale.md): BullMQ on Redis for batch work, an S3-compatible store for images.
   * Both optional: without them everything runs on one machine as before. Credentials come
   * from the AWS default chain (AWS_ACCESS_KEY_ID…, profiles, instance roles), never from here.
   */
  distributed: z
    .strictObject({
      /** `redis://[:password@]host:port[/db]` or `rediss://…` (TLS). */
      redisUrl: z.string().regex(/^rediss?:\/\/[^\s]+$/, 'must look like redis://host:6379 (or rediss:// for TLS)').optional(),
      /** `s3://bucket/prefix`: images under `<prefix>/cache/`, batch state under `<prefix>/batches/`. */
      storeUrl: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s]*)?$/, 'must look like s3://bucket/prefix (bucket: 3–63 lowercase letters, digits, dots, dashes)').optional(),
      /** S3-compatible endpoint (MinIO, R2, GCS interop); absent → AWS S3 of `region`. */
      endpoint: z.url({ protocol: /^https?$/ }).optional(),
      region: z.string().min(1).default('us-east-1'),
      /** Path-style URLs (`endpoint/bucket/key`): MinIO and most self-hosted servers need it. */
      forcePathStyle: z.boolean().default(false),
      /** Prefix of every Redis key and queue name, so several deployments can share one Redis. */
      queuePrefix: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'must be 1–40 letters, digits, _ or -').default('mergeshot'),
      /** Rows per chunk job: big enough that queue overhead is small, small enough that a lost worker costs little. */
      chunkRows: z.number().int().min(1).max(10_000).default(50),
      /** Chunks one worker renders at the same time (overlaps one chunk's tail with the next). */
      workerChunks: z.number().int().min(1).max(16).default(2),
      /** A chunk whose worker stops renewing its lock for this long is handed to another worker. */
      stalledMs: z.number().int().min(1_000).max(600_000).default(30_000),
      /** Attempts of a chunk whose job fails (store or Redis down), with exponential backoff. */
      jobAttempts: z.number().int().min(1).max(100).default(8),
      backoffMs: z.number().int().min(10).max(600_000).default(1_000),
      /** Expiry of the cross-node render lock of one image URL: longer than one render. */
      lockTtlMs: z.number().int().min(1_000).max(600_000).default(15_000),
      /** One store request may take this long. */
      storeTimeoutMs: z.number().int().min(100).max(120_000).default(5_000),
      /** After a failed store request, requests fail fast this long, then one is tried again. */
      storeRetryMs: z.number().int().min(100).max(600_000).default(5_000),
    })
    .prefault({}),
});

export type MergeshotConfig = z.infer<typeof configSchema>;
/** What callers may pass: every key optional, nested too. */
export type MergeshotConfigInput = z.input<typeof configSchema>;
