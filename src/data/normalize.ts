import { DataError, type RenderWarning } from '../errors/index.js';
import type { FieldSpec, FieldSpecs } from '../template/index.js';
import { applyFallback, type Conversion, type FallbackReason } from './fallbacks.js';
import { isUnreplacedMergeTag } from './mergeTags.js';
import type { FieldValue, NormalizeResult } from './types.js';

/**
 * Turns one mapped record into the template's typed fields. Values come from spreadsheets and
 * CRMs, so each type accepts the spellings those produce and rejects the rest; a rejected or
 * missing value falls back (fallbacks.ts) instead of failing the row. Warnings and errors name
 * the field, the rule and the value's type or length, never the value: it is personal data.
 *
 * Values are kept as plain text. `<img src=x onerror=…>` survives unchanged; escaping belongs
 * to the merge stage, which knows the output context.
 */

export interface NormalizeOptions {
  /** Decides the decimal separator of number fields ("de" reads "1.234,5"). Default: "." decimal. */
  readonly locale?: string;
  /** Cap, in user-perceived characters, for text fields without `maxLength`. Default 200. */
  readonly defaultMaxLength?: number;
}

const defaultMaxLength = 200;

/**
 * Cell contents that mean "no value" in exports (compared case-insensitively after trimming).
 * "NA" is matched only in capitals: "Na" is a Korean surname.
 */
export const missingMarkers: readonly string[] = ['null', 'undefined', 'n/a', '#n/a', 'none', '-'];
const missingMarkersExactCase: readonly string[] = ['NA'];

/** True for absent values, empty or whitespace-only text, and the `missingMarkers`. */
export function isMissingValue(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value !== 'string') return false;
  const trimmed = value.trim();
  return trimmed === '' || missingMarkers.includes(trimmed.toLowerCase()) || missingMarkersExactCase.includes(trimmed);
}

/** Normalizes every field of `fields`; throws FIELD_REQUIRED when a required field has nothing to show. */
export function normalizeRecord(
  fields: FieldSpecs,
  values: Readonly<Record<string, unknown>>,
  options: NormalizeOptions = {},
): NormalizeResult {
  const context = createContext(options);
  const entries: [string, FieldValue][] = [];
  const warnings: RenderWarning[] = [];

  for (const [field, spec] of Object.entries(fields)) {
    const raw = Object.hasOwn(values, field) ? values[field] : undefined;
    const convert = (value: unknown): Conversion => convertValue(field, spec, value, context);
    let reason: FallbackReason;
    if (isMissingValue(raw)) {
      reason = 'missing';
    } else if (typeof raw === 'string' && isUnreplacedMergeTag(raw)) {
      warnings.push({
        code: 'unreplaced-merge-tag',
        field,
        message: `field "${field}": an unreplaced merge tag (${countCharacters(raw.trim())} characters); treated as missing`,
      });
      reason = 'unreplaced-merge-tag';
    } else {
      const converted = convert(raw);
      if (converted.kind === 'value') {
        entries.push([field, converted.value]);
        warnings.push(...converted.warnings);
        continue;
      }
      if (converted.kind === 'invalid') {
        warnings.push({ code: 'invalid', field, message: `field "${field}": expected ${converted.expected}, got ${converted.got}` });
        reason = 'invalid';
      } else {
        reason = 'missing';
      }
    }
    const resolved = applyFallback(field, spec, reason, convert);
    entries.push([field, resolved.value]);
    warnings.push(...resolved.warnings);
  }
  return { record: Object.freeze(Object.fromEntries(entries)), warnings };
}

/**
 * Checks every field's fallback against the field's own rules, for boot-time validation
 * (`mergeshot doctor`, server start). Returns one line per problem; empty when all are usable.
 */
