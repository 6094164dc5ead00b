/** The input's type and size, for messages: never the value itself (record values are personal data). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `text of ${countCharacters(value.trim())} characters`;
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `a value of type ${typeof value}`;
}

export function countCharacters(text: string): number {
  return [...text].length;
}
