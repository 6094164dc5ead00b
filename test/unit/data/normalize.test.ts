import { describe, expect, it } from 'vitest';
import { checkFallbacks, normalizeRecord } from '../../../src/data/normalize.js';
import type { FieldSpecs } from '../../../src/template/index.js';
import { codes, normalizeOne as one } from './normalize/normalizeOne.js';

describe('unreplaced merge tags', () => {
  it('warn and fall back, without repeating the tag', () => {
    const { value, warnings } = one({ type: 'text', fallback: 'there' }, '*|FNAME|*');
    expect(value).toBe('there');
    expect(warnings).toEqual([
      { code: 'unreplaced-merge-tag', field: 'f', message: 'field "f": an unreplaced merge tag (9 characters); treated as missing' },
      { code: 'fallback', field: 'f', message: 'field "f": unreplaced merge tag; fallback used' },
    ]);
  });

  it('are caught for every type, e.g. an image URL left as {{photo_url}}', () => {
    expect(one({ type: 'image', fallback: 'assets/avatar.png' }, '{{ photo_url }}').value).toBe('assets/avatar.png');
    expect(codes(one({ type: 'number' }, '%%Seats%%').warnings)).toEqual(['unreplaced-merge-tag']);
  });

  it('inside a real value are removed and the rest kept, with a warning (the tag is never drawn)', () => {
    const { value, warnings } = one({ type: 'text', fallback: 'there' }, '*|FNAME|* Lovelace');
    expect(value).toBe('Lovelace');
    expect(warnings).toEqual([{ code: 'unreplaced-merge-tag', field: 'f', message: 'field "f": held an unreplaced merge tag inside its value (18 characters); the tag was removed' }]);
    expect(one({ type: 'text' }, 'Hi {{ first_name }}, welcome').value).toBe('Hi, welcome');
    // Everyday text that only looks like a whole-value tag syntax is kept as it is.
    for (const real of ['Jean-Luc Picard', '«Bonjour» Marie', 'R&D {Team}', '50% off 20%', 'Ana [sic] Lima']) expect(one({ type: 'text' }, real)).toEqual({ value: real, warnings: [] });
  });

  it('leave a text field without fallback empty with a missing warning', () => {
    expect(one({ type: 'text' }, '{{ first_name }}')).toEqual({
      value: null,
      warnings: [
        { code: 'unreplaced-merge-tag', field: 'f', message: 'field "f": an unreplaced merge tag (16 characters); treated as missing' },
        { code: 'missing', field: 'f', message: 'field "f": unreplaced merge tag and no fallback; left empty' },
      ],
    });
  });
});

describe('normalizeRecord', () => {
  const fields: FieldSpecs = {
    firstName: { type: 'text', fallback: 'there', maxLength: 40 },
    company: { type: 'text' },
    plan: { type: 'enum', values: ['Free', 'Pro'], fallback: 'Free' },
    seats: { type: 'number' },
  };

  it('returns exactly the template\'s fields, with null for missing ones, and ignores other keys', () => {
    const result = normalizeRecord(fields, { firstName: ' Ana ', plan: 'pro', email: 'ana@example.com' });
    expect(result.record).toEqual({ firstName: 'Ana', company: null, plan: 'Pro', seats: null });
    expect(result.warnings).toEqual([{ code: 'missing', field: 'company', message: 'field "company": missing and no fallback; left empty' }]);
    expect(Object.isFrozen(result.record)).toBe(true);
  });

  it('never puts a record value into a warning message', () => {
    const secret = 'Zyxwvut Secretname';
    const result = normalizeRecord(
      { ...fields, colour: { type: 'color' }, when: { type: 'date' }, vip: { type: 'boolean' }, photo: { type: 'image' } },
      { firstName: secret.repeat(5), company: { secret }, plan: secret, seats: secret, colour: secret, when: secret, vip: secret, photo: secret },
    );
    expect(result.warnings.length).toBeGreaterThanOrEqual(8);
    for (const warning of result.warnings) expect(warning.message).not.toMatch(/Zyxwvut|Secretname/u);
  });

  it('treats own keys only: a record cannot smuggle values through its prototype', () => {
    const values = Object.create({ firstName: 'Inherited' }) as Record<string, unknown>;
    expect(normalizeRecord(fields, values).record['firstName']).toBe('there');
  });
});

describe('checkFallbacks', () => {
  it('lists declared input formats the data stage cannot read', () => {
    expect(checkFallbacks({ when: { type: 'date', input: 'sometime' }, ok: { type: 'date', input: 'en-GB' }, price: { type: 'number', input: '1,234' } })).toEqual([
      'fields.when.input "sometime" is not a date format. Use a pattern like "DD/MM/YYYY", "MM/DD/YYYY", "DD.MM.YYYY", "D MMMM YYYY", "YYYY-MM-DD HH:mm", or "excel", "unix", or a locale like "en-GB".',
      'fields.price.input "1,234" does not say which separator is the decimal one. Write a sample with decimals, "1,234.50" or "1.234,50", or a locale like "de-DE".',
    ]);
  });

  it('lists fallbacks that break their field\'s rules', () => {
    expect(
      checkFallbacks({
        seats: { type: 'number', fallback: 'lots' },
        colour: { type: 'color', fallback: 'red' },
        joined: { type: 'date', fallback: '2024-02-30' },
        ok: { type: 'text', fallback: 'there' },
        none: { type: 'image', fallback: null },
        emptyDate: { type: 'date', fallback: '' },
        emptyImage: { type: 'image', fallback: '' },
      }),
    ).toEqual([
      'fields.seats.fallback must be a number like 1234.5 or 1,234.5, got text of 4 characters.',
      'fields.colour.fallback must be a hex colour like #1a2b3c (#rgb, #rrggbb or #rrggbbaa), got text of 3 characters.',
      'fields.joined.fallback must be a date that exists, as YYYY-MM-DD, got text of 10 characters.',
    ]);
  });
});
