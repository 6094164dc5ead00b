import { createReadStream } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readCsv } from '../../../../src/data/readCsv.js';
import { normalizeRecord } from '../../../../src/data/normalize.js';
import { cleanText } from '../../../../src/data/normalize/text.js';
import type { FieldSpecs } from '../../../../src/template/index.js';
import { codes, normalizeOne as one } from './normalizeOne.js';

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
    for (const probe of ['<img src=x onerror=alert(1)>', '"><script>alert(1)</script>']) {
      expect(one({ type: 'text' }, probe)).toEqual({ value: probe, warnings: [] });
    }
    // Handlebars syntax in data is never evaluated: inside a value it reads as a merge tag left unreplaced, and goes.
    const injection = one({ type: 'text' }, "{{constructor.constructor('alert(1)')()}}x");
    expect(injection.value).toBe('x');
    expect(codes(injection.warnings)).toEqual(['unreplaced-merge-tag']);
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
    for await (const row of readCsv(createReadStream(new URL('../../../fixtures/data/contacts-mixed-encoding.csv', import.meta.url)))) {
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
