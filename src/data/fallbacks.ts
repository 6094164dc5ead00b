import { DataError, TemplateError, type RenderWarning } from '../errors/index.js';
import type { FieldSpec } from '../template/index.js';
import type { FieldValue } from './types.js';

/**
 * What happens to a field whose value cannot be used: the template's `fallback` (converted by
 * the same rules as a record value), or an empty value, or FIELD_REQUIRED. Every path records
 * why on the outcome, so manifest.csv can say which rows fell back and for which field.
 *
 * `fallback: null` and `fallback: ""` declare that empty is acceptable: the value is null (a
 * required field still fails). Using it is still a `fallback` warning like any other fallback:
 * the manifest must show which rows rendered without a name, even when the template copes.
 */

export type FallbackReason = 'missing' | 'invalid' | 'unreplaced-merge-tag';

/** The result of converting one value to a field's type. */
export type Conversion =
  | { readonly kind: 'value'; readonly value: string | number | boolean; readonly warnings: readonly RenderWarning[] }
  /** Nothing visible was left (e.g. only control characters): treated like a missing value. */
  | { readonly kind: 'empty' }
  /** `expected` describes the rule ("a date as YYYY-MM-DD"), `got` the input's type and length. */
  | { readonly kind: 'invalid'; readonly expected: string; readonly got: string };

export interface ResolvedValue {
  readonly value: FieldValue;
  readonly warnings: readonly RenderWarning[];
}

const reasonText: Readonly<Record<FallbackReason, string>> = {
  missing: 'missing',
  invalid: 'invalid',
  'unreplaced-merge-tag': 'unreplaced merge tag',
};

/** Field types whose emptiness shows on the image, so an empty render is worth a warning. */
const visibleWhenEmpty: ReadonlySet<FieldSpec['type']> = new Set(['text', 'image']);

/**
 * Resolves a field whose record value was unusable. Throws FIELD_REQUIRED for a required field
 * with no fallback, and MANIFEST_INVALID when the fallback itself breaks the field's rules.
 */
export function applyFallback(
  field: string,
  spec: FieldSpec,
  reason: FallbackReason,
  convert: (value: unknown) => Conversion,
): ResolvedValue {
  const fallback = spec.fallback;
  const declaredEmpty = fallback === null || (typeof fallback === 'string' && fallback.trim() === '');

  if (fallback === undefined || declaredEmpty) {
    if (spec.required) {
      throw new DataError('FIELD_REQUIRED', `field "${field}": ${reasonText[reason]} and no fallback`, {
        field,
        hint: `Fill the column for "${field}" or give the field a "fallback" in template.json.`,
      });
    }
    const warnings: RenderWarning[] = [];
    if (declaredEmpty) {
      warnings.push(emptyFallbackWarning(field, reason));
    } else if (reason !== 'invalid' && visibleWhenEmpty.has(spec.type)) {
      warnings.push({ code: 'missing', field, message: `field "${field}": ${reasonText[reason]} and no fallback; left empty` });
    }
    return { value: null, warnings };
  }

  const converted = convert(fallback);
  if (converted.kind === 'invalid') {
    throw new TemplateError(
      'MANIFEST_INVALID',
      `fields.${field}.fallback must be ${converted.expected}, got ${converted.got}. Fix the fallback in template.json.`,
      { field },
    );
  }
  if (converted.kind === 'empty') {
    if (spec.required) {
      throw new DataError('FIELD_REQUIRED', `field "${field}": ${reasonText[reason]} and no fallback`, { field });
    }
    return { value: null, warnings: [emptyFallbackWarning(field, reason)] };
  }
  return {
    value: converted.value,
    warnings: [{ code: 'fallback', field, message: `field "${field}": ${reasonText[reason]}; fallback used` }, ...converted.warnings],
  };
}

function emptyFallbackWarning(field: string, reason: FallbackReason): RenderWarning {
  return { code: 'fallback', field, message: `field "${field}": ${reasonText[reason]}; fallback used (empty)` };
}