export function checkFallbacks(fields: FieldSpecs, options: NormalizeOptions = {}): string[] {
  const context = createContext(options);
  const problems: string[] = [];
  for (const [field, spec] of Object.entries(fields)) {
    // `null` and "" declare "empty is fine" (see fallbacks.ts): nothing to convert.
    if (spec.fallback === undefined || spec.fallback === null || (typeof spec.fallback === 'string' && spec.fallback.trim() === '')) continue;
    const converted = convertValue(field, spec, spec.fallback, context);
    if (converted.kind === 'invalid') problems.push(`fields.${field}.fallback must be ${converted.expected}, got ${converted.got}.`);
  }
  return problems;
}

interface ConvertContext {
  readonly defaultMaxLength: number;
  /** Resolved on first use: most templates have no number field. */
  decimalSeparator(): '.' | ',';
}

function createContext(options: NormalizeOptions): ConvertContext {
  let separator: '.' | ',' | undefined;
  return {
    defaultMaxLength: options.defaultMaxLength ?? defaultMaxLength,
    decimalSeparator() {
      separator ??= decimalSeparatorOf(options.locale);
      return separator;
    },
  };
}

function decimalSeparatorOf(locale: string | undefined): '.' | ',' {
  if (locale === undefined) return '.';
  let decimal: string | undefined;
  try {
    decimal = new Intl.NumberFormat(locale).formatToParts(1.5).find((part) => part.type === 'decimal')?.value;
  } catch (error) {
    throw new DataError('USAGE', `locale "${locale}" is not a valid BCP 47 language tag. Use a tag like "en", "de-DE" or "fr".`, {}, { cause: error });
  }
  return decimal === ',' ? ',' : '.';
}

/** Converts a present, non-missing value to the field's type. */
function convertValue(field: string, spec: FieldSpec, value: unknown, context: ConvertContext): Conversion {
  switch (spec.type) {
    case 'text':
      return convertText(field, value, spec.maxLength ?? context.defaultMaxLength);
    case 'number':
      return convertNumber(value, context.decimalSeparator());
    case 'date':
      return convertDate(value);
    case 'boolean':
      return convertBoolean(value);
    case 'enum':
      return convertEnum(value, spec.values ?? []);
    case 'color':
      return convertColor(value);
    case 'image':
      return convertImage(value);
  }
}

// ---- text -------------------------------------------------------------------------------

/** Grapheme segmentation is locale-independent in practice; one immutable instance serves all calls. */
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Half of a surrogate pair with no partner: rendered as U+FFFD instead of breaking encoders. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/gu;
/** Line breaks and tabs (and the space around them) become one space: a name is one line. */
const lineBreaks = /\s*[\t\n\v\f\r\u0085\u2028\u2029]\s*/gu;
/**
 * Removed: C0 and C1 controls, U+FEFF left inside a value by concatenated exports, and the bidi
 * overrides LRO/RLO, which can make text display reversed (spoofing). Kept on purpose: ZWJ and
 * ZWNJ (emoji sequences, Persian and Indic shaping), LRM/RLM/ALM and bidi embeddings/isolates,
 * which mixed Arabic/Hebrew and Latin text needs.
 */
const strippedControls = /[\u0000-\u001F\u007F-\u009F\uFEFF\u202D\u202E]/gu;
/** Nothing a reader would see: only spaces and format characters (ZWJ, LRM…). */
const invisibleOnly = /^[\s\p{Cf}]*$/u;

/** NFC, line breaks to spaces, controls removed, trimmed. */
export function cleanText(text: string): string {
  return text.normalize('NFC').replace(loneSurrogate, '\uFFFD').replace(lineBreaks, ' ').replace(strippedControls, '').trim();
}

/**
 * U+FFFD is what a decoder leaves for bytes it could not read (and cleanText for a lone
 * surrogate): the recipient would see a "?" box where the file meant "é".
 */
const replacementCharacter = /\uFFFD/gu;

