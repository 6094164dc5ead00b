import { DataError } from '../../errors/index.js';
import type { Conversion } from '../fallbacks.js';
import { describeValue } from './describeValue.js';
import { cleanText } from './text.js';

export type DecimalSeparator = '.' | ',';

/** The decimal separator `locale` writes; "." without a locale. Throws USAGE for a malformed tag. */
export function decimalSeparatorOf(locale: string | undefined): DecimalSeparator {
  if (locale === undefined) return '.';
  let decimal: string | undefined;
  try {
    decimal = new Intl.NumberFormat(locale).formatToParts(1.5).find((part) => part.type === 'decimal')?.value;
  } catch (error) {
    throw new DataError('USAGE', `locale "${locale}" is not a valid BCP 47 language tag. Use a tag like "en", "de-DE" or "fr".`, {}, { cause: error });
  }
  return decimal === ',' ? ',' : '.';
}

export function convertNumber(value: unknown, decimal: DecimalSeparator): Conversion {
  const expected = decimal === '.' ? 'a number like 1234.5 or 1,234.5' : 'a number like 1234,5 or 1.234,5';
  if (typeof value === 'number') {
    return Number.isFinite(value) ? { kind: 'value', value: value + 0, warnings: [] } : { kind: 'invalid', expected, got: 'a non-finite number' };
  }
  if (typeof value !== 'string') return { kind: 'invalid', expected, got: describeValue(value) };
  const parsed = parseNumber(value, decimal);
  return parsed === undefined ? { kind: 'invalid', expected, got: describeValue(value) } : { kind: 'value', value: parsed, warnings: [] };
}

/**
 * Accepts the locale's decimal separator and the other one only as a thousands separator in
 * groups of three, so "1,5" is rejected in an English locale instead of silently becoming 15.
 * Spaces (incl. no-break and thin), underscores and apostrophes (Swiss "1'234") are ignored;
 * NFKC turns full-width digits from CJK spreadsheets into ASCII; Excel's "1.5E+3" is accepted.
 */
const numberPatterns = {
  '.': /^([+-])?(\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d+))?([eE][+-]?\d+)?$/u,
  ',': /^([+-])?(\d{1,3}(?:\.\d{3})+|\d+)?(?:,(\d+))?([eE][+-]?\d+)?$/u,
} as const;

export function parseNumber(text: string, decimal: DecimalSeparator): number | undefined {
  const compact = stripUnits(cleanText(text).normalize('NFKC').replace(/[\s_'’]/gu, '').replace(/\u2212/gu, '-'));
  const group = decimal === '.' ? ',' : '.';
  const match = numberPatterns[decimal].exec(compact);
  if (!match || (match[2] === undefined && match[3] === undefined)) return undefined;
  const [, sign = '', integer = '0', fraction = '0', exponent = ''] = match;
  const number = Number(`${sign}${integer.split(group).join('')}.${fraction}${exponent}`);
  return Number.isFinite(number) ? number + 0 : undefined;
}

/**
 * A currency sign before or after the number ("€1.234,50", "1 234,50 €", "-$5") and a percent
 * sign after it ("12 %") are how exports write amounts and rates: the number is the one written
 * (12 for "12 %"), the sign is dropped. The template prints the unit it wants.
 */
function stripUnits(text: string): string {
  return text.replace(/^([+-]?)\p{Sc}/u, '$1').replace(/(?:\p{Sc}|%)$/u, '');
}

/**
 * A number field's declared `input`: a locale tag ("de-DE") or a sample of how the column writes
 * numbers ("1.234,50", "1,234.50", "1 234,5"): the separator before the last digits is the
 * decimal one. Undefined when it says neither (e.g. "1,234", which reads both ways).
 */
export function parseNumberInput(input: string): DecimalSeparator | undefined {
  const trimmed = input.trim();
  if (/^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/u.test(trimmed)) {
    try {
      return decimalSeparatorOf(trimmed);
    } catch {
      return undefined;
    }
  }
  const sample = /^[^\d]*\d[\d\s.,'’]*?([.,])(\d+)[^\d]*$/u.exec(trimmed);
  if (!sample) return undefined;
  const decimal = sample[1] as DecimalSeparator;
  const other = decimal === '.' ? ',' : '.';
  // "1,234" alone could be either; a sample with both separators, or decimals other than three digits, says which.
  if (sample[2]!.length === 3 && !trimmed.includes(other)) return undefined;
  return decimal;
}
