import { describe, expect, it } from 'vitest';
import { codes, normalizeOne as one } from './normalizeOne.js';

describe('number', () => {
  it.each([
    ['12', 12],
    ['1,234.5', 1234.5],
    ['1 234.5', 1234.5],
    ['1\u00A0234', 1234],
    ['1_000_000', 1_000_000],
    ["1'234", 1234],
    ['-3.25', -3.25],
    ['+7', 7],
    ['.5', 0.5],
    ['1.5E+3', 1500],
    ['\u2212 4', -4],
    ['１２３', 123],
    // Units exports write around amounts and rates: the number written is kept.
    ['$12', 12],
    ['-$5.25', -5.25],
    ['12 %', 12],
    ['12%', 12],
    ['1 234,50 €', undefined],
  ])('%j → %d', (input, expected) => {
    if (expected === undefined) {
      expect(codes(one({ type: 'number' }, input).warnings)).toEqual(['invalid']);
      return;
    }
    expect(one({ type: 'number' }, input)).toEqual({ value: expected, warnings: [] });
  });

  it('accepts JSON numbers, turning -0 into 0', () => {
    expect(one({ type: 'number' }, 42).value).toBe(42);
    expect(Object.is(one({ type: 'number' }, -0).value, 0)).toBe(true);
  });

  it.each(['1,5', '1.234.567', '12abc', '12$$', '1,23,456', '', 'lots', '1e', '.'])('%j is invalid in an English locale', (input) => {
    const result = one({ type: 'number', fallback: 0 }, input);
    if (input === '') {
      expect(codes(result.warnings)).toEqual(['fallback']);
      return;
    }
    expect(result.value).toBe(0);
    expect(result.warnings[0]).toEqual({
      code: 'invalid',
      field: 'f',
      message: `field "f": expected a number like 1234.5 or 1,234.5, got text of ${[...input].length} characters`,
    });
  });

  it('reads "1.234,5" with a comma-decimal locale and rejects "1,234.5" there', () => {
    expect(one({ type: 'number' }, '1.234,5', { locale: 'de-DE' }).value).toBe(1234.5);
    expect(one({ type: 'number' }, '1 234,5', { locale: 'fr' }).value).toBe(1234.5);
    expect(codes(one({ type: 'number' }, '1,234.5', { locale: 'de' }).warnings)).toEqual(['invalid']);
  });

  it.each([
    ['1.234,50', '1.234,50', 1234.5],
    ['1.234,50', '€1.234,50', 1234.5],
    ['1,234.50', '1,234.50', 1234.5],
    ['1 234,5', '1 234,5', 1234.5],
    ['de-DE', '12,5 %', 12.5],
  ] as const)('with "input": %j reads %j as %d, whatever the template\'s locale', (input, value, expected) => {
    expect(one({ type: 'number', input }, value, { locale: 'en' }).value).toBe(expected);
  });

  it('refuses non-finite numbers, booleans and objects', () => {
    expect(one({ type: 'number' }, Number.NaN).warnings[0]?.message).toBe('field "f": expected a number like 1234.5 or 1,234.5, got a non-finite number');
    expect(one({ type: 'number' }, true).warnings[0]?.message).toBe('field "f": expected a number like 1234.5 or 1,234.5, got a boolean');
    expect(one({ type: 'number' }, { n: 1 }).value).toBeNull();
  });

  it('throws USAGE for a malformed locale', () => {
    expect(() => one({ type: 'number' }, '1', { locale: 'not a locale!' })).toThrowError(expect.objectContaining({ code: 'USAGE' }));
  });
});