function convertText(field: string, value: unknown, maxLength: number): Conversion {
  const text = textOf(value);
  if (text === undefined) return { kind: 'invalid', expected: 'text', got: describeValue(value) };
  const cleaned = cleanText(text);
  if (invisibleOnly.test(cleaned)) return { kind: 'empty' };
  const warnings = encodingWarnings(field, cleaned);
  // Code units ≥ graphemes, so a short string needs no segmentation.
  if (cleaned.length <= maxLength) return { kind: 'value', value: cleaned, warnings };
  const clusters = Array.from(graphemes.segment(cleaned), (segment) => segment.segment);
  if (clusters.length <= maxLength) return { kind: 'value', value: cleaned, warnings };
  return {
    kind: 'value',
    // Cutting between clusters never splits an emoji ZWJ sequence, a flag or a combining mark.
    value: clusters.slice(0, maxLength).join('').trimEnd(),
    warnings: [...warnings, { code: 'truncated', field, message: `field "${field}": ${clusters.length} characters, cap ${maxLength}; truncated` }],
  };
}

/** One `encoding` warning when the text holds replacement characters; the rows around it may be fine. */
function encodingWarnings(field: string, text: string): RenderWarning[] {
  const count = text.match(replacementCharacter)?.length ?? 0;
  if (count === 0) return [];
  return [
    {
      code: 'encoding',
      field,
      message: `field "${field}": ${count} character${count === 1 ? '' : 's'} could not be decoded (U+FFFD), so part of the data is probably not UTF-8. Save the file as "CSV UTF-8" and run again`,
    },
  ];
}

/** Numbers and booleans from JSON become their usual spelling; objects are not text. */
function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

// ---- number -----------------------------------------------------------------------------

