import { readdir } from 'node:fs/promises';
import { LRUCache } from 'lru-cache';
import { SingleFlight } from '../cache/index.js';
import { MergeshotError, type RenderWarning } from '../errors/index.js';
import { confinedPath, readConfined, refuseLinkedFolder, writeConfined } from '../files/index.js';
import type { Pipeline } from '../pipeline/index.js';
import type { LoadedTemplate } from '../template/index.js';
import { comparableImage, describeTolerance, toleranceOf } from './comparableImage.js';
import { compareWithGolden, type Comparison } from './compare.js';
import { changedInputs, goldenInputs, hashOf, readSidecar, recordHash, sidecarJson, sidecarOf, writeSidecar, type GoldenInputs, type GoldenSidecar } from './goldenSidecar.js';
import { goldenFiles, goldenFolder, stylesDirOf } from './paths.js';
import { currentFingerprint, readFingerprint, rendererChange, writeFingerprint, type RendererFingerprint } from './rendererFingerprint.js';
import { visualSuite, type TemplateCase, type TemplateSuite } from './templateCases.js';

/**
 * The template suite's verdict for one template, without the suite: every case rendered by the
 * pipeline exactly as test/templates/visual.spec.ts renders it, compared with its golden by
 * Playwright's own comparator, and accepted by writing what `npm run test:templates --
 * --update-snapshots` writes (the image's bytes as the golden, the same sidecar JSON, the
 * renderer fingerprint when it is missing or changed). The studio's visual review is its front end.
 *
 * Ownership: the front end that creates a VisualReview owns it; it holds only bounded memory
 * (renders and comparisons, each an LRU capped in bytes) and borrows the caller's pipeline.
 * Nothing here outlives a call: no timers, no files left open.
 */

export class VisualError extends MergeshotError {}

export type CaseStatus = 'pass' | 'differs' | 'missing';
export const imageKinds = ['expected', 'actual', 'diff'] as const;
export type ImageKind = (typeof imageKinds)[number];

export interface ReviewWarning {
  readonly code: string;
  readonly field: string;
  readonly message: string;
}

export interface CaseReview {
  /** `<sample>.<size>.<preset>`, the golden's file name without `.png`. */
  readonly name: string;
  readonly sample: string;
  readonly size: string;
  readonly preset: string;
  readonly status: CaseStatus;
  /** Pixels Playwright's comparator counted as different (status differs). */
  readonly diffPixels?: number;
  /** Playwright's own failure message (status differs). */
  readonly message?: string;
  /** "exact (maxDiffPixels 0, threshold 0), no masks; set in template.json check.visual". */
  readonly tolerance: string;
  /** Inputs changed since the golden was accepted ("template.html changed"); empty without a sidecar. */
  readonly changedInputs: readonly string[];
  /** Whether the golden has a sidecar (without one its inputs are unknown). */
  readonly hasSidecar: boolean;
  /** This render's warnings. */
  readonly warnings: readonly ReviewWarning[];
  /** The golden render's warnings, from its sidecar. */
  readonly acceptedWarnings: readonly ReviewWarning[];
  /** Hashes of the images the review can serve: a client's cache key (the diff has none without a failure). */
  readonly images: { readonly actual: string; readonly expected?: string; readonly diff?: string };
}

export interface RendererReview {
  /** The fingerprint stored with the goldens (templates/__golden__/renderer.json), when there is one. */
  readonly stored?: RendererFingerprint;
  readonly current: RendererFingerprint;
  /** "the renderer changed from … to …: review and accept", when it did. */
  readonly change?: string;
}

export interface TemplateReview {
  readonly template: string;
  readonly version: string;
  /** pass: every case matches and the renderer fingerprint is stored and unchanged. */
  readonly status: 'pass' | 'fail';
  readonly counts: Readonly<Record<CaseStatus, number>>;
  /** Why no case could be made (no samples, a sample name that cannot name a file). */
  readonly problem?: string;
  readonly renderer: RendererReview;
  readonly cases: readonly CaseReview[];
  /** Files in `__golden__/` no case uses any more; the suite fails on them (`--update-snapshots=all` deletes them). */
  readonly orphans: readonly string[];
}

