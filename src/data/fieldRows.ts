import type { RenderWarning } from '../errors/index.js';
import type { FieldSpecs } from '../template/index.js';
import { createColumnReader, formatFields, resolveColumnFormats, type ColumnFormats } from './columnFormats.js';
import { createColumnMapper, fieldWarnings, mapRecord, type ColumnMapper, type ColumnOverrides } from './columns.js';
import { readRecords, type InputRow, type ReadRecordsOptions } from './readRecords.js';

/**
 * A data source read as the template's fields, the way every batch front end needs it: columns
 * mapped (only the fields' values travel on), date and number columns read with one format per
 * column, the reader's row warnings re-addressed to fields, and unreadable rows kept with their
 * number and reason.
 *
 * Column formats are decided from all of a column's values, so when a date or number field has
 * no declared format the source is read twice: a first pass only counts (nothing is kept), the
 * second yields the rows. Standard input cannot be read twice, so its rows are kept in memory
 * between the passes. An ambiguous column throws FormatAmbiguousError before the first row is
 * yielded, so no row is rendered with a guessed date.
 */

export interface FieldRowsOptions extends Pick<ReadRecordsOptions, 'format' | 'delimiter' | 'stdin'> {
  /** field → column by hand (`--map`). */
  readonly map?: ColumnOverrides;
  /** field → format (`--date-format`, `--number-format`); wins over `input` and inference. */
  readonly formats?: Readonly<Record<string, string>>;
  /** The template's locale (month names of declared patterns; decimal separator as a last resort). */
  readonly locale?: string;
  /** Called with the mapper once the header is read (each pass reads it; called once). */
  readonly onHeader?: (mapper: ColumnMapper, headers: readonly string[]) => void;
  /** Notes about the whole input, each once. */
  readonly onNote?: (message: string) => void;
  /** Called once with the formats the date and number columns are read with, and which of them were inferred. */
  readonly onFormats?: (formats: ColumnFormats, inferred: readonly string[], columns: ReadonlyMap<string, string>) => void;
  /** Called with each row as read (all its columns), just before its field row is yielded: for checks over whole rows (preflight's duplicates). */
  readonly onInput?: (row: InputRow) => void;
}

/** A row of the template's fields; `error` marks a row that could not be read (empty values). */
export interface FieldRow {
  readonly row: number;
  readonly values: Readonly<Record<string, unknown>>;
  readonly error?: string;
  readonly warnings?: readonly RenderWarning[];
}

/** What every front end says about a format decided from a column's values (each adds how to declare another). */
export function inferredFormatNote(field: string, format: string | undefined, columns: ReadonlyMap<string, string>): string {
  return `column "${columns.get(field) ?? field}" (field "${field}") read as ${format}, decided from all its values`;
}

export async function* readFieldRows(source: string, fields: FieldSpecs, options: FieldRowsOptions = {}): AsyncGenerator<FieldRow> {
  // Filled from the header when it is read, so the first pass's messages name the columns too.
  const columns = new Map<string, string>();
  let headerSeen = false;
  const notes = new Set<string>();
  const read = () =>
    readRecords(source, {
      ...(options.format ? { format: options.format } : {}),
      ...(options.delimiter ? { delimiter: options.delimiter } : {}),
      ...(options.stdin ? { stdin: options.stdin } : {}),
      onHeader: (headers) => {
        const mapper = createColumnMapper(fields, headers, options.map);
        columns.clear();
        for (const [field, header] of mapper.columns) columns.set(field, header);
        if (!headerSeen) options.onHeader?.(mapper, headers);
        headerSeen = true;
      },
      onNote: (note) => {
        if (!notes.has(note.message)) options.onNote?.(note.message);
        notes.add(note.message);
      },
    });
  const overrides = options.formats ?? {};
  const locale = options.locale;
  const mapped = (row: InputRow) => mapRecord(fields, row.values, options.map);

  const inferred = formatFields(fields, overrides);
  const kept: InputRow[] | undefined = inferred.length > 0 && source === '-' ? [] : undefined;
  async function* firstPass() {
    for await (const row of read()) {
      kept?.push(row);
      yield { values: row.error ? {} : mapped(row), ...(row.error ? { error: row.error } : {}) };
    }
  }
  async function* noRows(): AsyncGenerator<never> {}
  const formats = await resolveColumnFormats(fields, inferred.length > 0 ? firstPass() : noRows(), { overrides, columns, ...(locale ? { locale } : {}) });
  options.onFormats?.(formats, inferred.filter((field) => formats[field] !== undefined), columns);
  const readColumns = createColumnReader(fields, formats, locale);

  for await (const row of kept ?? read()) {
    options.onInput?.(row);
    if (row.error) {
      yield { row: row.row, values: {}, error: row.error };
      continue;
    }
    const { values, warnings } = readColumns(mapped(row));
    const all = [...fieldWarnings(row.warnings ?? [], columns, row.values), ...warnings];
    yield { row: row.row, values, ...(all.length ? { warnings: all } : {}) };
  }
}
