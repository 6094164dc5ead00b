import { DataError, type RenderWarning } from '../errors/index.js';
import type { FieldSpecs } from '../template/index.js';

/**
 * Header → field mapping. Spreadsheet headers are written by people ("First Name",
 * "first_name", "FIRST-NAME"), template fields are camelCase identifiers ("firstName"), so the
 * match ignores case, whitespace, "_" and "-". `--map field=Column` overrides it per field.
 * Columns no field uses are dropped here, so personal data the template does not need never
 * travels further down the pipeline.
 */

export interface ColumnMapper {
  /** Only the template's fields that have a column, keyed by field name. */
  map(values: Readonly<Record<string, unknown>>): Record<string, unknown>;
  /** Fields no column feeds: every record will be missing them. */
  readonly unmatchedFields: readonly string[];
  /** Headers no field uses. */
  readonly unusedColumns: readonly string[];
  /** Field → the header that feeds it, as matched (for reports of the mapping used). */
  readonly columns: ReadonlyMap<string, string>;
}

/** `{ field: column }`, as given by `--map field=Column`. */
export type ColumnOverrides = Readonly<Record<string, string>>;

/** The comparison key: "First Name", "first_name" and "FIRST-NAME" all become "firstname". */
export function foldColumnName(name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(/[\s_-]+/gu, '');
}

/** Builds the mapping once from a CSV header; throws USAGE for an override that cannot apply. */
export function createColumnMapper(fields: FieldSpecs, headers: readonly string[], overrides: ColumnOverrides = {}): ColumnMapper {
  const columns = resolveColumns(fields, headers, overrides, true);
  const used = new Set(columns.values());
  const entries = [...columns.entries()];
  return {
    map(values) {
      return pick(entries, values);
    },
    unmatchedFields: Object.keys(fields).filter((field) => !columns.has(field)),
    unusedColumns: headers.filter((header) => header !== '' && !used.has(header)),
    columns,
  };
}

/**
 * Per-record mapping for JSON, whose records need not share keys. An override naming an unknown
 * field still throws; a column absent from this record only leaves its field missing.
 */
export function mapRecord(fields: FieldSpecs, values: Readonly<Record<string, unknown>>, overrides: ColumnOverrides = {}): Record<string, unknown> {
  const columns = resolveColumns(fields, Object.keys(values), overrides, false);
  return pick([...columns.entries()], values);
}

/**
 * The mapped record has no prototype. Field names are identifiers a template author chooses, and
 * "constructor", "toString" or "valueOf" are identifiers too: on a plain object, reading such a
 * field that no column fed (`data[field]`) would find Object.prototype's function instead of
 * "missing". Values are read from own properties only, for the same reason on the other side: a
 * column named "constructor" that the record does not have is absent, not a function.
 */
function pick(entries: readonly (readonly [string, string])[], values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const picked = Object.create(null) as Record<string, unknown>;
  // Assignment on a prototype-less object defines an own property even for "__proto__".
  for (const [field, column] of entries) if (Object.hasOwn(values, column)) picked[field] = values[column];
  return picked;
}

/** field → header for every field that has a column. */
function resolveColumns(fields: FieldSpecs, headers: readonly string[], overrides: ColumnOverrides, headersAreComplete: boolean): Map<string, string> {
  const fieldNames = Object.keys(fields);
  const columns = new Map<string, string>();

  for (const [field, column] of Object.entries(overrides)) {
    if (!Object.hasOwn(fields, field)) {
      throw new DataError(
        'USAGE',
        `--map ${field}=${column}: the template has no field "${field}". Fields: ${fieldNames.join(', ') || '(none)'}.`,
        { field, hint: 'Use a field name from template.json on the left of "=".' },
      );
    }
    const header = findOverrideColumn(column, headers);
    if (header !== undefined) {
      columns.set(field, header);
    } else if (headersAreComplete) {
      throw new DataError(
        'USAGE',
        `--map ${field}=${column}: the data has no column "${column}". Columns: ${headers.filter(Boolean).join(', ') || '(none)'}.`,
        { field, hint: 'Use a column header from the data on the right of "=".' },
      );
    }
  }

  const byFold = new Map<string, string>();
  for (const header of headers) {
    if (header === '') continue;
    const folded = foldColumnName(header);
    // The first header wins a fold collision, matching the left-to-right reading of the sheet.
    if (!byFold.has(folded)) byFold.set(folded, header);
  }
  for (const field of fieldNames) {
    if (columns.has(field) || Object.hasOwn(overrides, field)) continue;
    const header = headers.includes(field) ? field : byFold.get(foldColumnName(field));
    if (header !== undefined) columns.set(field, header);
  }
  return columns;
}

/** An override column matches exactly, else by fold when that is unambiguous. */
function findOverrideColumn(column: string, headers: readonly string[]): string | undefined {
  const wanted = column.trim();
  if (headers.includes(wanted)) return wanted;
  const folded = foldColumnName(wanted);
  const candidates = headers.filter((header) => header !== '' && foldColumnName(header) === folded);
  return candidates.length === 1 ? candidates[0] : undefined;
}

/**
 * A reader's row warnings name columns; the manifest names fields. Each warning is re-addressed
 * to the field its column feeds (one per field when a column feeds several). A stray quote in a
 * column no field uses cannot change the image and is dropped; a short row is kept (it may mean
 * a shifted export), naming the first field it left empty, if any.
 */
export function fieldWarnings(warnings: readonly RenderWarning[], columns: ReadonlyMap<string, string>, values: Readonly<Record<string, unknown>>): RenderWarning[] {
  const fieldsOf = (column: string | undefined) => [...columns].filter(([, header]) => header === column).map(([field]) => field);
  return warnings.flatMap((warning): RenderWarning[] => {
    if (warning.code === 'short-row') {
      const emptied = [...columns].find(([, header]) => !Object.hasOwn(values, header))?.[0];
      const { field: _column, ...rest } = warning;
      return [emptied === undefined ? rest : { ...rest, field: emptied }];
    }
    if (warning.code === 'stray-quote') return fieldsOf(warning.field).map((field) => ({ ...warning, field }));
    return [warning];
  });
}
