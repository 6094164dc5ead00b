import { DateTime, type TokenParser } from 'luxon';

/**
 * The date spellings exports write, parsed with Luxon. Two kinds:
 * - self-describing spellings, read wherever they appear: ISO 8601 with or without a time and
 *   zone, SQL-style "2025-06-12 18:30:00", year-first "2025/06/12", month names in English
 *   ("June 12, 2025", "12 Jun 2025", "Thu, 12 Jun 2025 18:30:00 +0000");
 * - spellings whose meaning depends on the column: "06/12/2025" (day or month first), Excel
 *   serials ("45820"), Unix seconds. These are read only with a format, declared (a field's
 *   `input`, `--date-format`) or inferred from the whole column (columnFormats.ts).
 * The calendar date is kept as written: "2025-06-12T23:30:00-05:00" is 12 June, never shifted
 * to another zone's date. A time of day is read (so the value parses) and then dropped.
 */

/** A date format as mergeshot reads it: built from `input`, `--date-format` or inference. */
export interface DateInput {
  /** As written by the user, or as mergeshot names an inferred format ("DD/MM/YYYY"). */
  readonly name: string;
  readonly kind: 'pattern' | 'excel' | 'unix';
  /** Pattern kind only. */
  readonly patterns: PatternSet;
}

/**
 * Date patterns split by whether the text holds a time: a value without ":" is only tried
 * against the date-only patterns, so a miss costs a few tries, not dozens. Luxon parsers are
 * built on first use and kept here, so a format costs nothing until a value needs it.
 */
export class PatternSet {
  readonly #patterns: { readonly dateOnly: readonly string[]; readonly withTime: readonly string[]; readonly zoned: readonly string[] };
  readonly #parsers = new Map<string, TokenParser>();
  readonly #locale: string;

  constructor(dates: readonly string[], locale: string, options: { hasTime?: boolean; zoned?: boolean } = {}) {
    this.#locale = locale;
    const withTime = options.hasTime ? dates : dates.flatMap((date) => timeSuffixes.map((time) => date + time));
    const zoned = options.zoned === false ? [] : withTime.filter((pattern) => pattern.includes('ss')).flatMap((pattern) => zoneSuffixes.map((zone) => pattern + zone));
    this.#patterns = { dateOnly: options.hasTime ? [] : dates, withTime, zoned };
  }