export interface AcceptResult {
  /** Cases whose golden image was written (it was missing or differed). */
  readonly written: readonly string[];
  /** Cases whose sidecar alone was rewritten (the golden already held these bytes). */
  readonly sidecars: readonly string[];
  /** Cases left as they were: within the tolerance, as `--update-snapshots` leaves them. */
  readonly unchanged: readonly string[];
  /** Whether templates/__golden__/renderer.json was written. */
  readonly renderer: boolean;
  /** The review after accepting. */
  readonly review: TemplateReview;
}

export interface VisualReviewOptions {
  readonly pipeline: Pipeline;
  /** Memory for rendered images (default 96 MB) and, as much again at most, for diff images. */
  readonly maxBytes?: number;
}

interface RenderedCase {
  readonly entry: TemplateCase;
  readonly image: Buffer;
  readonly hash: string;
  readonly warnings: readonly RenderWarning[];
  readonly inputs: GoldenInputs;
}

interface TemplateRenders {
  readonly suite: TemplateSuite;
  readonly renderer: RendererFingerprint;
  readonly cases: ReadonlyMap<string, RenderedCase>;
  readonly bytes: number;
}

/** What a golden on disk is now, read at every review: another process may accept meanwhile. */
interface GoldenState {
  readonly bytes: Buffer | undefined;
  readonly sidecar: GoldenSidecar | undefined;
}

const defaultMaxBytes = 96 * 1024 * 1024;

export class VisualReview {
  readonly #pipeline: Pipeline;
  /** Renders of each template version; a new version of a template replaces its older one. */
  readonly #renders: LRUCache<string, TemplateRenders>;
  /** Template folder → the key of its cached renders, to drop them when its version changes. */
  readonly #latest = new Map<string, string>();
  readonly #rendering = new SingleFlight<TemplateRenders>();
  /** Comparisons by actual hash + golden hash + tolerance: a golden accepted elsewhere is compared anew. */
  readonly #comparisons: LRUCache<string, Comparison>;
  #fingerprint: Promise<RendererFingerprint> | undefined;
  /** Accepts run one at a time: two at once would read and write the same goldens. */
  #accepting: Promise<unknown> = Promise.resolve();

