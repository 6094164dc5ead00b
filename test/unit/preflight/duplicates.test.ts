import { describe, expect, it } from 'vitest';
import { PreflightCollector } from '../../../src/preflight/collect.js';

/**
 * Duplicates as a marketer means them: a duplicate row is the same source row twice (every
 * column, not only the ones the template maps); a duplicate recipient is the key column twice,
 * whatever its case and spaces. Rows as a HubSpot-style export holds them.
 */
const header = ['First Name', 'Last Name', 'Email Address', 'Company', 'Notes'] as const;
const rows: string[][] = [
  ['Liam', 'Haddad', 'liam.haddad@example.com', 'Kestrel Ltd', ''], // 1
  ['Liam', 'Smith', 'liam.smith@example.com', 'Kestrel Ltd', ''], // 2 same first name, another person
  ['محمد', 'عبد الرحمن', 'm.rahman@example.com', '“Quotes” & Co', 'VIP 🎉'], // 3
  ['محمد', 'عبد الرحمن', 'm.rahman@example.com', '“Quotes” & Co', 'VIP 🎉'], // 4 row 3 again, every column
  ['Liam', 'Haddad', '  LIAM.Haddad@Example.COM ', 'Kestrel Ltd (new)', ''], // 5 recipient of row 1, the row differs
  ['山田', '太郎', '', '', ''], // 6 no key: never a duplicate recipient
  ['山田', '太郎', '', '', ''], // 7 but row 6 again
];

function observe(recipientColumn: string | undefined, list = rows): PreflightCollector {
  const collector = new PreflightCollector({ textFields: ['firstName'] });
  list.forEach((values, index) => collector.observeInput(index + 1, Object.fromEntries(header.map((column, at) => [column, values[at]])), recipientColumn));
  return collector;
}

describe('preflight duplicates', () => {
  it('compares whole source rows: Liam Haddad and Liam Smith are two people', () => {
    const collector = observe(undefined);
    expect(collector.duplicateRows).toEqual([
      [4, 3],
      [7, 6],
    ]);
  });

  it('ignores spaces around values when comparing rows, not case', () => {
    const collector = observe(undefined, [
      ['Zoë', "O'Neil", 'zoe@example.com', 'Acme', ''],
      [' Zoë ', "O'Neil", 'zoe@example.com', 'Acme ', ''],
      ['ZOË', "O'Neil", 'zoe@example.com', 'Acme', ''],
    ]);
    expect(collector.duplicateRows).toEqual([[2, 1]]);
  });

  it('finds the same recipient differently cased and spaced in the key column', () => {
    const collector = observe('Email Address');
    expect(collector.duplicateRecipients).toEqual([
      [4, 3],
      [5, 1],
    ]);
  });

  it('leaves a row that could not be read out of row duplicates', () => {
    const collector = new PreflightCollector({ textFields: [] });
    collector.observeInput(1, { Name: 'Fay', Email: 'fay@example.com' }, 'Email', false);
    collector.observeInput(2, { Name: 'Fay', Email: 'fay@example.com' }, 'Email', true);
    expect(collector.duplicateRows).toEqual([]);
    expect(collector.duplicateRecipients).toEqual([[2, 1]]);
  });

  it('names the field of each listed finding', () => {
    const collector = new PreflightCollector({ textFields: [] });
    collector.add({ row: 3, status: 'warning', warnings: [{ code: 'fallback', field: 'date', message: 'm' }, { code: 'fallback', field: 'venue', message: 'm' }] }, {});
    collector.add({ row: 5, status: 'warning', warnings: [{ code: 'fallback', field: 'name', message: 'm' }] }, {});
    collector.add({ row: 9, status: 'failed', warnings: [], error: { code: 'DATA_UNREADABLE', message: 'm' } }, {});
    expect(collector.kinds.get('fallback')?.findings).toEqual([
      { row: 3, fields: ['date', 'venue'] },
      { row: 5, fields: ['name'] },
    ]);
    expect(collector.kinds.get('unreadable-row')?.findings).toEqual([{ row: 9, fields: [] }]);
  });
});
