import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/template/index.js';

/** An image field's crop rule and slot aspect in template.json (applied in src/assets/crop.ts). */
const withField = (field: Record<string, unknown>) => ({ name: 'T', width: 1200, height: 630, fields: { photo: field } });

describe('image field crop options', () => {
  it('accepts a crop rule with the slot aspect', () => {
    const manifest = parseManifest(withField({ type: 'image', crop: 'attention', aspect: '1:1' }), 't.json');
    expect(manifest.fields['photo']).toMatchObject({ crop: 'attention', aspect: '1:1' });
    expect(parseManifest(withField({ type: 'image', crop: 'contain', aspect: '16:9' }), 't.json').fields['photo']?.crop).toBe('contain');
  });

  it('refuses an unknown rule, naming the rules', () => {
    expect(() => parseManifest(withField({ type: 'image', crop: 'face', aspect: '1:1' }), 't.json')).toThrowError(
      't.json: fields.photo.crop must be one of center | top | attention | contain, got "face" (string). "attention" follows an off-centre face, "contain" keeps a logo whole.',
    );
  });

  it('refuses a crop without the aspect it crops to', () => {
    expect(() => parseManifest(withField({ type: 'image', crop: 'top' }), 't.json')).toThrowError('t.json: fields.photo.crop needs "aspect"');
  });

  it('refuses an aspect that is not width:height in whole numbers', () => {
    for (const aspect of ['1/1', '0:1', '1.5:1', '16:9 ', 'square']) {
      expect(() => parseManifest(withField({ type: 'image', aspect }), 't.json'), aspect).toThrowError('t.json: fields.photo.aspect must be the slot\'s width:height');
    }
  });

  it('refuses crop and aspect on a field that is not an image', () => {
    expect(() => parseManifest(withField({ type: 'text', crop: 'center', aspect: '1:1' }), 't.json')).toThrowError('fields.photo.crop only applies to image fields, but this field is "text".');
  });
});
