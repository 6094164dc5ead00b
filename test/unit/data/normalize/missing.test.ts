import { describe, expect, it } from 'vitest';
import { normalizeRecord } from '../../../../src/data/normalize.js';
import { isMissingValue, missingMarkers } from '../../../../src/data/normalize/missing.js';
import { normalizeOne as one } from './normalizeOne.js';

describe('missing values', () => {
  it.each(['', '   ', '\t', '\u200B', 'null', 'NULL', 'undefined', 'N/A', 'n/a', 'NA', '#N/A', 'none', 'None', 'nil', '-', ' - ', '--', '—'])('%j is missing', (value) => {
    expect(isMissingValue(value)).toBe(true);
    expect(one({ type: 'text', fallback: 'there' }, value)).toEqual({
      value: 'there',
      warnings: [{ code: 'fallback', field: 'f', message: 'field "f": missing; fallback used' }],
    });
  });

  it('treats absent keys, null and undefined as missing', () => {
    expect(isMissingValue(undefined)).toBe(true);
    expect(isMissingValue(null)).toBe(true);
    expect(one({ type: 'text', fallback: 'there' }, null).value).toBe('there');
    expect(normalizeRecord({ f: { type: 'text', fallback: 'there' } }, {}).record).toEqual({ f: 'there' });
  });

  it('keeps "Na" (a Korean surname), "Nan", "Nonez" and 0/false as values', () => {
    expect(isMissingValue('Na')).toBe(false);
    expect(isMissingValue('Nan')).toBe(false);
    expect(isMissingValue('Nonez')).toBe(false);
    expect(isMissingValue(0)).toBe(false);
    expect(isMissingValue(false)).toBe(false);
    expect(one({ type: 'text' }, 'Na').value).toBe('Na');
  });

  it('documents its markers', () => {
    expect(missingMarkers).toEqual(['n/a', '#n/a', 'null', 'undefined', 'none', 'nil', '-', '--', '—', '–']);
  });

  it('adds a field\'s own markers ("missing": ["TBD"]), case-insensitively, for that field only', () => {
    expect(isMissingValue(' tbd ', ['TBD'])).toBe(true);
    expect(isMissingValue('TBD')).toBe(false);
    const result = normalizeRecord({ venue: { type: 'text', fallback: 'To be announced', missing: ['TBD'] }, name: { type: 'text' } }, { venue: 'TBD', name: 'TBD' });
    expect(result.record).toEqual({ venue: 'To be announced', name: 'TBD' });
    expect(result.warnings).toEqual([{ code: 'fallback', field: 'venue', message: 'field "venue": missing; fallback used' }]);
  });

  it('treats a value of only control or invisible characters as missing', () => {
    expect(one({ type: 'text', fallback: 'there' }, '\u0000\u0007\u200B\u200D').value).toBe('there');
  });
});
