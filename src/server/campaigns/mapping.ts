import { z } from 'zod';
import { createColumnMapper, type ColumnOverrides } from '../../data/index.js';
import { UsageError } from '../../errors/index.js';
import type { FieldSpecs } from '../../template/index.js';

/**
 * The column mapping of an upload, as the studio shows and edits it: every template field → the
 * column that feeds it, matched by the same rule as `mergeshot render` (case, spaces, `_` and
 * `-` ignored) unless the request maps it by hand, exactly like `--map field=Column`. As with
 * the CLI, a hand mapping adds or redirects a field; a field that a column matches by name
 * cannot be switched off (rename the column instead).
 */

/** `{field: "Column"}` in a request body: at most one entry per field, names as long as a header may be. */
export const mapSchema = z
  .record(z.string().min(1).max(200), z.string().min(1).max(500))
  .refine((map) => Object.keys(map).length <= 500, 'maps at most 500 fields');

export interface ColumnMapping {
  /** Every field of the template → its column, or null when no column feeds it (it takes its fallback). */
  readonly mapping: Readonly<Record<string, string | null>>;
  /** Columns no field uses: their values go nowhere. */
  readonly unusedColumns: readonly string[];
}

/** The mapping a set of columns gets for a template's fields, with the hand mapping applied. */
export function columnMapping(fields: FieldSpecs, columns: readonly string[], map: ColumnOverrides = {}): ColumnMapping {
  checkMapping(fields, columns, map);
  const mapper = createColumnMapper(fields, columns, map);
  return { mapping: Object.fromEntries(Object.keys(fields).map((field) => [field, mapper.columns.get(field) ?? null])), unusedColumns: mapper.unusedColumns };
}

/**
 * Refuses a hand mapping that cannot apply, worded for the API (the data module's own message
 * names the CLI's `--map`): a field the template does not have, a column the upload does not have.
 */
export function checkMapping(fields: FieldSpecs, columns: readonly string[], map: ColumnOverrides): void {
  for (const [field, column] of Object.entries(map)) {
    if (!Object.hasOwn(fields, field)) {
      throw new UsageError('USAGE', `map.${field.slice(0, 60)}: the template has no field "${field.slice(0, 60)}". Fields: ${Object.keys(fields).join(', ')}.`, { field: `map.${field.slice(0, 60)}`, hint: 'Map only the fields the template declares.' });
    }
    if (!columns.includes(column)) {
      throw new UsageError('USAGE', `map.${field}: the upload has no column "${column.slice(0, 60)}". Columns: ${columns.join(', ')}.`, { field: `map.${field}`, hint: 'Use a column name exactly as the upload lists it.' });
    }
  }
}
