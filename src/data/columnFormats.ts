import { DateTime } from 'luxon';
import { DataError, UsageError, type RenderWarning } from '../errors/index.js';
import type { FieldSpec, FieldSpecs } from '../template/index.js';
import { convertDate } from './normalize/date.js';
import { createOrderedReader, numericDateFormat, parseDateInput, readSelfDescribing, type DateInput } from './normalize/dateFormats.js';
import { describeValue } from './normalize/describeValue.js';
import { isMissingValue } from './normalize/missing.js';
import { decimalSeparatorOf, parseNumber, parseNumberInput, type DecimalSeparator } from './normalize/number.js';
import { cleanText } from './normalize/text.js';

/**
 * The format of a date or number column, decided once from all of its values, never row by row:
 * "06/12/2025" means 6 December in one export and June 12 in another, and only the other rows
 * of the column can tell ("13/06/2025" settles it). A column where every value reads one way is
 * read; a column whose values read two ways (nothing above 12 in either place, or "1,234"
 * with no other decimals) is refused with FORMAT_AMBIGUOUS, naming the column, two values read
 * both ways and the setting that decides. A declared format (a field's `input`, the CLI's
 * `--date-format`/`--number-format`) skips the inference.
 *
 * Front ends read the data twice: a first pass feeds every value to a detector (a few counters
 * and samples per column, so a 100,000-row file costs no memory), the second reads the rows
 * with the formats found (createColumnReader) and renders them.
 */

export type FormatKind = 'date' | 'number';

/** One value read with one format: an ISO date or a number as text; undefined when that format cannot read it. */
export interface FormatReading {
  readonly format: string;
  readonly value: string | undefined;
}

/** A value of the column and its two readings (the question to ask the user). */
export interface AmbiguousSample {
  readonly value: string;
  readonly readings: readonly [FormatReading, FormatReading];
}

export type ColumnInference =
  /** `format` undefined: every value reads the same whatever the format (ISO dates, plain integers…). */
  | { readonly status: 'read'; readonly format: string | undefined; readonly values: number; readonly unreadable: number }
  | { readonly status: 'ambiguous'; readonly formats: readonly [string, string]; readonly samples: readonly AmbiguousSample[]; readonly values: number };

export interface FormatDetector {
  add(value: unknown): void;
  result(): ColumnInference;
}

/** Decides a column's format from its values; `missing` are the field's own missing markers. */
export function inferColumnFormat(kind: FormatKind, values: Iterable<unknown>, options: { readonly missing?: readonly string[] } = {}): ColumnInference {
  const detector = createFormatDetector(kind, options);
  for (const value of values) detector.add(value);
  return detector.result();
}

export function createFormatDetector(kind: FormatKind, options: { readonly missing?: readonly string[] } = {}): FormatDetector {
  const twoWay = kind === 'date' ? createDateTally() : createNumberTally();
  return {
    add(value) {
      if (isMissingValue(value, options.missing)) return;
      const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? cleanText(value).normalize('NFKC') : undefined;
      if (text === undefined || (kind === 'number' && typeof value === 'number')) {
        twoWay.other(text !== undefined);
        return;
      }
      twoWay.add(text);
    },
    result: () => twoWay.result(),
  };
}

/** Counts for the two candidate formats of a column: how many values each reads, and values they read differently. */
class Tally {
  values = 0;
  unreadable = 0;
  /** Values only format A or only format B reads, or both read differently. */
  readonly a = { reads: 0, only: undefined as AmbiguousSample | undefined };
  readonly b = { reads: 0, only: undefined as AmbiguousSample | undefined };
  readonly differing: AmbiguousSample[] = [];
  /** Values the two candidates do not concern (ISO dates); they fit either format. */
  neutral = 0;

  record(text: string, a: FormatReading, b: FormatReading): void {
    this.values += 1;
    if (a.value === undefined && b.value === undefined) {
      this.unreadable += 1;
      return;
    }
    const sample: AmbiguousSample = { value: text, readings: [a, b] };
    if (a.value !== undefined) this.a.reads += 1;
    if (b.value !== undefined) this.b.reads += 1;
    if (b.value === undefined) this.a.only ??= sample;
    else if (a.value === undefined) this.b.only ??= sample;
    else if (a.value !== b.value && this.differing.length < 2) this.differing.push(sample);
  }

