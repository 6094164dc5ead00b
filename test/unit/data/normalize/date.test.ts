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
    // Self-describing spellings of exports: read without a declared format.
    ['2025-06-12 18:30:00', '2025-06-12'],
    ['2025-06-12T23:30:00-05:00', '2025-06-12'],
    ['June 12, 2025', '2025-06-12'],
    ['JUNE 12, 2025', '2025-06-12'],
    ['12 June 2025', '2025-06-12'],
    ['7 March 2024', '2024-03-07'],
    ['Thu, 12 Jun 2025 18:30:00 +0000', '2025-06-12'],
    ['June 12, 2025 6:30 pm', '2025-06-12'],
  ])('%j → %j', (input, expected) => {
    expect(one({ type: 'date' }, input)).toEqual({ value: expected, warnings: [] });
  });

  it.each(['2025-02-30', '2023-02-29', '1900-02-29', '2024-13-01', '2024-04-31', '0000-01-01', '2024-03-07T25:00'])('%j does not exist', (input) => {
    expect(one({ type: 'date' }, input).warnings).toEqual([
      { code: 'invalid', field: 'f', message: `field "f": expected a date that exists, as YYYY-MM-DD, got text of ${input.length} characters` },
    ]);
  });

  const needsFormat = 'expected a date as YYYY-MM-DD (or declare the column\'s format with "input" or --date-format)';

  it.each(['07/03/2024', '03/07/2024', '12.06.2025', '2024-03/07', '20240307', '45358'])('%j needs the column\'s format: one row never decides it', (input) => {
    expect(one({ type: 'date' }, input).warnings[0]?.message).toBe(`field "f": ${needsFormat}, got text of ${input.length} characters`);
  });

  it('refuses numbers (Excel serial dates) without a declared format', () => {
    expect(one({ type: 'date' }, 45358).warnings[0]?.message).toBe(`field "f": ${needsFormat}, got a number`);
  });

  it.each([
    ['DD/MM/YYYY', '07/03/2024', '2024-03-07'],
    ['DD/MM/YYYY', '7.3.2024', '2024-03-07'],
    ['MM/DD/YYYY', '03/07/2024', '2024-03-07'],
    ['MM/DD/YYYY', '3/7/2024 18:30', '2024-03-07'],
    ['MM/DD/YY', '03/07/24', '2024-03-07'],
    ['DD.MM.YYYY', '12.06.2025', '2025-06-12'],
    ['D MMMM YYYY', '12 June 2025', '2025-06-12'],
    ['excel', 45820, '2025-06-12'],
    ['excel', '45820.75', '2025-06-12'],
    ['unix', '1749752999', '2025-06-12'],
    ['en-GB', '12/06/2025', '2025-06-12'],
    ['en-US', '06/12/2025', '2025-06-12'],
    ['de-DE', '12.06.2025', '2025-06-12'],
    ['YYYY-MM-DD', '2025-06-12T18:30:00Z', '2025-06-12'],
    // ISO stays readable in a declared column: it is how a re-saved sheet writes dates.
    ['DD/MM/YYYY', '2025-06-12', '2025-06-12'],
  ] as const)('with "input": %j reads %j as %j', (input, value, expected) => {
    expect(one({ type: 'date', input }, value)).toEqual({ value: expected, warnings: [] });
  });

  it('reads month names in the template\'s locale for a declared pattern', () => {
    expect(one({ type: 'date', input: 'D. MMMM YYYY' }, '12. Juni 2025', { locale: 'de' }).value).toBe('2025-06-12');
    expect(one({ type: 'date', input: 'fr' }, '12 juin 2025').value).toBe('2025-06-12');
  });

  it('refuses a value the declared format cannot read, naming the format', () => {
    expect(one({ type: 'date', input: 'DD/MM/YYYY' }, '06/13/2025').warnings[0]?.message).toBe('field "f": expected a date as DD/MM/YYYY or YYYY-MM-DD, got text of 10 characters');
  });
});
