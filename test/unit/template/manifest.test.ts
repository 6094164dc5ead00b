import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/template/index.js';

const base = { name: 'T', width: 1200, height: 630, fields: { name: { type: 'text' } } };

describe('parseManifest', () => {
  it('accepts a valid manifest', () => {
    expect(parseManifest(base, 'template.json').width).toBe(1200);
  });

  it('names the key, the value and the fix for a width with units', () => {
    expect(() => parseManifest({ ...base, sizes: { square: { width: '1080px', height: 1080 } } }, 'templates/x/template.json')).toThrowError(
      'templates/x/template.json: sizes.square.width must be an integer 1–8000, got "1080px" (string). Write the number without units, e.g. 1080.',
    );
  });

  it('suggests the right key for a typo', () => {
    expect(() => parseManifest({ ...base, heigth: 630 }, 't.json')).toThrowError('t.json: unknown key "heigth". Did you mean "height"?');
  });

  it('reports every problem at once with a stable code', () => {
    try {
      parseManifest({ name: 'T', width: 0, height: -1, fields: { plan: { type: 'enum' } } }, 't.json');
      expect.unreachable();
    } catch (error) {
      expect((error as { code: string }).code).toBe('MANIFEST_INVALID');
      const lines = (error as Error).message.split('\n');
      expect(lines.some((l) => l.startsWith('t.json: width'))).toBe(true);
      expect(lines.some((l) => l.startsWith('t.json: height'))).toBe(true);
      expect(lines.some((l) => l.includes('fields.plan.values is required for an enum field'))).toBe(true);
    }
  });

  it('refuses an enum fallback outside its values', () => {
    expect(() => parseManifest({ ...base, fields: { plan: { type: 'enum', values: ['a', 'b'], fallback: 'c' } } }, 't.json')).toThrowError(/fields\.plan\.fallback must be one of the enum's values \(a, b\)/);
  });
});
