import { describe, expect, it } from 'vitest';
import { normalizeOne as one } from './normalizeOne.js';

describe('boolean', () => {
  it.each([
    ['true', true],
    ['Yes', true],
    ['y', true],
    ['1', true],
    ['x', true],
    ['X', true],
    ['✓', true],
    ['ON', true],
    ['checked', true],
    ['TRUE', true],
    ['t', true],
    ['unchecked', false],
    ['f', false],
    ['false', false],
    ['NO', false],
    ['n', false],
    ['0', false],
    ['off', false],
  ])('%j → %s', (input, expected) => {
    expect(one({ type: 'boolean' }, input)).toEqual({ value: expected, warnings: [] });
  });

  it('accepts JSON booleans and 1/0', () => {
    expect(one({ type: 'boolean' }, false).value).toBe(false);
    expect(one({ type: 'boolean' }, 1).value).toBe(true);
    expect(one({ type: 'boolean' }, 0).value).toBe(false);
  });

  it('refuses "maybe" and 2, falling back', () => {
    expect(one({ type: 'boolean', fallback: false }, 'maybe')).toEqual({
      value: false,
      warnings: [
        { code: 'invalid', field: 'f', message: 'field "f": expected yes/no, true/false or 1/0, got text of 5 characters' },
        { code: 'fallback', field: 'f', message: 'field "f": invalid; fallback used' },
      ],
    });
    expect(one({ type: 'boolean' }, 2).warnings[0]?.message).toBe('field "f": expected yes/no, true/false or 1/0, got a number other than 1 or 0');
  });

  it('leaves a missing boolean without fallback null and silent', () => {
    expect(one({ type: 'boolean' }, '')).toEqual({ value: null, warnings: [] });
  });
});