  /** The ISO date of the first pattern that reads `text`. */
  read(text: string): string | undefined {
    const hasTime = text.includes(':');
    for (const pattern of hasTime ? this.#patterns.withTime : this.#patterns.dateOnly) {
      const parsed = DateTime.fromFormatParser(text, this.#parser(pattern), { zone: 'utc', locale: this.#locale });
      if (parsed.isValid) return isoDate(parsed);
    }
    if (!hasTime) return undefined;
    for (const pattern of this.#patterns.zoned) {
      // The zone written in the value is kept, so the calendar date is the one written.
      const parsed = DateTime.fromFormatParser(text, this.#parser(pattern), { setZone: true, locale: this.#locale });
      if (parsed.isValid) return isoDate(parsed);
    }
    return undefined;
  }

  #parser(pattern: string): TokenParser {
    let parser = this.#parsers.get(pattern);
    if (parser === undefined) {
      parser = DateTime.buildFormatParser(pattern, { locale: this.#locale });
      this.#parsers.set(pattern, parser);
    }
    return parser;
  }
}

/** Time-of-day endings exports append to a date ("June 12, 2025 6:30 pm", "12/06/2025 18:30"). */
const timeSuffixes = [' H:mm', ' H:mm:ss', ' h:mm a', ' h:mm:ss a', ' H:mm:ss.SSS', "'T'H:mm", "'T'H:mm:ss"] as const;
const zoneSuffixes = [' ZZ', 'ZZ', ' ZZZ', ' z'] as const;

const emptySet = new PatternSet([], 'en');

// The two sets below are module constants whose only state is a memo of Luxon parsers for their
// fixed patterns: every call reads the same dates whatever ran before, so no caller can observe it.

/** English month-name spellings of CRMs and e-mail platforms (Mailchimp writes "June 12, 2025"). */
const namedPatterns = new PatternSet(
  [
    'MMMM d, yyyy', 'MMMM d yyyy', 'MMM d, yyyy', 'MMM d yyyy', 'd MMMM yyyy', 'd MMM yyyy', 'd-MMM-yyyy', 'd-MMM-yy',
    'EEEE, MMMM d, yyyy', 'EEE, MMMM d, yyyy', 'EEE, MMM d, yyyy', 'EEEE, d MMMM yyyy', 'EEE, d MMM yyyy', 'EEE MMM d yyyy',
  ],
  'en',
  // Month names with a zone are RFC 2822, read by Luxon's own parser.
  { zoned: false },
);

const yearFirstPatterns = new PatternSet(['yyyy-M-d', 'yyyy/M/d', 'yyyy.M.d', 'yyyy. M. d.'], 'en');

/** Reads a self-describing spelling; undefined when the value needs a column format (or is no date). */
export function readSelfDescribing(text: string): string | undefined {
  // fromISO also reads "2025" and "2025-W24": only a full year-month-day is taken as ISO here.
  if (/^\d{4}-\d{2}-\d{2}(?:$|[T ])/u.test(text)) {
    for (const parsed of [DateTime.fromISO(text, { setZone: true, zone: 'utc' }), DateTime.fromSQL(text, { setZone: true, zone: 'utc' })]) {
      if (parsed.isValid) return isoDate(parsed);
    }
    return undefined;
  }
  const rfc = DateTime.fromRFC2822(text, { setZone: true, zone: 'utc' });
  if (rfc.isValid) return isoDate(rfc);
  if (/^\d{4}/u.test(text)) return yearFirstPatterns.read(text);
  return /\p{L}/u.test(text) ? namedPatterns.read(text) : undefined;
}

/** Reads `text` with a column's format; self-describing spellings are always read too. */
export function readDate(text: string, input: DateInput | undefined): string | undefined {
  const selfDescribing = readSelfDescribing(text);
  if (selfDescribing !== undefined || input === undefined) return selfDescribing;
  switch (input.kind) {
    case 'excel':
      return /^\d+(?:\.\d+)?$/u.test(text) ? excelSerialDate(Number(text)) : undefined;
    case 'unix':
      return /^\d{9,10}$/u.test(text) ? isoDate(DateTime.fromSeconds(Number(text), { zone: 'utc' })) : undefined;
    case 'pattern':
      return input.patterns.read(text);
  }
}

/**
 * Excel's day numbers: 1 is 1900-01-01, and Excel counts a 29 February 1900 that never was
 * (Lotus 1-2-3's leap-year bug), so from 61 on the count starts a day earlier and 60 is no date.
 * A fraction is the time of day, dropped.
 */
export function excelSerialDate(serial: number): string | undefined {
  const day = Math.floor(serial);
  if (!Number.isFinite(day) || day < 1 || day === 60 || day > 2_958_465 /* 9999-12-31 */) return undefined;
  const epoch = DateTime.fromObject({ year: 1899, month: 12, day: day < 60 ? 31 : 30 }, { zone: 'utc' });
  return isoDate(epoch.plus({ days: day }));
}

/** Year 0 and before exist for Luxon (proleptic), not for a guest list. */
function isoDate(date: DateTime): string | undefined {
  return date.isValid && date.year >= 1 ? (date.toISODate() ?? undefined) : undefined;
}

/** The reading of a numeric date "06/12/2025" both ways, for inference; undefined when not that shape. */
export interface OrderedDate {
  /** "DD/MM/YYYY" and "MM/DD/YYYY" as written (separator and year width of this value). */
  readonly names: { readonly dayFirst: string; readonly monthFirst: string };
  readonly dayFirst: string | undefined;
  readonly monthFirst: string | undefined;
  /** Dots are written day first only (German, Russian, Turkish…): no export writes month.day.year. */
  readonly dayFirstOnly: boolean;
}

const orderedShape = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})(?=$|[ T])/u;

/** Reads numeric dates both ways; its parsers are built on first use and kept by the reader. */
export function createOrderedReader(): (text: string) => OrderedDate | undefined {
  const inputs = new Map<string, DateInput | undefined>();
  const read = (text: string, name: string) => {
    // "DD/MM/YYYY" also reads "." and "-", so one set of parsers serves every separator.
    const key = name.replace(/[.-]/gu, '/');
    if (!inputs.has(key)) inputs.set(key, parseDateInput(key));
    return readDate(text, inputs.get(key));
  };
  return (text) => {
    const shape = orderedShape.exec(text);
    if (!shape) return undefined;
    const separator = shape[2]!;
    const year = shape[4]!.length === 4 ? 'YYYY' : 'YY';
    const names = { dayFirst: `DD${separator}MM${separator}${year}`, monthFirst: `MM${separator}DD${separator}${year}` };
    const dayFirstOnly = separator === '.';
    return { names, dayFirst: read(text, names.dayFirst), monthFirst: dayFirstOnly ? undefined : read(text, names.monthFirst), dayFirstOnly };
  };
}

/** The numeric spellings of a date a column may hold: Excel serials, Unix seconds, YYYYMMDD. */
export function numericDateFormat(text: string): 'excel' | 'unix' | 'YYYYMMDD' | undefined {
  if (/^(?:19|20)\d{6}$/u.test(text) && readDate(text, parseDateInput('YYYYMMDD')) !== undefined) return 'YYYYMMDD';
  if (/^\d{9,10}$/u.test(text)) return 'unix';
  if (/^\d{1,7}(?:\.\d+)?$/u.test(text) && excelSerialDate(Number(text)) !== undefined) return 'excel';
  return undefined;
}

/** moment/Day.js-style tokens (what people write: "DD/MM/YYYY") → Luxon's, loose on digit counts. */
const tokens: readonly (readonly [RegExp, string])[] = [
  [/^YYYY|^yyyy/u, 'yyyy'], [/^YY|^yy/u, 'yy'],
  [/^MMMM/u, 'MMMM'], [/^MMM/u, 'MMM'], [/^MM?/u, 'M'],
  [/^dddd|^EEEE/u, 'EEEE'], [/^ddd|^EEE/u, 'EEE'], [/^DD?|^dd?/u, 'd'],
  [/^HH?/u, 'H'], [/^hh?/u, 'h'], [/^mm?/u, 'mm'], [/^ss?/u, 'ss'], [/^SSS/u, 'SSS'], [/^[Aa]/u, 'a'],
  [/^ZZ/u, 'ZZZ'], [/^Z/u, 'ZZ'],
];

/** The names a format may be given by, besides patterns and locale tags. */
const namedKinds: Readonly<Record<string, DateInput['kind']>> = { excel: 'excel', 'excel-serial': 'excel', unix: 'unix' };

/**
 * Reads a declared format: "excel", "unix", "iso", a BCP 47 locale tag ("en-GB": that locale's
 * numeric order and month names) or a pattern of tokens ("DD/MM/YYYY", "D MMMM YYYY",
 * "MM-DD-YY HH:mm"). Undefined when the text is none of these.
 */
export function parseDateInput(input: string, locale = 'en'): DateInput | undefined {
  const trimmed = input.trim();
  const named = namedKinds[trimmed.toLowerCase()];
  if (named) return { name: trimmed, kind: named, patterns: emptySet };
  if (trimmed.toLowerCase() === 'iso') return { name: trimmed, kind: 'pattern', patterns: emptySet };
  const fromLocale = localePatterns(trimmed);
  if (fromLocale) return { name: trimmed, kind: 'pattern', patterns: new PatternSet(fromLocale, trimmed) };
  const pattern = toLuxon(trimmed);
  if (pattern === undefined) return undefined;
  // A day-month-year pattern also reads the other usual separators and a time after the date.
  const separators = /^[dMy]+([/.-])[dMy]+\1[dMy]+$/u.exec(pattern);
  const dates = separators ? ['/', '.', '-'].map((sep) => pattern.split(separators[1]!).join(sep)) : [pattern];
  return { name: trimmed, kind: 'pattern', patterns: new PatternSet(dates, locale, { hasTime: /[Hh]/u.test(pattern) }) };
}

function toLuxon(pattern: string): string | undefined {
  let out = '';
  let rest = pattern;
  let hasDate = false;
  while (rest.length > 0) {
    const token = tokens.find(([re]) => re.test(rest));
    if (token) {
      const length = token[0].exec(rest)![0].length;
      out += token[1];
      hasDate ||= /[yMd]/u.test(token[1]);
      rest = rest.slice(length);
    } else if (/^[A-Za-z]/u.test(rest)) {
      // Other letters are literal text ("T" between date and time): quoted for Luxon.
      out += `'${rest[0]}'`;
      rest = rest.slice(1);
    } else {
      out += rest[0] === "'" ? "''" : rest[0];
      rest = rest.slice(1);
    }
  }
  return hasDate ? out : undefined;
}

/** A locale tag's numeric date order ("en-GB" → d/M/yyyy) plus its long forms with month names. */
function localePatterns(tag: string): string[] | undefined {
  if (!/^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/u.test(tag)) return undefined;
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat(tag, { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC' }).formatToParts(new Date(Date.UTC(2025, 5, 12)));
  } catch {
    return undefined;
  }
  const numeric = parts.map((part) => ({ day: 'd', month: 'M', year: 'yyyy' })[part.type as 'day'] ?? `'${part.value}'`).join('').replace(/''/gu, '');
  return [numeric, 'd MMMM yyyy', 'd. MMMM yyyy', 'MMMM d, yyyy', 'd MMM yyyy', 'd. MMM yyyy', 'MMM d, yyyy'];
}
