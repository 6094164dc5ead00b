import type { RenderWarning } from '../errors/index.js';

/** A value after normalization: text/enum/color/image/date → string, number → number, boolean → boolean, missing → null. */
export type FieldValue = string | number | boolean | null;

/** Only the template's fields, normalized, fallbacks applied. Keys are the manifest's field names. */
export type NormalizedRecord = Readonly<Record<string, FieldValue>>;

/** One input record as read: `row` is the 1-based data row number (the header is not counted). */
export interface RawRow {
  readonly row: number;
  readonly values: Readonly<Record<string, unknown>>;
}

/**
 * Something a reader noticed about the whole input rather than one row, reported once through
 * the readers' `onNote` option: `encoding` when bytes that are not UTF-8 were read as Windows-1252.
 */
export interface ReadNote {
  readonly code: 'encoding';
  /** Human text without record values. */
  readonly message: string;
}

export interface NormalizeResult {
  readonly record: NormalizedRecord;
  readonly warnings: readonly RenderWarning[];
}