  constructor(options: VisualReviewOptions) {
    this.#pipeline = options.pipeline;
    const maxBytes = options.maxBytes ?? defaultMaxBytes;
    this.#renders = new LRUCache({
      maxSize: maxBytes,
      // A template larger than the whole budget is still reviewed, just not kept.
      sizeCalculation: (renders) => Math.min(Math.max(1, renders.bytes), maxBytes),
      dispose: (_renders, key) => {
        const dir = key.slice(0, key.lastIndexOf('\0'));
        if (this.#latest.get(dir) === key) this.#latest.delete(dir);
      },
    });
    this.#comparisons = new LRUCache({ maxSize: maxBytes, sizeCalculation: (comparison) => Math.min(Math.max(64, (comparison.diff?.length ?? 0) + 64), maxBytes) });
  }

  /** Renders every case (once per template version) and compares each with its golden. */
  async review(template: LoadedTemplate): Promise<TemplateReview> {
    const renders = await this.#rendersOf(template);
    const { suite } = renders;
    const stored = await readFingerprint(this.#pipeline.registry.templatesDir);
    const change = stored && rendererChange(stored, renders.renderer);
    const renderer: RendererReview = { current: renders.renderer, ...(stored ? { stored } : {}), ...(change ? { change } : {}) };
    const cases: CaseReview[] = [];
    for (const rendered of renders.cases.values()) cases.push(await this.#reviewCase(suite, rendered, await readGolden(suite.dir, rendered.entry.name)));
    const counts = { pass: 0, differs: 0, missing: 0 };
    for (const entry of cases) counts[entry.status] += 1;
    const orphans = await orphansOf(suite);
    const passes = !suite.problem && stored !== undefined && change === undefined && counts.differs === 0 && counts.missing === 0 && orphans.length === 0;
    return { template: template.id, version: template.version, status: passes ? 'pass' : 'fail', counts, ...(suite.problem ? { problem: suite.problem } : {}), renderer, cases, orphans };
  }

  /** One of a case's three images: the golden on disk, this render, or Playwright's diff of the two. */
  async image(template: LoadedTemplate, caseName: string, kind: ImageKind): Promise<Buffer> {
    const renders = await this.#rendersOf(template);
    const rendered = caseOf(renders, template, caseName);
    if (kind === 'actual') return rendered.image;
    const golden = await readGolden(renders.suite.dir, caseName);
    if (!golden.bytes) throw new VisualError('GOLDEN_NOT_FOUND', `${template.id}: no golden ${goldenFolder}/${caseName}.png yet: accept this render to write it.`, { field: caseName });
    if (kind === 'expected') return golden.bytes;
    const comparison = this.#compare(renders.suite, rendered, golden.bytes);
    if (!comparison.diff) throw new VisualError('VISUAL_NO_DIFF', `${template.id}: ${caseName} matches its golden (${describeTolerance(toleranceOf(renders.suite.visual), rendered.entry.masks)}): there is no diff.`, { field: caseName });
    return comparison.diff;
  }

  /**
   * Accepts cases as `npm run test:templates -- --update-snapshots` does: a missing or differing
   * golden gets this render's bytes; a golden that now holds those bytes gets a fresh sidecar
   * when its own is missing or stale; one within the tolerance is left alone. The renderer
   * fingerprint is written when it is missing or changed. Nothing is written through a link: a
   * golden folder that is one is refused before any write (FILE_IS_LINK), a golden or sidecar
   * that is one is replaced by a file of its own (src/files writeConfined).
   */
  accept(template: LoadedTemplate, which: readonly string[] | 'all'): Promise<AcceptResult> {
    const run = this.#accepting.then(() => this.#accept(template, which));
    this.#accepting = run.catch(() => undefined);
    return run;
  }

  async #accept(template: LoadedTemplate, which: readonly string[] | 'all'): Promise<AcceptResult> {
    const renders = await this.#rendersOf(template);
    const names = which === 'all' ? [...renders.cases.keys()] : [...new Set(which)];
    const chosen = names.map((name) => caseOf(renders, template, name));
    const { templatesDir } = this.#pipeline.registry;
    await refuseLinkedFolder(renders.suite.dir, goldenFolder);
    await refuseLinkedFolder(templatesDir, goldenFolder);
    const stored = await readFingerprint(templatesDir);
    const renderer = !stored || rendererChange(stored, renders.renderer) !== undefined;
    if (renderer) await writeFingerprint(templatesDir, renders.renderer);
    const written: string[] = [];
    const sidecars: string[] = [];
    const unchanged: string[] = [];
    for (const rendered of chosen) {
      const golden = await readGolden(renders.suite.dir, rendered.entry.name);
      let onDisk = golden.bytes;
      if (!onDisk || !this.#compare(renders.suite, rendered, onDisk).matches) {
        await writeConfined(renders.suite.dir, goldenFiles(rendered.entry.name).image, rendered.image);
        onDisk = rendered.image;
        written.push(rendered.entry.name);
      }
      const sidecar = sidecarOf(rendered.image, rendered.warnings, rendered.inputs);
      if (onDisk.equals(rendered.image) && (golden.sidecar === undefined || sidecarJson(golden.sidecar) !== sidecarJson(sidecar))) {
        await writeSidecar(renders.suite.dir, rendered.entry.name, sidecar);
        if (!written.includes(rendered.entry.name)) sidecars.push(rendered.entry.name);
      } else if (!written.includes(rendered.entry.name)) unchanged.push(rendered.entry.name);
    }
    return { written, sidecars, unchanged, renderer, review: await this.review(template) };
  }

  async #reviewCase(suite: TemplateSuite, rendered: RenderedCase, golden: GoldenState): Promise<CaseReview> {
    const { entry } = rendered;
    const base = {
      name: entry.name,
      sample: entry.sample,
      size: entry.size,
      preset: entry.preset,
      tolerance: describeTolerance(toleranceOf(suite.visual), entry.masks),
      changedInputs: golden.sidecar ? changedInputs(golden.sidecar.inputs, rendered.inputs) : [],
      hasSidecar: golden.sidecar !== undefined,
      warnings: reviewWarnings(rendered.warnings),
      acceptedWarnings: golden.sidecar?.warnings ?? [],
    };
    if (!golden.bytes) return { ...base, status: 'missing', images: { actual: rendered.hash } };
    const comparison = this.#compare(suite, rendered, golden.bytes);
    const expected = hashOf(golden.bytes);
    if (comparison.matches) return { ...base, status: 'pass', images: { actual: rendered.hash, expected } };
    return {
      ...base,
      status: 'differs',
      ...(comparison.diffPixels === undefined ? {} : { diffPixels: comparison.diffPixels }),
      ...(comparison.message ? { message: comparison.message } : {}),
      images: { actual: rendered.hash, expected, ...(comparison.diff ? { diff: hashOf(comparison.diff) } : {}) },
    };
  }

  #compare(suite: TemplateSuite, rendered: RenderedCase, golden: Buffer): Comparison {
    const tolerance = toleranceOf(suite.visual);
    const key = `${rendered.hash}\0${hashOf(golden)}\0${JSON.stringify(tolerance)}`;
    const known = this.#comparisons.get(key);
    if (known) return known;
    const comparison = compareWithGolden(rendered.image, golden, tolerance);
    this.#comparisons.set(key, comparison);
    return comparison;
  }

  async #rendersOf(template: LoadedTemplate): Promise<TemplateRenders> {
    const key = `${template.dir}\0${template.version}`;
    const known = this.#renders.get(key);
    if (known) return known;
    const renders = await this.#rendering.run(key, () => this.#render(template)).promise;
    const previous = this.#latest.get(template.dir);
    if (previous !== undefined && previous !== key) this.#renders.delete(previous);
    this.#latest.set(template.dir, key);
    this.#renders.set(key, renders);
    return renders;
  }

  async #render(template: LoadedTemplate): Promise<TemplateRenders> {
    const suite = visualSuite(template.id, template.dir, template.manifest);
    const renderer = await this.#currentFingerprint();
    const shared = suite.cases.length === 0 ? undefined : await goldenInputs(template.dir, await stylesDirOf(this.#pipeline.registry.stylesDir), renderer.fonts, {});
    // As many renders at once as the pool has pages: more would only queue (and could fill the queue).
    const rendered = await mapBounded(suite.cases, this.#pipeline.config.render.pages, async (entry): Promise<RenderedCase> => {
      const result = await this.#pipeline.renderOne({ template: template.dir, data: entry.data, preset: entry.preset, size: entry.size });
      const image = await comparableImage(result, entry.sizeWidth, entry.masks);
      return { entry, image, hash: hashOf(image), warnings: result.warnings, inputs: { ...shared!, record: recordHash(entry.data) } };
    });
    return { suite, renderer, cases: new Map(rendered.map((entry) => [entry.entry.name, entry])), bytes: rendered.reduce((sum, entry) => sum + entry.image.length, 0) };
  }

  #currentFingerprint(): Promise<RendererFingerprint> {
    this.#fingerprint ??= currentFingerprint(this.#pipeline).catch((error: unknown) => {
      // A browser that failed to start may start next time: do not keep the failure.
      this.#fingerprint = undefined;
      throw error;
    });
    return this.#fingerprint;
  }
}

