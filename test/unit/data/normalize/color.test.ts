import { describe, expect, it } from 'vitest';
import { normalizeOne as one } from './normalizeOne.js';

describe('color', () => {
  it.each([
    ['#1A73E8', '#1a73e8'],
    ['#0f9', '#00ff99'],
    ['#C0FFEE', '#c0ffee'],
    ['#abcd', '#aabbccdd'],
    ['#11223344', '#11223344'],
    [' #abc ', '#aabbcc'],
  ])('%j → %j', (input, expected) => {
    expect(one({ type: 'color' }, input)).toEqual({ value: expected, warnings: [] });
  });

  it.each(['red', 'red; background:url(x)', '#12', '#12345', '#gggggg', 'rgb(0,0,0)', '1a73e8', '#1a73e8;', 'url(javascript:alert(1))'])(
    '%j is refused',
    (input) => {
      const { value, warnings } = one({ type: 'color', fallback: '#000000' }, input);
      expect(value).toBe('#000000');
      expect(warnings[0]?.message).toBe(`field "f": expected a hex colour like #1a2b3c (#rgb, #rrggbb or #rrggbbaa), got text of ${input.trim().length} characters`);
    },
  );
});
