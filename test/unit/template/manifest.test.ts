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

  it('refuses a field named like a helper, which {{name}} would call instead of printing', () => {
    for (const name of ['title', 'upper', 'fit', 'each']) {
      expect(() => parseManifest({ ...base, fields: { [name]: { type: 'text' } } }, 't.json')).toThrowError(`t.json: fields.${name} "${name}" is the name of a template helper`);
    }
    expect(parseManifest({ ...base, fields: { titleText: { type: 'text' } } }, 't.json').fields).toHaveProperty('titleText');
  });

  it('takes a date or number field\'s input format and a field\'s own missing markers', () => {
    const manifest = parseManifest({ ...base, fields: { when: { type: 'date', input: 'DD/MM/YYYY', missing: ['TBD', 'à confirmer'] }, price: { type: 'number', input: '1.234,50' } } }, 't.json');
    expect(manifest.fields['when']).toEqual({ type: 'date', input: 'DD/MM/YYYY', missing: ['TBD', 'à confirmer'] });
  });

  it('refuses an input format on a field that is not a date or number, and an empty missing marker', () => {
    expect(() => parseManifest({ ...base, fields: { name: { type: 'text', input: 'DD/MM/YYYY' } } }, 't.json')).toThrowError('t.json: fields.name.input only applies to date and number fields, but this field is "text".');
    expect(() => parseManifest({ ...base, fields: { name: { type: 'text', missing: [''] } } }, 't.json')).toThrowError('fields.name.missing.0 must not be empty: empty cells are always missing.');
  });

  it('refuses an enum fallback outside its values', () => {
    expect(() => parseManifest({ ...base, fields: { plan: { type: 'enum', values: ['a', 'b'], fallback: 'c' } } }, 't.json')).toThrowError(/fields\.plan\.fallback must be one of the enum's values \(a, b\)/);
  });
});

describe('parseManifest check', () => {
  const sized = { ...base, sizes: { square: { width: 600, height: 600 } } };

  it('accepts presets and a visual tolerance with masks', () => {
    const check = { presets: ['original', 'email'], visual: { maxDiffPixels: 12, maxDiffPixelRatio: 0.001, threshold: 0.1, masks: [{ x: 0, y: 0, width: 100, height: 20 }, { x: 500, y: 500, width: 100, height: 100, size: 'square' }] } };
    expect(parseManifest({ ...sized, check }, 't.json').check).toEqual(check);
  });

  it('names the field of a bad tolerance', () => {
    expect(() => parseManifest({ ...base, check: { visual: { maxDiffPixels: -1 } } }, 't.json')).toThrowError('t.json: check.visual.maxDiffPixels must be a whole number of pixels ≥ 0, got -1 (number).');
    expect(() => parseManifest({ ...base, check: { visual: { threshold: '0.1' } } }, 't.json')).toThrowError('t.json: check.visual.threshold must be a colour distance 0–1 (0: any change counts), got "0.1" (string).');
    expect(() => parseManifest({ ...base, check: { visual: { maxDiffPixelRatio: 2 } } }, 't.json')).toThrowError("t.json: check.visual.maxDiffPixelRatio must be a ratio 0–1 of the image's pixels, got 2 (number).");
  });

  it('refuses an empty or repeated preset list', () => {
    expect(() => parseManifest({ ...base, check: { presets: [] } }, 't.json')).toThrowError('t.json: check.presets must name at least one preset, e.g. ["original"]; remove the key to check "original" only.');
    expect(() => parseManifest({ ...base, check: { presets: ['original', 'original'] } }, 't.json')).toThrowError('t.json: check.presets names a preset twice.');
    expect(() => parseManifest({ ...base, check: { presets: 'original' } }, 't.json')).toThrowError('t.json: check.presets must be a list of preset names, e.g. ["original", "email"], got "original" (string).');
  });

  it('refuses a mask outside its size or for an unknown size', () => {
    expect(() => parseManifest({ ...sized, check: { visual: { masks: [{ x: 1150, y: 0, width: 100, height: 10 }] } } }, 't.json')).toThrowError(
      't.json: check.visual.masks.0 reaches outside the default size (1200×630): x + width must be ≤ 1200 and y + height ≤ 630; add "size" to mask one size only.',
    );
    expect(() => parseManifest({ ...sized, check: { visual: { masks: [{ x: 0, y: 0, width: 10, height: 10, size: 'wide' }] } } }, 't.json')).toThrowError('t.json: check.visual.masks.0.size names no size of this template: "wide". Sizes: default, square.');
    expect(() => parseManifest({ ...base, check: { visual: { masks: [{ x: -1, y: 0, width: 10, height: 10 }] } } }, 't.json')).toThrowError('t.json: check.visual.masks.0.x must be an integer 0–8000, got -1 (number).');
  });

  it('suggests the right key for a typo under check', () => {
    expect(() => parseManifest({ ...base, check: { visual: { maxDiffPixel: 3 } } }, 't.json')).toThrowError('t.json: unknown key "check.visual.maxDiffPixel". Did you mean "maxDiffPixels"?');
    expect(() => parseManifest({ ...base, check: { preset: ['original'] } }, 't.json')).toThrowError('t.json: unknown key "check.preset". Did you mean "presets"?');
  });
});
