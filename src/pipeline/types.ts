import type { RenderWarning } from '../errors/index.js';
import type { NormalizedRecord } from '../data/index.js';
import type { FittedText, PageInspection } from '../render/index.js';
import type { CodeSpec } from '../template/index.js';

/**
 * A record mapped to a template's fields and normalized once (Pipeline.prepare), for the
 * template version it was made for. A front end derives its cache key from it, and a render
 * given it does not map or normalize again.
 */
export interface PreparedRecord {
  readonly templateDir: string;
  readonly templateVersion: string;
  readonly record: NormalizedRecord;
  readonly warnings: readonly RenderWarning[];
}

export interface RenderRequest {
  /** Template id (folder under templatesDir) or a folder path. */
  readonly template: string;
  /** Values keyed by field name (or by column name: matched the same way as CSV headers). */
  readonly data?: Readonly<Record<string, unknown>> | undefined;
  /** The record already prepared for this template: used instead of `data` while its version is current. */
  readonly prepared?: PreparedRecord | undefined;
  readonly preset?: string | undefined;
  readonly size?: string | undefined;
  /** Overrides field → column matching, as `--map field=Column`. */
  readonly map?: Readonly<Record<string, string>> | undefined;
  /** Joined with the per-render deadline; aborting cancels the render. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Opt-in page inspection for `mergeshot check` (RenderResult.inspection): slower (one extra
   * capture per field) and never cached. A render without it is exactly the normal render.
   */
  readonly inspect?: boolean | undefined;
}

/** What an inspected render measured in its page (render/inspect.ts). */
export interface RenderInspection extends PageInspection {
  /** The field (else the alt text, else "img") of each <img> the page could not decode. */
  readonly brokenImages: readonly string[];
}

export interface StageTimings {
  readonly normalizeMs: number;
  readonly assetsMs: number;
  readonly mergeMs: number;
  readonly renderMs: number;
  readonly encodeMs: number;
}

export interface RenderResult {
  readonly bytes: Buffer;
  readonly contentType: string;
  readonly format: string;
  readonly width: number;
  readonly height: number;
  readonly alt: string;
  readonly record: NormalizedRecord;
  readonly warnings: readonly RenderWarning[];
  readonly template: { readonly id: string; readonly version: string };
  readonly preset: string;
  readonly size: string;
  readonly timings: StageTimings;
  /** How many times the render was retried after a browser crash. */
  readonly retries: number;
  /** Only when the request asked for it (RenderRequest.inspect). */
  readonly inspection?: RenderInspection;
  /** The QR codes and barcodes drawn, with the values they must decode to (never logged). */
  readonly codes: readonly CodeSpec[];
}

/**
 * What a measured record would render as (Pipeline.measure), without a capture or an encode:
 * preflight's per-row figures.
 */
export interface Measurement {
  readonly record: NormalizedRecord;
  /** Every warning a render would give except over-budget (that needs the encoded bytes). */
  readonly warnings: readonly RenderWarning[];
  readonly alt: string;
  readonly fitted: readonly FittedText[];
}

export type RowStatus = 'ok' | 'warning' | 'failed';

/** One outcome per input row, whatever happened: a batch never throws for a row. */
export interface RowOutcome {
  readonly row: number;
  readonly status: RowStatus;
  readonly warnings: readonly RenderWarning[];
  readonly result?: RenderResult;
  /** For a batch run with `measure` instead of the render. */
  readonly measurement?: Measurement;
  /** Error code and message when the row failed (no record values in it). */
  readonly error?: { readonly code: string; readonly message: string };
}
