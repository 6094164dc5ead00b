import type { Conversion } from '../fallbacks.js';
import { describeValue } from './describeValue.js';
import { cleanText } from './text.js';

/** Hex only: a colour lands in CSS, so "red; background:url(…)" must never get through. */
const hexColor = /^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/iu;

export function convertColor(value: unknown): Conversion {
  const expected = 'a hex colour like #1a2b3c (#rgb, #rrggbb or #rrggbbaa)';
  if (typeof value !== 'string') return { kind: 'invalid', expected, got: describeValue(value) };
  const text = cleanText(value).normalize('NFKC').toLowerCase();
  if (!hexColor.test(text)) return { kind: 'invalid', expected, got: describeValue(value) };
  const digits = text.slice(1);
  // #rgb and #rgba expand so templates always see #rrggbb or #rrggbbaa.
  const full = digits.length <= 4 ? [...digits].map((digit) => digit + digit).join('') : digits;
  return { kind: 'value', value: `#${full}`, warnings: [] };
}
