import type { Conversion } from '../fallbacks.js';
import { describeValue } from './describeValue.js';
import { cleanText } from './text.js';

/**
 * Checkbox columns export as "x", "✓" or "checked" (Airtable, Notion); forms as yes/no; databases
 * as 1/0, true/false or t/f (PostgreSQL); HubSpot and Klaviyo as true/false, Mailchimp as Yes/No.
 */
const booleanWords: ReadonlyMap<string, boolean> = new Map([
  ...['true', 'yes', 'y', '1', 'x', '✓', '✔', 'on', 'checked', 't'].map((word): [string, boolean] => [word, true]),
  ...['false', 'no', 'n', '0', '✗', '✘', 'off', 'unchecked', 'f'].map((word): [string, boolean] => [word, false]),
]);

export function convertBoolean(value: unknown): Conversion {
  const expected = 'yes/no, true/false or 1/0';
  if (typeof value === 'boolean') return { kind: 'value', value, warnings: [] };
  if (typeof value === 'number') {
    return value === 1 || value === 0 ? { kind: 'value', value: value === 1, warnings: [] } : { kind: 'invalid', expected, got: 'a number other than 1 or 0' };
  }
  if (typeof value !== 'string') return { kind: 'invalid', expected, got: describeValue(value) };
  const parsed = booleanWords.get(cleanText(value).normalize('NFKC').toLowerCase());
  return parsed === undefined ? { kind: 'invalid', expected, got: describeValue(value) } : { kind: 'value', value: parsed, warnings: [] };
}
