import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pipeline } from '../../src/pipeline/index.js';
import { runPreflight } from '../../src/preflight/index.js';
import { checkTemplate, scanCodes, type CheckReport } from '../../src/qa/index.js';
import { bundledTemplates, testPipeline } from '../support/pipeline.js';

/** Hostile values: UTF-8 across scripts in the QR code, quotes and angle brackets in the others. */
const values = { ticket: 'TKT-2025-00042 · Zoë 山田 محمد', ean: '400638133393', ref: 'SEAT 12B / "VIP" <row>' };

let pipeline: Pipeline;
let bundled: Pipeline;
let qa: CheckReport;

beforeAll(async () => {
  pipeline = testPipeline();
  bundled = testPipeline({ templatesDir: bundledTemplates });
  qa = await checkTemplate(pipeline, 'codes-qa');
}, 240_000);
afterAll(async () => {
  await pipeline?.close();
  await bundled?.close();
});

/** The boxes from an inspected render, the codes from the preset's render, decoded from its bytes. */
async function scanned(template: string, data: Record<string, unknown>, preset: string, size?: string, on: Pipeline = pipeline) {
  const inspected = await on.renderOne({ template, data, preset: 'original', size, inspect: true });
  const shipped = await on.renderOne({ template, data, preset, size });
  const page = { width: inspected.width, height: inspected.height };
  return { shipped, problems: await scanCodes(shipped.bytes, page, shipped.codes, inspected.inspection?.codes ?? []) };
}

describe('QR codes and barcodes scan from the final image', () => {
  it('every symbology decodes back to its value from the email preset\'s JPEG', async () => {
    const { shipped, problems } = await scanned('codes-all', values, 'email');
    expect(shipped.format).toBe('jpeg');
    expect(shipped.width).toBe(1200);
    expect(shipped.codes.map((code) => [code.symbology, code.expected])).toEqual([
      ['qr', values.ticket],
      ['datamatrix', values.ref],
      ['aztec', values.ref],
      ['ean13', '4006381333931'],
      ['code128', values.ref],
      ['pdf417', values.ref],
    ]);
    expect(problems).toEqual([]);
  }, 120_000);

  it('an invalid EAN-13 renders the field\'s fallback, which scans, and warns', async () => {
    const { shipped, problems } = await scanned('codes-all', { ...values, ean: '40063813339XY' }, 'email');
    expect(shipped.warnings).toContainEqual({ code: 'fallback', field: 'ean', message: expect.stringContaining('is not a valid ean13') });
    expect(shipped.codes.find((code) => code.symbology === 'ean13')?.expected).toBe('4006381333931');
    expect(problems).toEqual([]);
  }, 120_000);

  it('check reports a code too small for its output, one too faint and one that does not decode, and passes the good one', () => {
    const codes = qa.findings.filter((finding) => finding.rule.startsWith('code-'));
    expect(codes.map(({ rule, field, severity }) => ({ rule, field, severity }))).toEqual([
      { rule: 'code-unreadable', field: 'covered', severity: 'error' },
      { rule: 'code-too-small', field: 'small', severity: 'error' },
      { rule: 'code-low-contrast', field: 'faint', severity: 'error' },
    ]);
    const byRule = Object.fromEntries(codes.map((finding) => [finding.rule, finding]));
    expect(byRule['code-too-small']!.message).toMatch(/^preset "email": QR code 2 \(field "small"\): a module is 1\.\d\d px in the 1200×600 output, under 2 px$/);
    expect(byRule['code-low-contrast']!.message).toMatch(/symbol contrast \d\d % in the output, under 40 %$/);
    expect(byRule['code-unreadable']!.message).toBe('preset "email": QR code 4 (field "covered") does not decode from the 1200×600 output');
    // Personal data stays out of the report.
    expect(JSON.stringify(qa.findings)).not.toContain('TKT-2025');
  });

  it('the ticket template\'s QR code decodes to the ticket id from the email JPEG and the WhatsApp JPEG of the mobile size, for every sample', async () => {
    const manifest = JSON.parse(await readFile(join(bundledTemplates, 'ticket/template.json'), 'utf8')) as { samples: Record<string, Record<string, string>> };
    for (const [name, sample] of Object.entries(manifest.samples)) {
      for (const [preset, size] of [['email', undefined], ['whatsapp', 'mobile']] as const) {
        const { shipped, problems } = await scanned('ticket', sample, preset, size, bundled);
        const id = String(shipped.record['ticketId'] ?? '');
        expect(shipped.codes.map((code) => code.expected), `${name} ${preset}`).toEqual(id ? [id] : []);
        expect(problems, `${name} ${preset}`).toEqual([]);
      }
    }
  }, 400_000);

  it('preflight scans the codes of the rows it renders, with the same rule names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mergeshot-codes-'));
    try {
      await writeFile(join(dir, 'rows.csv'), 'ok,small,faint,covered\nTKT-9-0001,https://tickets.example.com/t/2025/00042?seat=12B&session=keynote,TKT-9-0002,TKT-9-0003\n');
      const summary = await runPreflight(pipeline, 'codes-qa', { data: join(dir, 'rows.csv'), map: {}, out: join(dir, 'report'), signal: new AbortController().signal });
      expect(summary.preset).toBe('email');
      const warnings = summary.cases.flatMap((c) => c.warnings ?? []);
      expect(warnings).toEqual(expect.arrayContaining(['code-too-small:small', 'code-low-contrast:faint', 'code-unreadable:covered']));
      expect(warnings.filter((w) => w.endsWith(':ok'))).toEqual([]);
      expect(JSON.stringify(summary)).not.toContain('TKT-9');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
