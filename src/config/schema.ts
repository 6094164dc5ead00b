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
});

export type MergeshotConfig = z.infer<typeof configSchema>;
/** What callers may pass: every key optional, nested too. */
export type MergeshotConfigInput = z.input<typeof configSchema>;