  /** The format every value fits; else the one most values fit; ambiguous when values read both ways or the counts tie. */
  decide(names: readonly [string, string], fallbackUnreadable = 0): ColumnInference {
    const total = this.values - this.unreadable;
    const values = this.values + this.neutral;
    const unreadable = this.unreadable + fallbackUnreadable;
    const aFits = this.a.reads === total;
    const bFits = this.b.reads === total;
    if (total === 0) return { status: 'read', format: undefined, values, unreadable };
    if (aFits && bFits) {
      // Every value reads the same both ways ("01/01/2025"): either format reads the column.
      if (this.differing.length === 0) return { status: 'read', format: names[0], values, unreadable };
      return { status: 'ambiguous', formats: names, samples: this.differing, values };
    }
    if (aFits || this.a.reads > this.b.reads) return { status: 'read', format: names[0], values, unreadable: unreadable + total - this.a.reads };
    if (bFits || this.b.reads > this.a.reads) return { status: 'read', format: names[1], values, unreadable: unreadable + total - this.b.reads };
    // As many values read one way as the other: the column mixes both, and only its owner knows which is right.
    return { status: 'ambiguous', formats: names, samples: [this.a.only, this.b.only].filter((s): s is AmbiguousSample => s !== undefined), values };
  }
}

interface ColumnTally {
  add(text: string): void;
  /** A value the tally does not weigh: `readable` says whether it still reads (a JSON number). */
  other(readable: boolean): void;
  result(): ColumnInference;
}

function createNumberTally(): ColumnTally {
  const tally = new Tally();
  const names = ['1,234.50', '1.234,50'] as const;
  return {
    add(text) {
      tally.record(text, { format: names[0], value: numberText(parseNumber(text, '.')) }, { format: names[1], value: numberText(parseNumber(text, ',')) });
    },
    other(readable) {
      if (readable) tally.neutral += 1;
      else tally.unreadable += 1;
    },
    result: () => tally.decide(names),
  };
}

function createDateTally(): ColumnTally {
  const ordered = new Tally();
  const readOrdered = createOrderedReader();
  // The names the column's values are written in ("DD.MM.YYYY", "DD/MM/YY"): the most frequent names the format.
  const shapes = new Map<string, { count: number; names: readonly [string, string] }>();
  const numeric = new Map<string, number>();
  let selfDescribing = 0;
  let unreadable = 0;
  let seen = 0;
  return {
    add(text) {
      seen += 1;
      if (readSelfDescribing(text) !== undefined) {
        selfDescribing += 1;
        return;
      }
      const both = readOrdered(text);
      if (both) {
        const names = [both.names.dayFirst, both.names.monthFirst] as const;
        const shape = shapes.get(names[0]) ?? { count: 0, names };
        shape.count += 1;
        shapes.set(names[0], shape);
        ordered.record(text, { format: names[0], value: both.dayFirst }, { format: names[1], value: both.monthFirst });
        return;
      }
      const format = numericDateFormat(text);
      if (format) numeric.set(format, (numeric.get(format) ?? 0) + 1);
      else unreadable += 1;
    },
    other(readable) {
      seen += 1;
      if (!readable) unreadable += 1;
    },
    result() {
      if (ordered.values > 0) {
        const shape = [...shapes.values()].sort((x, y) => y.count - x.count)[0]!;
        // Dates of the other kinds (ISO, month names) read either way; numeric ones do not fit a day/month order.
        ordered.neutral = selfDescribing;
        const numericCount = [...numeric.values()].reduce((sum, count) => sum + count, 0);
        return ordered.decide(shape.names, unreadable + numericCount);
      }
      const [format, count] = [...numeric.entries()].sort((x, y) => y[1] - x[1])[0] ?? [undefined, 0];
      return { status: 'read', format, values: seen, unreadable: unreadable + (seen - selfDescribing - unreadable - count) };
    },
  };
}

function numberText(value: number | undefined): string | undefined {
  return value === undefined ? undefined : String(value);
}

/** What is wrong with a declared format for a field of `type`; undefined when it is usable. */
export function checkInputFormat(type: FieldSpec['type'], input: string, locale?: string): string | undefined {
  if (type === 'date') {
    return parseDateInput(input, locale) === undefined
      ? `"${input}" is not a date format. Use a pattern like "DD/MM/YYYY", "MM/DD/YYYY", "DD.MM.YYYY", "D MMMM YYYY", "YYYY-MM-DD HH:mm", or "excel", "unix", or a locale like "en-GB".`
      : undefined;
  }
  if (type === 'number') {
    return parseNumberInput(input) === undefined ? `"${input}" does not say which separator is the decimal one. Write a sample with decimals, "1,234.50" or "1.234,50", or a locale like "de-DE".` : undefined;
  }
  return `only applies to date and number fields, not ${type} fields.`;
}

