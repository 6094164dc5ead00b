import type { Logger } from 'pino';
import sharp from 'sharp';
import { cacheKey, SingleFlight, type CacheEntry, type MemoryLayer } from '../cache/index.js';
import { encodedSize, type Preset } from '../encode/index.js';
import type { Pipeline } from '../pipeline/index.js';
import type { TemplateSize } from '../template/index.js';
import type { ImageTarget } from './images.js';
import type { ServerMetrics } from './metrics.js';

/**
 * What an image route answers when it cannot produce the requested image: the template
 * rendered with an empty record, so every field shows its fallback ("Hi Friend"). A broken-image
 * icon in an inbox is the one outcome worse than a generic image.
 *
 * Rendered once per template version + preset + size and kept in the cache like any image. If
 * even that render fails (Chromium down, the queue full before the first fallback was made, a
 * required field without fallback), a blank image of the right format and dimensions is
 * answered instead, and the fallback render is not retried for `retryAfterMs`, so an overloaded
 * server is not asked for more renders by its own failure path.
 */
export class FallbackImages {
  readonly #pipeline: Pipeline;
  readonly #store: MemoryLayer;
  readonly #metrics: ServerMetrics;
  readonly #logger: Logger;
  readonly #flight = new SingleFlight<CacheEntry>();
  /** Fallback renders that failed recently: key → time they may be tried again. */
  readonly #failedUntil = new Map<string, number>();
  readonly #blanks = new Map<string, Promise<CacheEntry>>();
  readonly #retryAfterMs: number;

  constructor(options: { pipeline: Pipeline; store: MemoryLayer; metrics: ServerMetrics; logger: Logger; retryAfterMs?: number }) {
    this.#pipeline = options.pipeline;
    this.#store = options.store;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#retryAfterMs = options.retryAfterMs ?? 10_000;
  }

  async get(target: ImageTarget): Promise<CacheEntry> {
    const template = target.template.id;
    const key = cacheKey({ kind: 'fallback', template, templateVersion: target.template.version, preset: target.preset, presetSpec: target.presetSpec, size: target.size.name, record: {} });
    const stored = await this.#store.get(key).catch(() => undefined);
    if (stored) return stored;
    if ((this.#failedUntil.get(key) ?? 0) > Date.now()) return this.blank(target.presetSpec, target.size);
    try {
      return await this.#flight.run(key, async () => {
        const result = await this.#pipeline.renderOne({ template: target.template.dir, data: {}, preset: target.preset, size: target.size.name });
        this.#metrics.renders.inc({ template, outcome: 'fallback' });
        const entry: CacheEntry = { bytes: result.bytes, meta: { contentType: result.contentType, template, createdAt: Date.now(), width: result.width, height: result.height } };
        if (result.template.version === target.template.version) await this.#store.put(key, entry).catch(() => undefined);
        return entry;
      }).promise;
    } catch (error) {
      this.#metrics.renders.inc({ template, outcome: 'failed' });
      this.#logger.warn({ template, preset: target.preset, code: (error as { code?: string }).code ?? 'INTERNAL' }, 'fallback render failed; answering a blank image');
      if (this.#failedUntil.size > 1_000) this.#failedUntil.clear();
      this.#failedUntil.set(key, Date.now() + this.#retryAfterMs);
      return this.blank(target.presetSpec, target.size);
    }
  }

  /** A blank image in the preset's format and (approximate) output dimensions: white JPEG, transparent PNG/WebP. */
  blank(preset: Preset, size: TemplateSize): Promise<CacheEntry> {
    const { width, height } = encodedSize(preset, size.width, size.height);
    const id = `${preset.format}:${width}x${height}`;
    let blank = this.#blanks.get(id);
    if (!blank) {
      if (this.#blanks.size > 100) this.#blanks.clear();
      const opaque = preset.format === 'jpeg';
      blank = sharp({ create: { width, height, channels: opaque ? 3 : 4, background: opaque ? '#ffffff' : { r: 255, g: 255, b: 255, alpha: 0 } } })
        .toFormat(preset.format)
        .toBuffer()
        .then((bytes) => ({ bytes, meta: { contentType: `image/${preset.format}`, template: 'blank', createdAt: Date.now(), width, height } }));
      this.#blanks.set(id, blank);
    }
    return blank;
  }
}

