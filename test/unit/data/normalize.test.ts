import { createReadStream } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readCsv } from '../../../src/data/readCsv.js';
import { checkFallbacks, cleanText, isMissingValue, missingMarkers, normalizeRecord } from '../../../src/data/normalize.js';
import type { FieldSpec, FieldSpecs } from '../../../src/template/index.js';

/** Normalizes one value for a single field named "f". */
function one(spec: FieldSpec, value: unknown, options?: Parameters<typeof normalizeRecord>[2]) {
  const result = normalizeRecord({ f: spec }, value === undefined ? {} : { f: value }, options);
  return { value: result.record['f'], warnings: result.warnings };
}

const codes = (warnings: readonly { code: string }[]): string[] => warnings.map((warning) => warning.code);

describe('missing values', () => {
  it.each(['', '   ', '\t', 'null', 'NULL', 'undefined', 'N/A', 'n/a', 'NA', '#N/A', 'none', 'None', '-', ' - '])('%j is missing', (value) => {
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
    expect(missingMarkers).toEqual(['null', 'undefined', 'n/a', '#n/a', 'none', '-']);
  });

  it('treats a value of only control or invisible characters as missing', () => {
    expect(one({ type: 'text', fallback: 'there' }, '\u0000\u0007\u200B\u200D').value).toBe('there');
  });
});

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

describe('text', () => {
  it('NFC-normalizes, so a decomposed "é" equals the composed one', () => {
    expect(one({ type: 'text' }, 'Chloe\u0301').value).toBe('Chlo\u00E9');
  });

  it('turns line breaks and tabs into one space and strips other control characters', () => {
    expect(one({ type: 'text' }, 'Okafor Design Studio\r\n  Lagos office').value).toBe('Okafor Design Studio Lagos office');
    expect(one({ type: 'text' }, 'Ana\tLima').value).toBe('Ana Lima');
    expect(one({ type: 'text' }, 'A\u0000n\u0007a\u001B \u0085Lima\u009F\u007F').value).toBe('Ana Lima');
    expect(cleanText('\u2028Ana\u2029Lima\uFEFF')).toBe('Ana Lima');
  });

  it('keeps ZWJ emoji sequences, ZWNJ and LRM/RLM, but strips bidi overrides', () => {
    expect(one({ type: 'text' }, 'Sam 👩🏽‍💻').value).toBe('Sam 👩🏽‍💻');
    expect(one({ type: 'text' }, 'می\u200Cخواهم').value).toBe('می\u200Cخواهم');
    expect(one({ type: 'text' }, '\u200Fفاطمة\u200E (Dubai)').value).toBe('\u200Fفاطمة\u200E (Dubai)');
    expect(one({ type: 'text' }, 'invoice\u202Efdp.exe').value).toBe('invoicefdp.exe');
  });

  it('keeps Arabic and CJK unchanged', () => {
    expect(one({ type: 'text' }, 'شركة النور').value).toBe('شركة النور');
    expect(one({ type: 'text' }, '上海星辰科技有限公司').value).toBe('上海星辰科技有限公司');
  });

  it('keeps HTML as plain text: escaping is the merge stage\'s job', () => {
    for (const probe of ['<img src=x onerror=alert(1)>', '"><script>alert(1)</script>', "{{constructor.constructor('alert(1)')()}}x"]) {
      expect(one({ type: 'text' }, probe)).toEqual({ value: probe, warnings: [] });
    }
  });

  it('replaces a lone surrogate with U+FFFD', () => {
    expect(one({ type: 'text' }, 'Ana\uD83D Lima').value).toBe('Ana\uFFFD Lima');
  });

  it('converts numbers and booleans from JSON, refuses objects and arrays', () => {
    expect(one({ type: 'text' }, 1234.5).value).toBe('1234.5');
    expect(one({ type: 'text' }, true).value).toBe('true');
    expect(one({ type: 'text' }, { first: 'Ana' })).toEqual({
      value: null,
      warnings: [{ code: 'invalid', field: 'f', message: 'field "f": expected text, got an object' }],
    });
    expect(one({ type: 'text', fallback: 'there' }, ['Ana']).warnings).toEqual([
      { code: 'invalid', field: 'f', message: 'field "f": expected text, got an array' },
      { code: 'fallback', field: 'f', message: 'field "f": invalid; fallback used' },
    ]);
  });
});