function caseOf(renders: TemplateRenders, template: LoadedTemplate, name: string): RenderedCase {
  const rendered = renders.cases.get(name);
  if (rendered) return rendered;
  const known = [...renders.cases.keys()];
  throw new VisualError('VISUAL_CASE_NOT_FOUND', `${template.id}: no visual test "${name.slice(0, 200)}". Its cases are <sample>.<size>.<preset>: ${known.join(', ') || '(none: the template has no samples)'}.`, { field: 'case' });
}

/** A golden and its sidecar, read inside the template folder: one that is a link out of it is refused (FILE_OUTSIDE_ROOT). */
async function readGolden(templateDir: string, name: string): Promise<GoldenState> {
  const bytes = await readConfined(templateDir, goldenFiles(name).image).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  return { bytes, sidecar: await readSidecar(templateDir, name) };
}

async function orphansOf(suite: TemplateSuite): Promise<string[]> {
  if (suite.problem) return [];
  const expected = new Set(suite.cases.flatMap((entry) => [`${entry.name}.png`, `${entry.name}.json`]));
  // Listed only where it really is inside the template (a link out of it is refused).
  const folder = await confinedPath(suite.dir, goldenFolder).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  const files = folder === undefined ? [] : await readdir(folder).catch(() => [] as string[]);
  return files.filter((file) => !expected.has(file)).sort();
}

function reviewWarnings(warnings: readonly RenderWarning[]): ReviewWarning[] {
  return warnings.map(({ code, field, message }) => ({ code, field: field ?? '', message }));
}

/** Maps with at most `limit` calls in flight, keeping the order of `items`. */
async function mapBounded<T, R>(items: readonly T[], limit: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) results[index] = await map(items[index]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

