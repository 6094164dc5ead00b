import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { SingleFlight, type CacheEntry, type MemoryLayer } from '../cache/index.js';
import type { MergeshotConfig } from '../config/index.js';
import type { RenderCoordinator } from '../distributed/index.js';
import type { NormalizedRecord } from '../data/index.js';
import type { Preset } from '../encode/index.js';
import { MergeshotError } from '../errors/index.js';
import { imageCacheKey, targetOf, type Pipeline, type PreparedRecord, type TargetRequest } from '../pipeline/index.js';
import type { LoadedTemplate, TemplateSize } from '../template/index.js';
import type { ServerMetrics } from './metrics.js';

/**
 * Render-through-cache, shared by the image routes, the token route and POST /api/render:
 * template + preset + size + normalized record → cache key → stored bytes, or one render
 * (single-flight) whose bytes are stored under that key.
 */

export { isImageExtension, type ImageExtension } from '../pipeline/index.js';

/** The kit's RenderTarget, with the names the routes use. */
export interface ImageTarget {
  readonly template: LoadedTemplate;
  readonly preset: string;
  readonly presetSpec: Preset;
  readonly size: TemplateSize;
  /** The encoded image's dimensions, known before rendering. */
  readonly output: { readonly width: number; readonly height: number };
}

export interface PreparedImage extends ImageTarget {
  /** Mapped and normalized once (Pipeline.prepare); the render takes it as it is. */
  readonly prepared: PreparedRecord;
  readonly record: NormalizedRecord;
  readonly key: string;
}

export interface ImageServiceOptions {
  readonly pipeline: Pipeline;
  readonly config: Readonly<MergeshotConfig>;
  readonly store: MemoryLayer;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  /** Distributed mode: one render per key across nodes (distributed/renderLocks.ts). */
  readonly coordinator?: RenderCoordinator | undefined;
}

export class ImageService {
  readonly #pipeline: Pipeline;
  readonly #store: MemoryLayer;
  readonly #metrics: ServerMetrics;
  readonly #logger: Logger;
  readonly #coordinator: RenderCoordinator | undefined;
  readonly #flight = new SingleFlight<CacheEntry>();
  /** Disk writes in flight, for close(). */
  readonly #writes = new Set<Promise<void>>();
  /** Loaded templates by id; cleared with the registry (file change, purge). */
  readonly #templates = new Map<string, LoadedTemplate>();

  constructor(options: ImageServiceOptions) {
    this.#pipeline = options.pipeline;
    this.#store = options.store;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#coordinator = options.coordinator;
  }

  get store(): MemoryLayer {
    return this.#store;
  }

  /** Renders and cache writes in flight, for shutdown. */
  async settled(): Promise<void> {
    await this.#flight.settled();
    await Promise.all(this.#writes);
  }

  /** Forgets loaded templates so edited files are read again (their version changes). */
  invalidateTemplates(): void {
    this.#templates.clear();
    this.#pipeline.registry.invalidate();
  }

  /** A template by URL id; TEMPLATE_NOT_FOUND for anything that is not a folder under templatesDir. */
  async template(id: string): Promise<LoadedTemplate> {
    const known = this.#templates.get(id);
    if (known) return known;
    const template = await this.#pipeline.registry.getById(id);
    if (this.#templates.size > 1_000) this.#templates.clear();
    this.#templates.set(id, template);
    return template;
  }

  /** Preset and size for a request, by the kit's one rule (pipeline/target.ts). */
  target(template: LoadedTemplate, options: Omit<TargetRequest, 'template'>): ImageTarget {
    const target = targetOf(this.#pipeline, template, options);
    return { template, preset: target.presetName, presetSpec: target.preset, size: target.size, output: target.output };
  }

  /** Maps values to fields like CSV headers and normalizes them once, then derives the cache key. */
  prepare(target: ImageTarget, values: Readonly<Record<string, unknown>>): PreparedImage {
    const prepared = this.#pipeline.prepare(target.template, values);
    const { record } = prepared;
    const key = imageCacheKey({ template: target.template, presetName: target.preset, preset: target.presetSpec, size: target.size }, record);
    return { ...target, prepared, record, key };
  }

  /** A memory hit without awaiting anything. */
  peek(key: string): CacheEntry | undefined {
    return this.#store.peek(key);
  }

  async lookup(key: string): Promise<CacheEntry | undefined> {
    try {
      return await this.#store.get(key);
    } catch (error) {
      this.#logger.warn({ err: error }, 'cache read failed; rendering');
      return undefined;
    }
  }

  /** Renders (once per key however many callers ask at the same time) and stores the bytes. */
  render(image: PreparedImage): { readonly promise: Promise<CacheEntry>; readonly leader: boolean } {
    const coordinator = this.#coordinator;
    // Coordinated: the entry must be in the shared store before the lock is released, or the
    // nodes waiting on it would find nothing and render it again.
    return this.#flight.run(image.key, () => (coordinator ? coordinator.run(image.key, () => this.#renderAndStore(image, true), () => this.#store.get(image.key)) : this.#renderAndStore(image, false)));
  }

  async #renderAndStore(image: PreparedImage, awaitWrite: boolean): Promise<CacheEntry> {
    const template = image.template.id;
    const started = performance.now();
    let entry: CacheEntry;
    let version: string;
    try {
      const result = await this.#pipeline.renderOne({ template: image.template.dir, prepared: image.prepared, preset: image.preset, size: image.size.name });
      this.#metrics.renders.inc({ template, outcome: result.warnings.length ? 'warning' : 'ok' });
      this.#metrics.renderDuration.observe({ template }, (performance.now() - started) / 1000);
      this.#logger.info({ template, preset: image.preset, size: image.size.name, outcome: result.warnings.length ? 'warning' : 'ok', timings: result.timings, retries: result.retries, warnings: result.warnings.map((w) => `${w.code}:${w.field ?? ''}`) }, 'render');
      version = result.template.version;
      entry = {
        bytes: result.bytes,
        meta: { contentType: result.contentType, template, createdAt: Date.now(), width: result.width, height: result.height, warnings: result.warnings.map((w) => `${w.code}:${w.field ?? ''}`) },
      };
    } catch (error) {
      this.#metrics.renders.inc({ template, outcome: 'failed' });
      const code = error instanceof MergeshotError ? error.code : 'INTERNAL';
      this.#logger.warn({ template, preset: image.preset, size: image.size.name, outcome: 'failed', code }, 'render failed');
      throw error;
    }
    // Edited while rendering: the bytes belong to another version than the key says; serve, do not store.
    if (version === image.template.version) {
      // The memory layer holds the entry before put() first awaits, so the next request is a hit;
      // the response does not wait for the disk write (and its fsync). close() waits for it.
      const write = this.#store.put(image.key, entry).catch((error: unknown) => {
        this.#logger.error({ err: error }, 'cache write failed; the image was served but not stored');
      });
      this.#writes.add(write);
      void write.finally(() => this.#writes.delete(write));
      if (awaitWrite) await write;
    }
    return entry;
  }
}
