import { describe, expect, it } from 'vitest';
import { createColumnMapper, foldColumnName, mapRecord } from '../../../src/data/columns.js';
import { DataError } from '../../../src/errors/index.js';
import type { FieldSpecs } from '../../../src/template/index.js';

const fields: FieldSpecs = {
  firstName: { type: 'text' },
  lastName: { type: 'text' },
  accentColour: { type: 'color' },
  photoUrl: { type: 'image' },
  plan: { type: 'enum', values: ['Free', 'Pro'] },
};

describe('foldColumnName', () => {
  it.each([
    ['First Name', 'firstname'],
    ['first_name', 'firstname'],
    ['FIRST-NAME', 'firstname'],
    ['  first \t name ', 'firstname'],
    ['firstName', 'firstname'],
    ['Ｆｉｒｓｔ Ｎａｍｅ', 'firstname'],
  ])('%j → %j', (header, folded) => {
    expect(foldColumnName(header)).toBe(folded);
  });

  it('keeps letters that are not separators, so "First.Name" is a different column', () => {
    expect(foldColumnName('First.Name')).not.toBe(foldColumnName('firstName'));
  });
});

describe('createColumnMapper', () => {
  it('matches headers ignoring case, spaces, "_" and "-", and drops the other columns', () => {
    const headers = ['FIRST-NAME', 'last_name', 'Accent Colour', 'Photo URL', 'Email', 'Notes'];
    const mapper = createColumnMapper(fields, headers);
    expect(mapper.unmatchedFields).toEqual(['plan']);
    expect(mapper.unusedColumns).toEqual(['Email', 'Notes']);
    const mapped = mapper.map({
      'FIRST-NAME': 'Ana',
      last_name: 'Lima',
      'Accent Colour': '#1a73e8',
      'Photo URL': 'https://images.example.com/a.jpg',
      Email: 'ana@example.com',
      Notes: 'met at conf',
    });
    expect(mapped).toEqual({ firstName: 'Ana', lastName: 'Lima', accentColour: '#1a73e8', photoUrl: 'https://images.example.com/a.jpg' });
  });

  it('leaves out a field whose cell is absent (a short row), so it reads as missing', () => {
    const mapper = createColumnMapper(fields, ['First Name', 'Last Name']);
    expect(mapper.map({ 'First Name': 'Ana' })).toEqual({ firstName: 'Ana' });
  });

  it('prefers the header spelled exactly like the field, else the first of several that fold alike', () => {
    expect(createColumnMapper(fields, ['first_name', 'firstName']).map({ first_name: 'a', firstName: 'b' })).toEqual({ firstName: 'b' });
    expect(createColumnMapper(fields, ['First Name', 'first_name']).map({ 'First Name': 'a', first_name: 'b' })).toEqual({ firstName: 'a' });
  });

  it('applies --map overrides, which win over the folded match', () => {
    const mapper = createColumnMapper(fields, ['First Name', 'Preferred name', 'Colour'], { firstName: 'Preferred name', accentColour: 'Colour' });
    expect(mapper.map({ 'First Name': 'Margaret', 'Preferred name': 'Peggy', Colour: '#ff6600' })).toEqual({
      firstName: 'Peggy',
      accentColour: '#ff6600',
    });
    expect(mapper.unusedColumns).toEqual(['First Name']);
  });

  it('accepts an override column that differs only in case or separators, when unambiguous', () => {
    const mapper = createColumnMapper(fields, ['Preferred Name'], { firstName: 'preferred_name' });
    expect(mapper.map({ 'Preferred Name': 'Peggy' })).toEqual({ firstName: 'Peggy' });
  });

  it('throws USAGE naming the field and listing the fields when an override names an unknown field', () => {
    const error = (() => {
      try {
        createColumnMapper(fields, ['First Name'], { fristName: 'First Name' });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(DataError);
    expect(error).toMatchObject({
      code: 'USAGE',
      message: '--map fristName=First Name: the template has no field "fristName". Fields: firstName, lastName, accentColour, photoUrl, plan.',
      detail: { field: 'fristName' },
    });
  });

  it('throws USAGE naming the column and listing the columns when an override names an unknown column', () => {
    expect(() => createColumnMapper(fields, ['First Name', 'Email'], { firstName: 'Nickname' })).toThrowError(
      expect.objectContaining({
        code: 'USAGE',
        message: '--map firstName=Nickname: the data has no column "Nickname". Columns: First Name, Email.',
      }),
    );
  });

  it('ignores unnamed columns', () => {
    const mapper = createColumnMapper(fields, ['First Name', '', 'Email']);
    expect(mapper.unusedColumns).toEqual(['Email']);
  });
});

describe('mapRecord (JSON, keys per record)', () => {
  it('folds each record\'s own keys', () => {
    expect(mapRecord(fields, { first_name: 'Ana', PLAN: 'pro', extra: { nested: true } })).toEqual({ firstName: 'Ana', plan: 'pro' });
    expect(mapRecord(fields, { 'Last Name': 'Lima' })).toEqual({ lastName: 'Lima' });
  });

  it('keeps non-string values for normalize to judge', () => {
    expect(mapRecord(fields, { firstName: 42, lastName: null, plan: ['Pro'] })).toEqual({ firstName: 42, lastName: null, plan: ['Pro'] });
  });

  it('applies overrides; a column absent from one record only leaves the field missing', () => {
    expect(mapRecord(fields, { nick: 'Peggy', firstName: 'Margaret' }, { firstName: 'nick' })).toEqual({ firstName: 'Peggy' });
    expect(mapRecord(fields, { firstName: 'Margaret' }, { firstName: 'nick' })).toEqual({});
  });

  it('still rejects an override naming an unknown field', () => {
    expect(() => mapRecord(fields, { a: 1 }, { nope: 'a' })).toThrowError(expect.objectContaining({ code: 'USAGE' }));
  });

  it('never follows a "__proto__" key into the prototype', () => {
    const values = JSON.parse('{"__proto__": {"polluted": true}, "firstName": "Ana"}') as Record<string, unknown>;
    const mapped = mapRecord({ ...fields }, values);
    expect(mapped).toEqual({ firstName: 'Ana' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('built-in property names', () => {
  // Field names are camelCase identifiers, and so are Object.prototype's members.
  // Parsed like a template.json (an object literal's "constructor" key confuses TypeScript's typing).
  const builtIns = JSON.parse('{"constructor": {"type": "text"}, "toString": {"type": "text"}, "valueOf": {"type": "text"}, "firstName": {"type": "text"}}') as FieldSpecs;

  it('leaves a field named like a built-in missing when no column feeds it', () => {
    for (const mapped of [mapRecord(builtIns, { firstName: 'Ana' }), createColumnMapper(builtIns, ['firstName']).map({ firstName: 'Ana' })]) {
      expect(Object.keys(mapped)).toEqual(['firstName']);
      expect(mapped['constructor']).toBeUndefined();
      expect(mapped['toString']).toBeUndefined();
      expect(mapped['valueOf']).toBeUndefined();
      expect('hasOwnProperty' in mapped).toBe(false);
    }
  });

  it('maps such a field from its own column only, never from the record\'s prototype', () => {
    expect(mapRecord(builtIns, { constructor: 'C', 'To String': 'T' })).toEqual({ constructor: 'C', toString: 'T' });
    // The header is listed but this record (a plain object) does not have it: missing, not Object.
    const mapper = createColumnMapper(builtIns, ['constructor', 'valueOf']);
    expect(mapper.unmatchedFields).toEqual(['toString', 'firstName']);
    const mapped = mapper.map({ valueOf: 'V' });
    expect(Object.keys(mapped)).toEqual(['valueOf']);
    expect(mapped['constructor']).toBeUndefined();
  });

  it('never maps a query or header named like a built-in to a field the template lacks', () => {
    const mapped = mapRecord(fields, JSON.parse('{"constructor": "x", "__proto__": "y", "toString": "z", "hasOwnProperty": "w", "firstName": "Ana"}') as Record<string, unknown>);
    expect(Object.keys(mapped)).toEqual(['firstName']);
    expect(mapped['constructor']).toBeUndefined();
    expect(Object.getPrototypeOf(mapped)).toBeNull();
    expect(() => mapRecord(fields, { a: 1 }, { constructor: 'a' })).toThrowError(expect.objectContaining({ code: 'USAGE' }));
    expect(() => createColumnMapper(fields, ['a'], JSON.parse('{"__proto__": "a"}') as Record<string, string>)).toThrowError(expect.objectContaining({ code: 'USAGE' }));
  });
});