/** field → the format its column is read with (declared, given on the command line, or inferred). */
export type ColumnFormats = Readonly<Record<string, string>>;

/** A column the first pass could not decide, with what the user needs to answer. */
export interface AmbiguousColumn {
  readonly field: string;
  /** The data's column header, when known. */
  readonly column: string | undefined;
  readonly kind: FormatKind;
  readonly formats: readonly [string, string];
  readonly samples: readonly AmbiguousSample[];
}

/** FORMAT_AMBIGUOUS: one or more columns read two ways; `columns` carries the question for a UI. */
export class FormatAmbiguousError extends DataError {
  readonly columns: readonly AmbiguousColumn[];

  constructor(columns: readonly AmbiguousColumn[]) {
    super('FORMAT_AMBIGUOUS', columns.map(ambiguityMessage).join('\n'), { field: columns[0]?.field, hint: columns.map(fixOf).join('\n  ') });
    this.columns = columns;
  }
}

function flagOf(column: AmbiguousColumn): string {
  return column.kind === 'date' ? '--date-format' : '--number-format';
}

function fixOf(column: AmbiguousColumn): string {
  const [a, b] = column.formats;
  return `Run again with ${flagOf(column)} ${column.field}=${a} (or =${b}), or set "input": "${a}" on the field "${column.field}" in template.json.`;
}

function ambiguityMessage(column: AmbiguousColumn): string {
  const where = column.column !== undefined && column.column !== column.field ? `column "${column.column}" (field "${column.field}")` : `column "${column.field}"`;
  const what = column.kind === 'date' ? 'dates' : 'numbers';
  const samples = column.samples.map((sample) => `${sample.value} is ${sample.readings.map((r) => `${showReading(column.kind, r.value)} as ${r.format}`).join(' but ')}`).join('; ');
  const why = column.kind === 'date' ? `no value has a number above 12 that would tell day from month` : `no value tells the decimal separator from the thousands separator`;
  return `${where}: the ${what} can be read two ways, ${column.formats.join(' or ')}, and ${why}: ${samples}. Which format does this column use?`;
}

/** "6 December 2025" spells a reading out, so the user sees at once which one is right. */
function showReading(kind: FormatKind, value: string | undefined): string {
  if (value === undefined) return kind === 'date' ? 'no date' : 'no number';
  return kind === 'date' ? DateTime.fromISO(value, { zone: 'utc' }).toFormat('d MMMM yyyy', { locale: 'en' }) : value;
}

export interface ResolveFormatsOptions {
  /** field → format from the command line (`--date-format date=DD/MM/YYYY`); wins over `input` and inference. */
  readonly overrides?: Readonly<Record<string, string>>;
  /** field → column header, for messages. */
  readonly columns?: ReadonlyMap<string, string>;
  /** The template's locale: month names of declared patterns, and the decimal separator a number column with no clue uses. */
  readonly locale?: string;
}

/** The date and number fields a column pass has to look at; empty means the data can be read in one pass. */
export function formatFields(fields: FieldSpecs, overrides: Readonly<Record<string, string>> = {}): string[] {
  checkOverrides(fields, overrides);
  return Object.entries(fields)
    .filter(([field, spec]) => (spec.type === 'date' || spec.type === 'number') && spec.input === undefined && overrides[field] === undefined)
    .map(([field]) => field);
}

/**
 * The first pass: reads every row's mapped values and decides each date and number column's
 * format. Throws FormatAmbiguousError listing every column that reads two ways, and USAGE for
 * an override that names no such field or no usable format.
 */