function convertNumber(value: unknown, decimal: '.' | ','): Conversion {
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

function parseNumber(text: string, decimal: '.' | ','): number | undefined {
  const compact = cleanText(text).normalize('NFKC').replace(/[\s_'’]/gu, '').replace(/\u2212/gu, '-');
  const group = decimal === '.' ? ',' : '.';
  const match = numberPatterns[decimal].exec(compact);
  if (!match || (match[2] === undefined && match[3] === undefined)) return undefined;
  const [, sign = '', integer = '0', fraction = '0', exponent = ''] = match;
  const number = Number(`${sign}${integer.split(group).join('')}.${fraction}${exponent}`);
  return Number.isFinite(number) ? number + 0 : undefined;
}

// ---- date -------------------------------------------------------------------------------

/**
 * Only year-first dates: "2025-03-07", "2025/03/07", or an ISO date-time whose date part is
 * kept as written (no time-zone shift: it is the calendar date the sender meant). "03/07/2025"
 * is rejected because it means March in the US and July in Europe.
 */
const datePattern = /^(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/iu;

function convertDate(value: unknown): Conversion {
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

// ---- boolean ----------------------------------------------------------------------------

/** Checkbox columns export as "x" or "✓"; forms as yes/no; databases as 1/0 or true/false. */
const booleanWords: ReadonlyMap<string, boolean> = new Map([
  ...['true', 'yes', 'y', '1', 'x', '✓', '✔', 'on'].map((word): [string, boolean] => [word, true]),
  ...['false', 'no', 'n', '0', '✗', '✘', 'off'].map((word): [string, boolean] => [word, false]),
]);

function convertBoolean(value: unknown): Conversion {
  const expected = 'yes/no, true/false or 1/0';
  if (typeof value === 'boolean') return { kind: 'value', value, warnings: [] };
  if (typeof value === 'number') {
    return value === 1 || value === 0 ? { kind: 'value', value: value === 1, warnings: [] } : { kind: 'invalid', expected, got: 'a number other than 1 or 0' };
  }
  if (typeof value !== 'string') return { kind: 'invalid', expected, got: describeValue(value) };
  const parsed = booleanWords.get(cleanText(value).normalize('NFKC').toLowerCase());
  return parsed === undefined ? { kind: 'invalid', expected, got: describeValue(value) } : { kind: 'value', value: parsed, warnings: [] };
}

// ---- enum -------------------------------------------------------------------------------

function convertEnum(value: unknown, allowed: readonly string[]): Conversion {
  const expected = `one of ${allowed.join(', ')}`;
  const text = typeof value === 'string' || typeof value === 'number' ? textOf(value) : undefined;
  if (text === undefined) return { kind: 'invalid', expected, got: describeValue(value) };
  const wanted = cleanText(text).toLowerCase();
  // Returned in the manifest's spelling, so templates can compare against it exactly.
  const match = allowed.find((candidate) => candidate.normalize('NFC').toLowerCase() === wanted);
  return match === undefined ? { kind: 'invalid', expected, got: describeValue(value) } : { kind: 'value', value: match, warnings: [] };
}

// ---- color ------------------------------------------------------------------------------

/** Hex only: a colour lands in CSS, so "red; background:url(…)" must never get through. */
const hexColor = /^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/iu;

function convertColor(value: unknown): Conversion {
  const expected = 'a hex colour like #1a2b3c (#rgb, #rrggbb or #rrggbbaa)';
  if (typeof value !== 'string') return { kind: 'invalid', expected, got: describeValue(value) };
  const text = cleanText(value).normalize('NFKC').toLowerCase();
  if (!hexColor.test(text)) return { kind: 'invalid', expected, got: describeValue(value) };
  const digits = text.slice(1);
  // #rgb and #rgba expand so templates always see #rrggbb or #rrggbbaa.
  const full = digits.length <= 4 ? [...digits].map((digit) => digit + digit).join('') : digits;
  return { kind: 'value', value: `#${full}`, warnings: [] };
}

// ---- image ------------------------------------------------------------------------------

const maxUrlLength = 2048;
const maxDataUriLength = 5 * 1024 * 1024;
/** Parameters such as ;charset=utf-8, ;utf8 (common in SVG data URIs) and ;base64 are allowed. */
const dataImage = /^data:image\/(?:png|jpeg|webp|gif|svg\+xml)(?:;[a-z0-9-]+(?:=[^;,]*)?)*,/iu;

/**
 * A shape check only: the asset stage fetches, sniffs and refuses private addresses later.
 * URLs are kept byte for byte (no NFC), since a changed path is a different resource.
 */
function convertImage(value: unknown): Conversion {
  const expected = 'an http(s) URL, a data:image URI (png, jpeg, webp, gif, svg) or an assets/ path';
  if (typeof value !== 'string') return { kind: 'invalid', expected, got: describeValue(value) };
  const text = value.trim();
  const invalid = (rule: string = expected): Conversion => ({ kind: 'invalid', expected: rule, got: describeValue(value) });
  // Spaces may stay ("assets/team photo.png", SVG data URIs); controls and line breaks may not.
  if (/[\u0000-\u001F\u007F-\u009F]/u.test(text)) return invalid();

  if (/^https?:/iu.test(text)) {
    if (text.length > maxUrlLength) return invalid(`an image URL of at most ${maxUrlLength} characters`);
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return invalid();
    }
    // Credentials in an image URL would end up in logs and cache keys; no real CDN needs them.
    if (url.hostname === '' || url.username !== '' || url.password !== '') return invalid('an http(s) image URL with a host and no user:password');
    return { kind: 'value', value: text, warnings: [] };
  }
  if (/^data:/iu.test(text)) {
    if (text.length > maxDataUriLength) return invalid(`a data:image URI of at most ${maxDataUriLength} characters`);
    return dataImage.test(text) ? { kind: 'value', value: text, warnings: [] } : invalid();
  }
  if (text.startsWith('assets/')) {
    return isSafeAssetPath(text) ? { kind: 'value', value: text, warnings: [] } : invalid('an assets/ path without "..", "\\" or empty segments');
  }
  return invalid();
}

/** Segments are checked after percent-decoding, so "assets/%2e%2e/secret" is refused too. */
function isSafeAssetPath(path: string): boolean {
  if (path.includes('\\')) return false;
  for (const segment of path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return false;
    }
    if (decoded === '' || decoded === '.' || decoded === '..' || decoded.includes('/') || decoded.includes('\\')) return false;
  }
  return true;
}

// ---- descriptions -----------------------------------------------------------------------

/** The input's type and size, for messages: never the value itself. */
function describeValue(value: unknown): string {
  if (typeof value === 'string') return `text of ${countCharacters(value.trim())} characters`;
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `a value of type ${typeof value}`;
}

function countCharacters(text: string): number {
  return [...text].length;
}
