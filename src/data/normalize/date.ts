import type { Conversion } from '../fallbacks.js';
import { parseDateInput, readDate, type DateInput } from './dateFormats.js';
import { describeValue } from './describeValue.js';
import { cleanText } from './text.js';

/**
 * A date field's value becomes "YYYY-MM-DD", the calendar date as written. Without a format
 * only self-describing spellings are read (ISO with or without time and zone, "June 12, 2025",
 * "12 Jun 2025"…, see dateFormats.ts); "03/07/2025" needs the column's format, because it is
 * March in the US and July in Europe, and so do Excel serials. The format comes from the
 * field's `input`, `--date-format`, or the whole column (columnFormats.ts), never from one row.
 */
export function convertDate(value: unknown, input: DateInput | undefined): Conversion {
  const expected = input === undefined ? 'a date as YYYY-MM-DD (or declare the column\'s format with "input" or --date-format)' : `a date as ${input.name} or YYYY-MM-DD`;
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'string' ? cleanText(value).normalize('NFKC') : undefined;
  if (text === undefined) return { kind: 'invalid', expected, got: describeValue(value) };
  const date = readDate(text, input);
  if (date !== undefined) return { kind: 'value', value: date, warnings: [] };
  // Written as YYYY-MM-DD but no such day (30 February, month 13, hour 25): say that, not "wrong format".
  if (/^\d{4}([-/])\d{1,2}\1\d{1,2}(?:$|[T ])/u.test(text)) return { kind: 'invalid', expected: 'a date that exists, as YYYY-MM-DD', got: describeValue(value) };
  return { kind: 'invalid', expected, got: describeValue(value) };
}

/** A field's declared `input`; undefined when absent. An unknown format was refused at boot (checkFallbacks). */
export function declaredDateInput(input: string | undefined, locale: string | undefined): DateInput | undefined {
  return input === undefined ? undefined : parseDateInput(input, locale);
}
