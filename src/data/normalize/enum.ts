import type { Conversion } from '../fallbacks.js';
import { describeValue } from './describeValue.js';
import { cleanText, textOf } from './text.js';

export function convertEnum(value: unknown, allowed: readonly string[]): Conversion {
  const expected = `one of ${allowed.join(', ')}`;
  const text = typeof value === 'string' || typeof value === 'number' ? textOf(value) : undefined;
  if (text === undefined) return { kind: 'invalid', expected, got: describeValue(value) };
  const wanted = cleanText(text).toLowerCase();
  // Returned in the manifest's spelling, so templates can compare against it exactly.
  const match = allowed.find((candidate) => candidate.normalize('NFC').toLowerCase() === wanted);
  return match === undefined ? { kind: 'invalid', expected, got: describeValue(value) } : { kind: 'value', value: match, warnings: [] };
}
