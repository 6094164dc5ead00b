import type { Conversion } from '../fallbacks.js';
import { describeValue } from './describeValue.js';
import { cleanText } from './text.js';

/**
 * Only year-first dates: "2025-03-07", "2025/03/07", or an ISO date-time whose date part is
 * kept as written (no time-zone shift: it is the calendar date the sender meant). "03/07/2025"
 * is rejected because it means March in the US and July in Europe.
 */
const datePattern = /^(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/iu;

export function convertDate(value: unknown): Conversion {
  const expected = 'a date as YYYY-MM-DD';
  if (typeof value !== 'string') return { kind: 'invalid', expected, got: describeValue(value) };
  const match = datePattern.exec(cleanText(value).normalize('NFKC'));
  if (!match) return { kind: 'invalid', expected, got: describeValue(value) };
  const [, yearText = '', , monthText = '', dayText = '', hour = '0', minute = '0', second = '0'] = match;
  const year = Number(yearText);
  const month = Number(monthText);
  const day = Number(dayText);
  const timeIsValid = Number(hour) <= 23 && Number(minute) <= 59 && Number(second) <= 59;
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || !timeIsValid) {
    return { kind: 'invalid', expected: 'a date that exists, as YYYY-MM-DD', got: describeValue(value) };
  }
  return { kind: 'value', value: `${yearText}-${pad(month)}-${pad(day)}`, warnings: [] };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