describe('text that could not be decoded', () => {
  it('warns "encoding" once per field for U+FFFD, without the value, and keeps the text', () => {
    expect(one({ type: 'text' }, 'Jos\uFFFD M\uFFFDller')).toEqual({
      value: 'Jos\uFFFD M\uFFFDller',
      warnings: [
        {
          code: 'encoding',
          field: 'f',
          message: 'field "f": 2 characters could not be decoded (U+FFFD), so part of the data is probably not UTF-8. Save the file as "CSV UTF-8" and run again',
        },
      ],
    });
  });

  it('warns for a lone surrogate from JSON, which becomes U+FFFD, but not for clean text', () => {
    expect(codes(one({ type: 'text' }, 'Ada \uD800').warnings)).toEqual(['encoding']);
    expect(one({ type: 'text' }, 'José Müller Françoise').warnings).toEqual([]);
  });

  it('warns on the rows of a mixed-encoding file whose values hold U+FFFD, and only there', async () => {
    const fields: FieldSpecs = { name: { type: 'text' }, city: { type: 'text' } };
    const warned: [number, string[]][] = [];
    for await (const row of readCsv(createReadStream(new URL('../../fixtures/data/contacts-mixed-encoding.csv', import.meta.url)))) {
      warned.push([row.row, normalizeRecord(fields, row.values).warnings.map((warning) => `${warning.code}:${warning.field}`)]);
    }
    expect(warned).toEqual([
      [1, []],
      [2, ['encoding:name', 'encoding:city']],
      [3, []],
    ]);
  });
});

describe('text length cap', () => {
  it('caps at 200 user-perceived characters by default and says so with lengths only', () => {
    const name = 'María de los Ángeles '.repeat(15).trim();
    const { value, warnings } = one({ type: 'text' }, name);
    expect([...String(value)]).toHaveLength(200);
    expect(warnings).toEqual([{ code: 'truncated', field: 'f', message: `field "f": ${[...name].length} characters, cap 200; truncated` }]);
    expect(warnings[0]?.message).not.toContain('María');
  });

  it('honours maxLength and the defaultMaxLength option', () => {
    expect(one({ type: 'text', maxLength: 5 }, 'Christopher').value).toBe('Chris');
    expect(one({ type: 'text' }, 'Christopher', { defaultMaxLength: 3 }).value).toBe('Chr');
    expect(one({ type: 'text', maxLength: 11 }, 'Christopher')).toEqual({ value: 'Christopher', warnings: [] });
  });

  it('never cuts an emoji ZWJ sequence, a flag or a skin tone in half', () => {
    const family = '👨‍👩‍👧‍👦';
    expect(one({ type: 'text', maxLength: 3 }, `Hi ${family}${family}`).value).toBe('Hi');
    expect(one({ type: 'text', maxLength: 4 }, `Hi ${family}${family}`).value).toBe(`Hi ${family}`);
    expect(one({ type: 'text', maxLength: 2 }, '🇧🇷🇯🇵🇫🇷').value).toBe('🇧🇷🇯🇵');
    expect(one({ type: 'text', maxLength: 1 }, '👋🏽👋🏽').value).toBe('👋🏽');
  });

  it('counts a base letter with combining marks as one character', () => {
    const zalgo = 'e\u0301\u0302\u0303';
    expect(one({ type: 'text', maxLength: 2 }, `${zalgo}${zalgo}${zalgo}`).value).toBe(`${zalgo}${zalgo}`.normalize('NFC'));
  });

  it('does not leave a trailing space where the cut fell', () => {
    expect(one({ type: 'text', maxLength: 4 }, 'Ana Lima').value).toBe('Ana');
  });
});

