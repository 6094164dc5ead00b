import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  createColumnMapper,
  mapRecord,
  normalizeRecord,
  readRecords,
  type ColumnMapper,
  type InputRow,
  type NormalizeResult,
} from '../../../src/data/index.js';
import type { FieldSpecs } from '../../../src/template/index.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/data/${name}`, import.meta.url));

/** The kind of manifest a designer would write for a "welcome" card. */
const fields: FieldSpecs = {
  firstName: { type: 'text', fallback: 'there', maxLength: 40 },
  lastName: { type: 'text' },
  company: { type: 'text', maxLength: 60 },
  plan: { type: 'enum', values: ['Free', 'Pro', 'Team'], fallback: 'Free' },
  accentColour: { type: 'color', fallback: '#1a73e8' },
  photoUrl: { type: 'image', fallback: 'assets/avatar.png' },
  joined: { type: 'date' },
  vip: { type: 'boolean', fallback: false },
  seats: { type: 'number' },
};

const warningCodes = (result: NormalizeResult): string[] => result.warnings.map((warning) => `${warning.code}:${warning.field}`);

describe('the data stage on an Excel export', () => {
  it('reads, maps and normalizes every row of the fixture', async () => {
    let mapper: ColumnMapper | undefined;
    const results = new Map<number, NormalizeResult>();
    const failed: InputRow[] = [];
    for await (const row of readRecords(fixture('contacts-excel.csv'), { onHeader: (headers) => (mapper = createColumnMapper(fields, headers)) })) {
      if (row.error) failed.push(row);
      else results.set(row.row, normalizeRecord(fields, mapper!.map(row.values)));
    }
    expect(failed).toEqual([]);
    expect(mapper?.unusedColumns).toEqual(['Email']);
    expect(mapper?.unmatchedFields).toEqual([]);
    expect([...results.keys()]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

    expect(results.get(1)).toEqual({
      record: {
        firstName: 'Ana',
        lastName: 'Lima',
        company: 'Lima, Souza & Filhos',
        plan: 'Pro',
        accentColour: '#1a73e8',
        photoUrl: 'https://images.example.com/people/ana-lima.jpg',
        joined: '2024-03-07',
        vip: true,
        seats: 12,
      },
      warnings: [],
    });
    // Quoted line break flattened, enum spelling restored, short colour expanded.
    expect(results.get(2)?.record).toMatchObject({ firstName: 'Zoë "Zo"', company: 'Okafor Design Studio Lagos office', plan: 'Team', accentColour: '#00ff99' });
    // Empty cells fall back where a fallback exists.
    expect(results.get(3)?.record).toMatchObject({ firstName: 'Sam 👩🏽‍💻', accentColour: '#1a73e8', photoUrl: 'assets/avatar.png', vip: false });
    expect(warningCodes(results.get(3)!)).toEqual(['fallback:accentColour', 'fallback:photoUrl', 'fallback:vip']);
    expect(results.get(4)?.record).toMatchObject({ firstName: 'فاطمة', company: 'شركة النور', vip: true, accentColour: '#c0ffee' });
    expect(results.get(5)?.record).toMatchObject({ firstName: '伟', lastName: '陈', seats: 40 });
    expect(results.get(6)?.record).toMatchObject({ plan: 'Pro', photoUrl: 'assets/avatars/sakura.png', joined: '2024-06-09' });

    // The 300-character name is cut to the field's 40 and the warning gives lengths only.
    expect([...String(results.get(7)?.record['firstName'])]).toHaveLength(40);
    expect(results.get(7)?.warnings).toEqual([
      { code: 'truncated', field: 'firstName', message: 'field "firstName": 300 characters, cap 40; truncated' },
      { code: 'fallback', field: 'photoUrl', message: 'field "photoUrl": missing; fallback used' },
    ]);

    expect(warningCodes(results.get(8)!)).toEqual([
      'missing:lastName',
      'missing:company',
      'fallback:plan',
      'fallback:accentColour',
      'fallback:photoUrl',
      'fallback:vip',
    ]);

    expect(results.get(9)?.record).toMatchObject({ firstName: 'there', lastName: null, company: null });
    expect(warningCodes(results.get(9)!)).toEqual([
      'unreplaced-merge-tag:firstName',
      'fallback:firstName',
      'unreplaced-merge-tag:lastName',
      'missing:lastName',
      'unreplaced-merge-tag:company',
      'missing:company',
    ]);

    // A dead photo URL is well-formed: the asset stage, not this one, finds out it is dead.
    expect(results.get(10)?.record['photoUrl']).toBe('https://photos.crm-export.invalid/u/8841.jpg');

    expect(results.get(11)?.record).toEqual({
      firstName: 'Liam',
      lastName: null,
      company: '<img src=x onerror=alert(1)>',
      plan: 'Free',
      accentColour: '#1a73e8',
      photoUrl: 'assets/avatar.png',
      joined: null,
      vip: false,
      seats: null,
    });
    expect(warningCodes(results.get(11)!)).toEqual([
      'missing:lastName',
      'invalid:plan',
      'fallback:plan',
      'invalid:accentColour',
      'fallback:accentColour',
      'invalid:photoUrl',
      'fallback:photoUrl',
      'invalid:joined',
      'invalid:vip',
      'fallback:vip',
      'invalid:seats',
    ]);
    expect(results.get(12)?.record).toMatchObject({ firstName: 'Chloé', seats: 1250, vip: false, joined: '2020-02-29', accentColour: '#f5f5dc' });
  });

  it('maps and normalizes JSON records key by key', async () => {
    const results: NormalizeResult[] = [];
    for await (const row of readRecords(fixture('contacts.json'))) results.push(normalizeRecord(fields, mapRecord(fields, row.values)));
    expect(results[0]?.record).toMatchObject({ firstName: 'Ana', plan: 'Pro', seats: 12, vip: true });
    expect(results[1]?.record).toMatchObject({ firstName: 'there', seats: 3, vip: false });
    expect(results[2]?.record).toMatchObject({ firstName: 'فاطمة', seats: null, vip: true });
    expect(results[3]?.record).toMatchObject({ firstName: '陈伟', lastName: null, plan: 'Free' });
    expect(warningCodes(results[3]!)).toEqual(['invalid:lastName', 'missing:company', 'invalid:plan', 'fallback:plan', 'fallback:accentColour', 'fallback:photoUrl']);
  });
});
