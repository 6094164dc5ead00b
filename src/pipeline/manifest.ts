import { stringify } from 'csv-stringify/sync';
import { extensionOf } from './target.js';
import { spreadsheetSafe } from './spreadsheetCells.js';
import type { RowOutcome } from './types.js';

/**
 * manifest.csv, the one schema every front end writes (the CLI's `render`, server batches,
 * and the workers and studio after them): a line per input row, numbered as in the input.
 *   row, file, bytes, width, height, status (ok | warning | failed), warnings (`code:field;…`),
 *   error, alt
 */
export interface ManifestEntry {
  readonly row: number;
  readonly file: string;
  readonly bytes: number;
  readonly width: number;
  readonly height: number;
  readonly status: RowOutcome['status'];
  readonly warnings: string;
  readonly error: string;
  readonly alt: string;
}

const manifestColumns = ['row', 'file', 'bytes', 'width', 'height', 'status', 'warnings', 'error', 'alt'] as const;

export function manifestEntry(outcome: RowOutcome, file: string): ManifestEntry {
  const result = outcome.result;
  return {
    row: outcome.row,
    file,
    bytes: result?.bytes.length ?? 0,
    width: result?.width ?? 0,
    height: result?.height ?? 0,
    status: outcome.status,
    warnings: outcome.warnings.map((w) => `${w.code}:${w.field ?? ''}`).join(';'),
    error: outcome.error?.message ?? '',
    alt: result?.alt ?? '',
  };
}

/** The image file name of a row without a naming pattern: `00042.png`. */
export function defaultFileName(row: number, format: string): string {
  return `${String(row).padStart(5, '0')}.${extensionOf(format)}`;
}

/** csv-stringify's cast that writes every cell spreadsheet-safe (see spreadsheetCells.ts). */
export const spreadsheetSafeCast = { string: spreadsheetSafe, number: (value: number) => spreadsheetSafe(String(value)) } as const;

/** manifest.csv's text, sorted by row. */
export function manifestCsv(entries: Iterable<ManifestEntry>): string {
  const rows = [...entries].sort((a, b) => a.row - b.row);
  return stringify(rows, { header: true, columns: [...manifestColumns], cast: spreadsheetSafeCast });
}
