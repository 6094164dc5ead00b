import { describe, expect, it } from 'vitest';
import { applyFallback, type Conversion } from '../../../src/data/fallbacks.js';
import { normalizeRecord } from '../../../src/data/normalize.js';
import { DataError, TemplateError } from '../../../src/errors/index.js';
import type { FieldSpec } from '../../../src/template/index.js';

const asText = (value: unknown): Conversion => ({ kind: 'value', value: String(value), warnings: [] });

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('applyFallback', () => {
  it('uses the converted fallback and says why', () => {
    expect(applyFallback('firstName', { type: 'text', fallback: 'there' }, 'missing', asText)).toEqual({
      value: 'there',
      warnings: [{ code: 'fallback', field: 'firstName', message: 'field "firstName": missing; fallback used' }],
    });
    expect(applyFallback('firstName', { type: 'text', fallback: 'there' }, 'unreplaced-merge-tag', asText).warnings[0]?.message).toBe(
      'field "firstName": unreplaced merge tag; fallback used',
    );
  });

  it('throws FIELD_REQUIRED for a required field without fallback, naming the field', () => {
    const error = thrown(() => applyFallback('email', { type: 'text', required: true }, 'missing', asText));
    expect(error).toBeInstanceOf(DataError);
    expect(error).toMatchObject({ code: 'FIELD_REQUIRED', message: 'field "email": missing and no fallback', detail: { field: 'email' } });
    expect(thrown(() => applyFallback('seats', { type: 'number', required: true }, 'invalid', asText))).toMatchObject({
      code: 'FIELD_REQUIRED',
      message: 'field "seats": invalid and no fallback',
    });
  });

  it('does not throw for a required field that has a fallback', () => {
    expect(applyFallback('plan', { type: 'enum', values: ['Free'], required: true, fallback: 'Free' }, 'invalid', asText).value).toBe('Free');
  });

  it('warns "missing" only for text and image fields, and not after an invalid value', () => {
    expect(applyFallback('company', { type: 'text' }, 'missing', asText).warnings.map((w) => w.code)).toEqual(['missing']);
    expect(applyFallback('photo', { type: 'image' }, 'missing', asText).warnings.map((w) => w.code)).toEqual(['missing']);
    expect(applyFallback('vip', { type: 'boolean' }, 'missing', asText)).toEqual({ value: null, warnings: [] });
    expect(applyFallback('company', { type: 'text' }, 'invalid', asText)).toEqual({ value: null, warnings: [] });
  });

  it('treats fallback null or "" as "empty is fine" but still warns that the fallback was used; required still fails', () => {
    const warned = { code: 'fallback', field: 'company', message: 'field "company": missing; fallback used (empty)' };
    expect(applyFallback('company', { type: 'text', fallback: null }, 'missing', asText)).toEqual({ value: null, warnings: [warned] });
    expect(applyFallback('company', { type: 'text', fallback: '  ' }, 'missing', asText)).toEqual({ value: null, warnings: [warned] });
    expect(applyFallback('company', { type: 'text', fallback: '' }, 'missing', asText)).toEqual({ value: null, warnings: [warned] });
    expect(applyFallback('when', { type: 'date', fallback: '' }, 'invalid', asText).warnings).toEqual([{ ...warned, field: 'when', message: 'field "when": invalid; fallback used (empty)' }]);
    expect(thrown(() => applyFallback('company', { type: 'text', fallback: '', required: true }, 'missing', asText))).toMatchObject({
      code: 'FIELD_REQUIRED',
    });
  });

  it('throws MANIFEST_INVALID when the fallback breaks the field\'s own rules', () => {
    const invalid = (): Conversion => ({ kind: 'invalid', expected: 'a number like 1234.5', got: 'text of 4 characters' });
    const error = thrown(() => applyFallback('seats', { type: 'number', fallback: 'lots' }, 'missing', invalid));
    expect(error).toBeInstanceOf(TemplateError);
    expect(error).toMatchObject({
      code: 'MANIFEST_INVALID',
      message: 'fields.seats.fallback must be a number like 1234.5, got text of 4 characters. Fix the fallback in template.json.',
    });
  });
});

describe('fallbacks through normalizeRecord', () => {
  const one = (spec: FieldSpec, value: unknown) => normalizeRecord({ f: spec }, { f: value });

  it('normalizes the fallback by the field\'s rules (enum spelling, colour case, number text)', () => {
    expect(one({ type: 'color', fallback: '#ABC' }, 'red').record['f']).toBe('#aabbcc');
    expect(one({ type: 'number', fallback: '1,000' }, 'lots').record['f']).toBe(1000);
    expect(one({ type: 'boolean', fallback: 'yes' }, 'maybe').record['f']).toBe(true);
    expect(one({ type: 'date', fallback: '2025/01/01' }, '31/12/2024').record['f']).toBe('2025-01-01');
  });

  it('keeps a fallback that looks like a missing marker: the designer wrote it on purpose', () => {
    expect(one({ type: 'text', fallback: '-' }, '').record['f']).toBe('-');
  });

  it('truncates an over-long text fallback with a warning', () => {
    const result = one({ type: 'text', maxLength: 5, fallback: 'my friend' }, '');
    expect(result.record['f']).toBe('my fr');
    expect(result.warnings.map((warning) => warning.code)).toEqual(['fallback', 'truncated']);
  });

  it('throws FIELD_REQUIRED through normalizeRecord for a required field left as a merge tag', () => {
    expect(() => one({ type: 'text', required: true }, '*|EMAIL|*')).toThrowError(
      expect.objectContaining({ code: 'FIELD_REQUIRED', message: 'field "f": unreplaced merge tag and no fallback' }),
    );
  });

  it('throws MANIFEST_INVALID through normalizeRecord for a fallback that is not a colour', () => {
    expect(() => one({ type: 'color', fallback: 'red' }, '')).toThrowError(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
  });
});
