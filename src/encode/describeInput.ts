/** How preset messages show a received value: short, typed, and never a whole long string. */

export function describeInput(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value.slice(0, 40))} (string)`;
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${String(value).slice(0, 40)} (${typeof value})`;
}