export async function resolveColumnFormats(fields: FieldSpecs, rows: AsyncIterable<{ readonly values: Readonly<Record<string, unknown>>; readonly error?: string }>, options: ResolveFormatsOptions = {}): Promise<ColumnFormats> {
  const overrides = options.overrides ?? {};
  const formats: Record<string, string> = {};
  for (const [field, spec] of Object.entries(fields)) {
    const chosen = overrides[field] ?? spec.input;
    if (chosen !== undefined && (spec.type === 'date' || spec.type === 'number')) formats[field] = chosen;
  }
  const inferred = formatFields(fields, overrides);
  if (inferred.length === 0) return formats;
  const detectors = new Map(inferred.map((field) => [field, createFormatDetector(fields[field]!.type as FormatKind, { missing: fields[field]!.missing })]));
  for await (const row of rows) {
    if (row.error) continue;
    for (const [field, detector] of detectors) if (Object.hasOwn(row.values, field)) detector.add(row.values[field]);
  }
  const ambiguous: AmbiguousColumn[] = [];
  for (const [field, detector] of detectors) {
    const kind = fields[field]!.type as FormatKind;
    const result = detector.result();
    if (result.status === 'read') {
      if (result.format !== undefined) formats[field] = result.format;
    } else if (kind === 'number' && options.locale !== undefined) {
      // Before formats could be declared, the template's locale decided; it still does when the values cannot.
      formats[field] = decimalSeparatorOf(options.locale) === ',' ? '1.234,50' : '1,234.50';
    } else {
      ambiguous.push({ field, column: options.columns?.get(field), kind, formats: result.formats, samples: result.samples });
    }
  }
  if (ambiguous.length > 0) throw new FormatAmbiguousError(ambiguous);
  return formats;
}

function checkOverrides(fields: FieldSpecs, overrides: Readonly<Record<string, string>>): void {
  for (const [field, format] of Object.entries(overrides)) {
    const spec = fields[field];
    const flag = spec?.type === 'number' ? '--number-format' : '--date-format';
    if (!spec || (spec.type !== 'date' && spec.type !== 'number')) {
      const candidates = Object.entries(fields).filter(([, s]) => s.type === 'date' || s.type === 'number').map(([name]) => name);
      throw new UsageError('USAGE', `${flag} ${field}=${format}: the template has no date or number field "${field}". Date and number fields: ${candidates.join(', ') || '(none)'}.`, { field, hint: 'Use a field name from template.json on the left of "=".' });
    }
    const problem = checkInputFormat(spec.type, format);
    if (problem) throw new UsageError('USAGE', `${flag} ${field}=${format}: ${problem}`, { field });
  }
}

/** The second pass: each row's date and number values read with their column's format. */
export type ColumnReader = (values: Readonly<Record<string, unknown>>) => { values: Record<string, unknown>; warnings: RenderWarning[] };

/**
 * Reads a row's values with the column formats: dates become "YYYY-MM-DD" and numbers numbers,
 * so every later stage (and a distributed worker) sees them already read. A value the column's
 * format cannot read becomes missing, with an `invalid` warning, instead of being read some other
 * way for that row alone.
 */
export function createColumnReader(fields: FieldSpecs, formats: ColumnFormats, locale?: string): ColumnReader {
  const readers: [string, (value: unknown) => { value: unknown } | { expected: string }][] = [];
  for (const [field, format] of Object.entries(formats)) {
    const spec = fields[field];
    if (spec?.type === 'date') {
      const input: DateInput | undefined = parseDateInput(format, locale);
      readers.push([field, (value) => {
        const converted = convertDate(value, input);
        return converted.kind === 'value' ? { value: converted.value } : { expected: `a date as ${format} (the column's format)` };
      }]);
    } else if (spec?.type === 'number') {
      const separator: DecimalSeparator = parseNumberInput(format) ?? '.';
      readers.push([field, (value) => {
        const parsed = typeof value === 'number' ? value : typeof value === 'string' ? parseNumber(value, separator) : undefined;
        return parsed === undefined ? { expected: `a number written like ${format} (the column's format)` } : { value: parsed };
      }]);
    }
  }
  return (values) => {
    const read: Record<string, unknown> = Object.assign(Object.create(null) as Record<string, unknown>, values);
    const warnings: RenderWarning[] = [];
    for (const [field, reader] of readers) {
      const value = read[field];
      if (!Object.hasOwn(read, field) || isMissingValue(value, fields[field]?.missing)) continue;
      const result = reader(value);
      if ('value' in result) {
        read[field] = result.value;
      } else {
        delete read[field];
        warnings.push({ code: 'invalid', field, message: `field "${field}": expected ${result.expected}, got ${describeValue(value)}` });
      }
    }
    return { values: read, warnings };
  };
}
