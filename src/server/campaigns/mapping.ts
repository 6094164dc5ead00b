import { z } from 'zod';
import { checkInputFormat, createColumnMapper, type ColumnOverrides } from '../../data/index.js';
import { UsageError } from '../../errors/index.js';
import type { FieldSpecs } from '../../template/index.js';
import { parse } from '../routes/requestSchemas.js';

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

/**
 * `{field: "DD/MM/YYYY"}`: the format of a date or number field's column, what the CLI's
 * `--date-format` / `--number-format` declare; it wins over the field's `input` and over the
 * inference from the column's values. Only the shape here: which fields and formats are valid
 * depends on the template (formatsFor).
 */
export const formatsSchema = z
  .record(z.string().min(1).max(200), z.string().min(1).max(64))
  .refine((formats) => Object.keys(formats).length <= 500, 'declares at most 500 formats');

/** The declared formats a template accepts: each key a date or number field, each value a format that field can be read with. */
export function formatsFor(fields: FieldSpecs, locale?: string) {
  const formatFields = Object.entries(fields).flatMap(([name, spec]) => (spec.type === 'date' || spec.type === 'number' ? [name] : []));
  return formatsSchema.superRefine((formats, context) => {
    for (const [field, format] of Object.entries(formats)) {
      const spec = Object.hasOwn(fields, field) ? fields[field] : undefined;
      const problem =
        spec === undefined || (spec.type !== 'date' && spec.type !== 'number')
          ? `is not a date or number field of the template. Date and number fields: ${formatFields.join(', ') || '(none)'}.`
          : checkInputFormat(spec.type, format, locale);
      if (problem !== undefined) context.addIssue({ code: 'custom', path: [field], message: problem });
    }
  });
}

/** Declared formats checked against the template's fields: USAGE naming `formats.<field>`, the value and the valid forms. */
export function checkFormats(fields: FieldSpecs, formats: Readonly<Record<string, string>>, locale: string | undefined, source = 'body'): Readonly<Record<string, string>> {
  // Wrapped, so the issue's path (and the error's field) is `formats.<field>`, as the request spells it.
  return parse(z.object({ formats: formatsFor(fields, locale) }), { formats }, source).formats;
}

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
