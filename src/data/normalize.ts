import type { RenderWarning } from '../errors/index.js';
import type { FieldSpecs } from '../template/index.js';
import { applyFallback, type Conversion, type FallbackReason } from './fallbacks.js';
import { isUnreplacedMergeTag, removeMergeTags } from './mergeTags.js';
import { convertValue, type ConvertContext } from './normalize/convertValue.js';
import { countCharacters } from './normalize/describeValue.js';
import { isMissingValue } from './normalize/missing.js';
import { decimalSeparatorOf, type DecimalSeparator } from './normalize/number.js';
import { checkInputFormat } from './columnFormats.js';
import type { FieldValue, NormalizeResult } from './types.js';

/**
 * Turns one mapped record into the template's typed fields. Values come from spreadsheets and
 * CRMs, so each type accepts the spellings those produce and rejects the rest; a rejected or
 * missing value falls back (fallbacks.ts) instead of failing the row. Warnings and errors name
 * the field, the rule and the value's type or length, never the value: it is personal data.
 * Each field type's converter lives in normalize/<type>.ts; convertValue.ts picks one by type.
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
    let raw = Object.hasOwn(values, field) ? values[field] : undefined;
    // A tag inside a real value ("*|FNAME|* Lovelace") is removed and the rest kept: never drawn.
    const untagged = typeof raw === 'string' && !isUnreplacedMergeTag(raw) ? removeMergeTags(raw) : undefined;
    if (untagged !== undefined && typeof raw === 'string') {
      warnings.push({ code: 'unreplaced-merge-tag', field, message: `field "${field}": held an unreplaced merge tag inside its value (${countCharacters(raw.trim())} characters); the tag was removed` });
      raw = untagged;
    }
    const convert = (value: unknown): Conversion => convertValue(field, spec, value, context);
    let reason: FallbackReason;
    if (isMissingValue(raw, spec.missing)) {
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
 * Checks every field's fallback against the field's own rules, and every declared `input`
 * format, for boot-time validation (`mergeshot doctor`, server start, `mergeshot render`).
 * Returns one line per problem; empty when all are usable.
 */
export function checkFallbacks(fields: FieldSpecs, options: NormalizeOptions = {}): string[] {
  const context = createContext(options);
  const problems: string[] = [];
  for (const [field, spec] of Object.entries(fields)) {
    if (spec.input !== undefined) {
      const problem = checkInputFormat(spec.type, spec.input, options.locale);
      if (problem) problems.push(`fields.${field}.input ${problem}`);
    }
    // `null` and "" declare "empty is fine" (see fallbacks.ts): nothing to convert.
    if (spec.fallback === undefined || spec.fallback === null || (typeof spec.fallback === 'string' && spec.fallback.trim() === '')) continue;
    const converted = convertValue(field, spec, spec.fallback, context);
    if (converted.kind === 'invalid') problems.push(`fields.${field}.fallback must be ${converted.expected}, got ${converted.got}.`);
  }
  return problems;
}

function createContext(options: NormalizeOptions): ConvertContext {
  let separator: DecimalSeparator | undefined;
  return {
    defaultMaxLength: options.defaultMaxLength ?? defaultMaxLength,
    locale: options.locale,
    decimalSeparator() {
      separator ??= decimalSeparatorOf(options.locale);
      return separator;
    },
  };
}