describe('number', () => {
  it.each([
    ['12', 12],
    ['1,234.5', 1234.5],
    ['1 234.5', 1234.5],
    ['1\u00A0234', 1234],
    ['1_000_000', 1_000_000],
    ["1'234", 1234],
    ['-3.25', -3.25],
    ['+7', 7],
    ['.5', 0.5],
    ['1.5E+3', 1500],
    ['\u2212 4', -4],
    ['１２３', 123],
  ])('%j → %d', (input, expected) => {
    expect(one({ type: 'number' }, input)).toEqual({ value: expected, warnings: [] });
  });

  it('accepts JSON numbers, turning -0 into 0', () => {
    expect(one({ type: 'number' }, 42).value).toBe(42);
    expect(Object.is(one({ type: 'number' }, -0).value, 0)).toBe(true);
  });

  it.each(['1,5', '1.234.567', '12abc', '$12', '1,23,456', '', 'lots', '1e', '.'])('%j is invalid in an English locale', (input) => {
    const result = one({ type: 'number', fallback: 0 }, input);
    if (input === '') {
      expect(codes(result.warnings)).toEqual(['fallback']);
      return;
    }
    expect(result.value).toBe(0);
    expect(result.warnings[0]).toEqual({
      code: 'invalid',
      field: 'f',
      message: `field "f": expected a number like 1234.5 or 1,234.5, got text of ${[...input].length} characters`,
    });
  });

  it('reads "1.234,5" with a comma-decimal locale and rejects "1,234.5" there', () => {
    expect(one({ type: 'number' }, '1.234,5', { locale: 'de-DE' }).value).toBe(1234.5);
    expect(one({ type: 'number' }, '1 234,5', { locale: 'fr' }).value).toBe(1234.5);
    expect(codes(one({ type: 'number' }, '1,234.5', { locale: 'de' }).warnings)).toEqual(['invalid']);
  });

  it('refuses non-finite numbers, booleans and objects', () => {
    expect(one({ type: 'number' }, Number.NaN).warnings[0]?.message).toBe('field "f": expected a number like 1234.5 or 1,234.5, got a non-finite number');
    expect(one({ type: 'number' }, true).warnings[0]?.message).toBe('field "f": expected a number like 1234.5 or 1,234.5, got a boolean');
    expect(one({ type: 'number' }, { n: 1 }).value).toBeNull();
  });

  it('throws USAGE for a malformed locale', () => {
    expect(() => one({ type: 'number' }, '1', { locale: 'not a locale!' })).toThrowError(expect.objectContaining({ code: 'USAGE' }));
  });
});

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
  ])('%j → %j', (input, expected) => {
    expect(one({ type: 'date' }, input)).toEqual({ value: expected, warnings: [] });
  });

  it.each(['2025-02-30', '2023-02-29', '1900-02-29', '2024-13-01', '2024-04-31', '0000-01-01', '2024-03-07T25:00'])('%j does not exist', (input) => {
    expect(one({ type: 'date' }, input).warnings).toEqual([
      { code: 'invalid', field: 'f', message: `field "f": expected a date that exists, as YYYY-MM-DD, got text of ${input.length} characters` },
    ]);
  });

  it.each(['07/03/2024', '03/07/2024', '7 March 2024', '2024-03/07', '20240307'])('%j is refused as ambiguous or not year-first', (input) => {
    expect(one({ type: 'date' }, input).warnings[0]?.message).toBe(`field "f": expected a date as YYYY-MM-DD, got text of ${input.length} characters`);
  });

  it('refuses numbers (Excel serial dates)', () => {
    expect(one({ type: 'date' }, 45358).warnings[0]?.message).toBe('field "f": expected a date as YYYY-MM-DD, got a number');
  });
});

describe('boolean', () => {
  it.each([
    ['true', true],
    ['Yes', true],
    ['y', true],
    ['1', true],
    ['x', true],
    ['X', true],
    ['✓', true],
    ['ON', true],
    ['false', false],
    ['NO', false],
    ['n', false],
    ['0', false],
    ['off', false],
  ])('%j → %s', (input, expected) => {
    expect(one({ type: 'boolean' }, input)).toEqual({ value: expected, warnings: [] });
  });

  it('accepts JSON booleans and 1/0', () => {
    expect(one({ type: 'boolean' }, false).value).toBe(false);
    expect(one({ type: 'boolean' }, 1).value).toBe(true);
    expect(one({ type: 'boolean' }, 0).value).toBe(false);
  });

  it('refuses "maybe" and 2, falling back', () => {
    expect(one({ type: 'boolean', fallback: false }, 'maybe')).toEqual({
      value: false,
      warnings: [
        { code: 'invalid', field: 'f', message: 'field "f": expected yes/no, true/false or 1/0, got text of 5 characters' },
        { code: 'fallback', field: 'f', message: 'field "f": invalid; fallback used' },
      ],
    });
    expect(one({ type: 'boolean' }, 2).warnings[0]?.message).toBe('field "f": expected yes/no, true/false or 1/0, got a number other than 1 or 0');
  });

  it('leaves a missing boolean without fallback null and silent', () => {
    expect(one({ type: 'boolean' }, '')).toEqual({ value: null, warnings: [] });
  });
});

describe('enum', () => {
  const plan: FieldSpec = { type: 'enum', values: ['Free', 'Pro', 'Team'] };

  it('matches case-insensitively and returns the listed spelling', () => {
    expect(one(plan, 'pro').value).toBe('Pro');
    expect(one(plan, ' TEAM ').value).toBe('Team');
  });

  it('matches numbers against listed strings', () => {
    expect(one({ type: 'enum', values: ['1', '2', '3'] }, 2).value).toBe('2');
  });

  it('refuses unlisted values and falls back', () => {
    expect(one({ ...plan, fallback: 'Free' }, 'Enterprise')).toEqual({
      value: 'Free',
      warnings: [
        { code: 'invalid', field: 'f', message: 'field "f": expected one of Free, Pro, Team, got text of 10 characters' },
        { code: 'fallback', field: 'f', message: 'field "f": invalid; fallback used' },
      ],
    });
  });
});

