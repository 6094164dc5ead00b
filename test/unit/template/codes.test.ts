import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../../src/errors/index.js';
import type { CodeCollector } from '../../../src/template/codes.js';
import { registerHelpers } from '../../../src/template/hbsHelpers.js';

/** Compiled as the registry compiles (trackIds), with a collector as mergeDocument passes it. */
function render(source: string, context: Record<string, unknown>, fallbacks: Record<string, unknown> = {}): { html: string; collector: CodeCollector } {
  const env = Handlebars.create();
  registerHelpers(env);
  const collector: CodeCollector = { fallbacks, codes: [], warnings: [] };
  const html = env.compile(source, { trackIds: true } as Parameters<typeof env.compile>[1])(context, { data: { mergeshot: collector } });
  return { html, collector };
}

describe('{{qr}} and {{barcode}}', () => {
  it('draw the same bytes for the same value, and different ones for another', () => {
    const a = render('{{qr ticketId}}', { ticketId: 'TKT-2025-00042' }).html;
    expect(render('{{qr ticketId}}', { ticketId: 'TKT-2025-00042' }).html).toBe(a);
    expect(render('{{qr ticketId}}', { ticketId: 'TKT-2025-00043' }).html).not.toBe(a);
    expect(a).toMatch(/^<span class="mergeshot-code mergeshot-code-qr" role="img" aria-label="QR code" data-mergeshot-code="qr" data-code-index="0"><svg /);
    for (const type of ['code128', 'pdf417', 'datamatrix', 'aztec']) {
      const one = render(`{{barcode v type="${type}"}}`, { v: 'SEAT-12B' }).html;
      expect(render(`{{barcode v type="${type}"}}`, { v: 'SEAT-12B' }).html).toBe(one);
      expect(one).toContain(`data-mergeshot-code="${type}"`);
    }
  });

  it('never write the value into the SVG: hostile text cannot inject markup', () => {
    const hostile = '"><script>alert(1)</script><svg onload=alert(2)>&amp;';
    for (const source of ['{{qr v}}', '{{barcode v type="code128"}}', '{{barcode v type="pdf417"}}', '{{barcode v type="datamatrix"}}', '{{barcode v type="aztec"}}']) {
      const { html, collector } = render(source, { v: hostile });
      expect(html).not.toContain('script');
      expect(html).not.toContain('onload');
      expect(html).not.toContain('alert');
      expect(html.match(/<svg\b/g)).toHaveLength(1);
      expect(collector.codes[0]!.expected).toBe(hostile);
    }
  });

  it('records each code with the value it must scan to, the field and its module size', () => {
    const { collector } = render('{{qr id}}{{barcode ean type="ean13"}}', { id: 'A1', ean: '400638133393' });
    expect(collector.codes.map(({ index, symbology, expected, field }) => ({ index, symbology, expected, field }))).toEqual([
      { index: 0, symbology: 'qr', expected: 'A1', field: 'id' },
      // 12 digits: the check digit is appended, and is what a scanner reads.
      { index: 1, symbology: 'ean13', expected: '4006381333931', field: 'ean' },
    ]);
    // A version-1 QR code is 21 modules, plus 4 of quiet zone on each side.
    expect(collector.codes[0]!.moduleFraction).toBeCloseTo(1 / 29, 6);
  });

  it('an invalid EAN-13 draws the field\'s fallback and warns, without the value in the message', () => {
    for (const bad of ['40063813339AB', '4006381333932']) {
      const { html, collector } = render('{{barcode sku type="ean13"}}', { sku: bad }, { sku: '4006381333931' });
      expect(collector.warnings).toEqual([{ code: 'fallback', field: 'sku', message: expect.stringMatching(/^field "sku" is not a valid ean13: .*; the fallback's code is drawn$/) }]);
      expect(collector.warnings[0]!.message).not.toContain(bad);
      expect(collector.codes).toEqual([expect.objectContaining({ expected: '4006381333931', field: 'sku' })]);
      expect(html).toContain('data-mergeshot-code="ean13"');
    }
    const none = render('{{barcode sku type="ean13"}}', { sku: 'not a number' }, { sku: '' });
    expect(none.html).toBe('');
    expect(none.collector.codes).toEqual([]);
    expect(none.collector.warnings).toEqual([{ code: 'invalid', field: 'sku', message: expect.stringContaining('no code drawn') }]);
  });

  it('an empty value draws nothing and leaves the warning to the data stage', () => {
    const { html, collector } = render('{{qr id}}', { id: '' });
    expect(html).toBe('');
    expect(collector).toMatchObject({ codes: [], warnings: [] });
  });

  it('applies colours, error correction and the quiet zone', () => {
    const { html } = render('{{qr id dark="#1B1D29" light="#fff" ecc="H" quiet=2}}', { id: 'A1' });
    expect(html).toContain('stroke="#1b1d29"');
    expect(html).toContain('fill="#ffffff"');
    // H correction still fits version 1 (21 modules) for two characters: 21 + 2 × 2.
    expect(html).toContain('viewBox="0 0 25 25"');
    const bar = render('{{barcode id type="datamatrix" dark="#003366"}}', { id: 'A1' }).html;
    expect(bar).toContain('#003366');
  });

  it('refuses a bad option with an error naming it', () => {
    const cases: [string, RegExp][] = [
      ['{{qr id ecc="X"}}', /^qr: ecc="X" is not valid: expected L, M, Q or H/],
      ['{{qr id dark="red"}}', /^qr: dark="red" is not valid: expected a hex colour/],
      ['{{qr id light="#12345"}}', /^qr: light="#12345" is not valid/],
      ['{{qr id quiet=-1}}', /^qr: quiet=-1 \(number\) is not valid: expected a whole number of modules from 0 to 20/],
      ['{{qr id size=3}}', /^qr: size=3 \(number\) is not valid: expected one of the options ecc, quiet, dark, light, class/],
      ['{{barcode id}}', /^barcode: type=undefined \(undefined\) is not valid: expected one of qr, ean13, code128, pdf417, datamatrix, aztec/],
      ['{{barcode id type="upc"}}', /^barcode: type="upc" is not valid/],
      ['{{barcode id type="code128" ecc="H"}}', /^barcode: ecc="H" is not valid: expected no ecc for type="code128"/],
    ];
    for (const [source, message] of cases) {
      let error: unknown;
      try {
        render(source, { id: 'A1' });
      } catch (caught) {
        error = caught;
      }
      expect(error, source).toBeInstanceOf(TemplateError);
      expect((error as Error).message, source).toMatch(message);
    }
  });
});
