import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatCodePoints, GlyphCoverage, systemFontFiles, type PageFontFace } from '../../../src/render/index.js';
import { parseUnicodeRange } from '../../../src/render/glyphCoverage.js';

const fontsource = dirname(dirname(createRequire(import.meta.url).resolve('@fontsource/inter/package.json')));
const interLatin = '/fonts/inter/files/inter-latin-400-normal.woff2';
const loads: string[] = [];
const load = async (src: string) => {
  loads.push(src);
  return src.startsWith('/fonts/') ? readFile(join(fontsource, src.slice('/fonts/'.length))) : undefined;
};

describe('unicode-range', () => {
  it('reads single code points, ranges and wildcards; empty means all of Unicode', () => {
    expect(parseUnicodeRange('U+0-FF, U+131, u+4??')).toEqual([[0, 0xff], [0x131, 0x131], [0x400, 0x4ff]]);
    expect(parseUnicodeRange('')).toEqual([[0, 0x10ffff]]);
    expect(parseUnicodeRange('nonsense')).toEqual([]);
  });

  it('names code points without the value, and counts the rest', () => {
    expect(formatCodePoints([0xe000, 0x10fffd])).toBe('U+E000, U+10FFFD');
    expect(formatCodePoints([1, 2, 3], 2)).toBe('U+0001, U+0002 and 1 more');
  });
});

describe('GlyphCoverage', () => {
  const coverage = new GlyphCoverage({ systemFonts: systemFontFiles() });
  const faces: PageFontFace[] = [{ family: 'Inter', unicodeRange: 'U+0000-00FF, U+2000-206F', src: interLatin }];

  it('checks the font file, not only the unicode-range; invisible characters need no glyph', async () => {
    // U+2010 (hyphen) is in Inter's Latin range but not in the font.
    const webFontsOnly = new GlyphCoverage({ systemFonts: [] });
    expect(await webFontsOnly.uncovered('doc-a', faces, 'Ada Lovelace\u00a0\u200d\u2063\ufe0f', load)).toEqual([]);
    expect(await webFontsOnly.uncovered('doc-a', faces, 'Jean\u2010Luc \u{e000}', load)).toEqual([0x2010, 0xe000]);
  });

  it('counts the fonts Chromium falls back to (full Noto Sans: Cyrillic, combining marks)', async () => {
    expect(await coverage.uncovered('doc-b', faces, 'Дмитрий Z̷̢a̵', load)).toEqual([]);
    expect(await coverage.uncovered('doc-b', faces, '김민준', load)).toEqual([0xae40, 0xbbfc, 0xc900]);
  });

  it('remembers answers per document, so a warm document reads no font again', async () => {
    await coverage.uncovered('doc-c', faces, 'Grace Hopper', load);
    loads.length = 0;
    expect(await coverage.uncovered('doc-c', faces, 'Hopper Grace', load)).toEqual([]);
    expect(loads).toEqual([]);
  });

  it('treats a face whose file cannot be read as covering nothing', async () => {
    const broken: PageFontFace[] = [{ family: 'Gone', unicodeRange: '', src: '/t/x/missing.woff2' }];
    expect(await coverage.uncovered('doc-d', broken, '\u{e000}a', load)).toEqual([0xe000]);
  });
});