describe('color', () => {
  it.each([
    ['#1A73E8', '#1a73e8'],
    ['#0f9', '#00ff99'],
    ['#C0FFEE', '#c0ffee'],
    ['#abcd', '#aabbccdd'],
    ['#11223344', '#11223344'],
    [' #abc ', '#aabbcc'],
  ])('%j → %j', (input, expected) => {
    expect(one({ type: 'color' }, input)).toEqual({ value: expected, warnings: [] });
  });

  it.each(['red', 'red; background:url(x)', '#12', '#12345', '#gggggg', 'rgb(0,0,0)', '1a73e8', '#1a73e8;', 'url(javascript:alert(1))'])(
    '%j is refused',
    (input) => {
      const { value, warnings } = one({ type: 'color', fallback: '#000000' }, input);
      expect(value).toBe('#000000');
      expect(warnings[0]?.message).toBe(`field "f": expected a hex colour like #1a2b3c (#rgb, #rrggbb or #rrggbbaa), got text of ${input.trim().length} characters`);
    },
  );
});

describe('image', () => {
  it.each([
    'https://images.example.com/people/ana-lima.jpg',
    'http://cdn.example.org/a.png?size=200&v=3',
    'https://photos.crm-export.invalid/u/8841.jpg',
    'data:image/png;base64,iVBORw0KGgo=',
    "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg'/>",
    'data:image/webp;base64,UklGRg==',
    'assets/avatars/sakura.png',
    'assets/team photo.png',
  ])('%j is kept as is', (input) => {
    expect(one({ type: 'image' }, input)).toEqual({ value: input, warnings: [] });
  });

  it.each([
    ['javascript:alert(1)', 'an http(s) URL, a data:image URI (png, jpeg, webp, gif, svg) or an assets/ path'],
    ['ftp://example.com/a.png', 'an http(s) URL, a data:image URI (png, jpeg, webp, gif, svg) or an assets/ path'],
    ['file:///etc/passwd', 'an http(s) URL, a data:image URI (png, jpeg, webp, gif, svg) or an assets/ path'],
    ['/etc/passwd', 'an http(s) URL, a data:image URI (png, jpeg, webp, gif, svg) or an assets/ path'],
    ['data:text/html;base64,PHNjcmlwdD4=', 'an http(s) URL, a data:image URI (png, jpeg, webp, gif, svg) or an assets/ path'],
    ['https://', 'an http(s) URL, a data:image URI (png, jpeg, webp, gif, svg) or an assets/ path'],
    ['https://user:secret@example.com/a.png', 'an http(s) image URL with a host and no user:password'],
    ['assets/../secret.png', 'an assets/ path without "..", "\\" or empty segments'],
    ['assets/%2e%2e/secret.png', 'an assets/ path without "..", "\\" or empty segments'],
    ['assets/a\\..\\b.png', 'an assets/ path without "..", "\\" or empty segments'],
    ['assets//a.png', 'an assets/ path without "..", "\\" or empty segments'],
    ['https://example.com/a\n.png', 'an http(s) URL, a data:image URI (png, jpeg, webp, gif, svg) or an assets/ path'],
  ])('%j is refused', (input, expected) => {
    const { value, warnings } = one({ type: 'image', fallback: 'assets/avatar.png' }, input);
    expect(value).toBe('assets/avatar.png');
    expect(warnings[0]).toEqual({ code: 'invalid', field: 'f', message: `field "f": expected ${expected}, got text of ${[...input.trim()].length} characters` });
    expect(warnings[0]?.message).not.toContain('secret');
  });

  it('caps URLs at 2048 characters and data URIs at 5 MB', () => {
    const longUrl = `https://example.com/${'a'.repeat(2048)}`;
    expect(one({ type: 'image' }, longUrl).warnings[0]?.message).toBe(
      `field "f": expected an image URL of at most 2048 characters, got text of ${longUrl.length} characters`,
    );
    const bigData = `data:image/png;base64,${'A'.repeat(5 * 1024 * 1024)}`;
    expect(one({ type: 'image' }, bigData).warnings[0]?.message).toBe(
      `field "f": expected a data:image URI of at most 5242880 characters, got text of ${bigData.length} characters`,
    );
  });

  it('warns missing for an empty image without fallback', () => {
    expect(one({ type: 'image' }, '')).toEqual({
      value: null,
      warnings: [{ code: 'missing', field: 'f', message: 'field "f": missing and no fallback; left empty' }],
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
