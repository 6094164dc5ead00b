import type { RenderWarning } from '../errors/index.js';
import type { NormalizedRecord } from '../data/index.js';

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
}

export type RowStatus = 'ok' | 'warning' | 'failed';

/** One outcome per input row, whatever happened: a batch never throws for a row. */
export interface RowOutcome {
  readonly row: number;
  readonly status: RowStatus;
  readonly warnings: readonly RenderWarning[];
  readonly result?: RenderResult;
  /** Error code and message when the row failed (no record values in it). */
  readonly error?: { readonly code: string; readonly message: string };
}
