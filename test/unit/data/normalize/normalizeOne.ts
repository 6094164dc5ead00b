import { normalizeRecord } from '../../../../src/data/normalize.js';
import type { FieldSpec } from '../../../../src/template/index.js';

/**
 * Normalizes one value for a single field named "f". The converters are reached through
 * normalizeRecord, so each type's tests also cover its missing-value and fallback handling.
 */
export function normalizeOne(spec: FieldSpec, value: unknown, options?: Parameters<typeof normalizeRecord>[2]) {
  const result = normalizeRecord({ f: spec }, value === undefined ? {} : { f: value }, options);
  return { value: result.record['f'], warnings: result.warnings };
}

export const codes = (warnings: readonly { code: string }[]): string[] => warnings.map((warning) => warning.code);
