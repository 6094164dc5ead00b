import { describe, expect, it } from 'vitest';
import { normalizeOne as one } from './normalizeOne.js';

describe('date', () => {
  it.each([
    ['2024-03-07', '2024-03-07'],
    ['2024/06/09', '2024-06-09'],
    ['2024-3-7', '2024-03-07'],
    ['2020-02-29', '2020-02-29'],
    ['2000-02-29', '2000-02-29'],
    ['2024-03-07T23:30:00Z', '2024-03-07'],
    ['2024-03-07T23:30:00.123+05:30', '2024-03-07'],
    ['2024-03-07 09:15', '2024-03-07'],
  ])('%j → %j', (input, expected) => {
    expect(one({ type: 'date' }, input)).toEqual({ value: expected, warnings: [] });
  });

  it.each(['2025-02-30', '2023-02-29', '1900-02-29', '2024-13-01', '2024-04-31', '0000-01-01', '2024-03-07T25:00'])('%j does not exist', (input) => {
    expect(one({ type: 'date' }, input).warnings).toEqual([
      { code: 'invalid', field: 'f', message: `field "f": expected a date that exists, as YYYY-MM-DD, got text of ${input.length} characters` },
    ]);
  });

  it.each(['07/03/2024', '03/07/2024', '7 March 2024', '2024-03/07', '20240307'])('%j is refused as ambiguous or not year-first', (input) => {
    expect(one({ type: 'date' }, input).warnings[0]?.message).toBe(`field "f": expected a date as YYYY-MM-DD, got text of ${input.length} characters`);
  });

  it('refuses numbers (Excel serial dates)', () => {
    expect(one({ type: 'date' }, 45358).warnings[0]?.message).toBe('field "f": expected a date as YYYY-MM-DD, got a number');
  });
});
