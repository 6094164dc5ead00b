import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pipeline } from '../../src/pipeline/index.js';
import { checkTemplate, type CheckReport } from '../../src/qa/index.js';
import { bundledTemplates, fixtureTemplates, repoRoot, testPipeline } from '../support/pipeline.js';

const bin = join(repoRoot, 'bin/mergeshot.js');
const env = { ...process.env, MERGESHOT_PAGES: '2' };

function mergeshot(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: repoRoot, env, maxBuffer: 10_000_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The six defects of test/fixtures/templates/broken-qa, each exactly once; a rendered one at the line that prints its field. */
const brokenFindings = [
  { rule: 'undeclared-field', severity: 'error', file: 'template.html', line: 28, field: 'subtitle' },
  { rule: 'empty-debris', severity: 'error', file: 'template.html', line: 27, field: 'discount' },
  { rule: 'external-url', severity: 'error', file: 'template.html', line: 14 },
  { rule: 'overflow', severity: 'error', file: 'template.html', line: 30, field: 'code' },
  { rule: 'missing-glyph', severity: 'error', file: 'template.html', line: 26, field: 'name', record: 'glyph' },
  { rule: 'low-contrast', severity: 'error', file: 'template.html', line: 29, field: 'tagline' },
];

const shape = (report: CheckReport) => report.findings.map(({ rule, severity, file, line, field, record }) => ({ rule, severity, ...(file ? { file } : {}), ...(line ? { line } : {}), ...(field ? { field } : {}), ...(rule === 'missing-glyph' ? { record } : {}) }));

let pipeline: Pipeline;
let work: string;
let broken: CheckReport;

beforeAll(async () => {
  pipeline = testPipeline();
  work = await mkdtemp(join(tmpdir(), 'mergeshot-qa-'));
  broken = await checkTemplate(pipeline, 'broken-qa');
}, 120_000);
afterAll(async () => {
  await pipeline?.close();
  await rm(work, { recursive: true, force: true });
});

describe('mergeshot check', () => {
  it('finds each defect of the broken fixture exactly once, and nothing else', () => {
    expect(shape(broken)).toEqual(brokenFindings);
    expect(broken.records).toEqual(['typical', 'glyph', 'generated:max-length', 'generated:missing', 'generated:rtl', 'generated:cjk', 'generated:emoji', 'generated:merge-tag']);
  });

  it('says what it measured: overflow in px, contrast as a ratio, the missing code point', () => {
    const byRule = Object.fromEntries(broken.findings.map((finding) => [finding.rule, finding]));
    expect(byRule['overflow']!.message).toMatch(/^field "code" reaches \d+ px outside (its box|the canvas)$/);
    expect(byRule['overflow']!.records).toContain('typical');
    expect(byRule['low-contrast']!.message).toMatch(/^field "tagline" has a contrast of 1\.\d\d:1 with the pixels behind its glyphs; WCAG AA needs 4\.5:1/);
    expect(byRule['missing-glyph']!.message).toContain('U+E000');
    expect(byRule['external-url']!.message).toContain('https://cdn.example.com/texture.png');
  });

  it('reports nothing once the fields are fixed and the other rules turned off in template.json, and lowers overflow to warn', async () => {
    const dir = join(work, 'fixed');
    await cp(join(fixtureTemplates, 'broken-qa'), dir, { recursive: true });
    const manifest = JSON.parse(await readFile(join(dir, 'template.json'), 'utf8'));
    manifest.check = { rules: { overflow: 'warn', 'low-contrast': 'off', 'missing-glyph': 'off', 'external-url': 'off' } };
    manifest.fields.subtitle = { type: 'text', fallback: '', maxLength: 8 };
    manifest.fields.discount.fallback = 10;
    await writeFile(join(dir, 'template.json'), JSON.stringify(manifest, null, 2));
    const report = await checkTemplate(pipeline, dir);
    expect(report.findings.map(({ rule, severity, field }) => ({ rule, severity, field }))).toEqual([{ rule: 'overflow', severity: 'warn', field: 'code' }]);
  }, 120_000);

  it('checks the channels the template ships to: WebP for email, and the budget of each checked preset', async () => {
    // User presets: an email preset that makes WebP, and a PNG preset whose budget no render meets.
    const channels = testPipeline({ presets: { 'email-webp': { extends: 'web', description: 'WebP for email' }, tiny: { extends: 'original', description: 'a 1 KB budget', maxBytes: 1_000 } } });
    try {
      const dir = join(work, 'channels');
      await cp(join(fixtureTemplates, 'mini'), dir, { recursive: true });
      const manifest = JSON.parse(await readFile(join(dir, 'template.json'), 'utf8'));
      manifest.check = { presets: ['email-webp', 'tiny'] };
      await writeFile(join(dir, 'template.json'), JSON.stringify(manifest, null, 2));
      const report = await checkTemplate(channels, dir);
      const channelFindings = report.findings.filter((f) => f.rule === 'format-channel' || f.rule === 'over-budget').sort((a, b) => a.rule.localeCompare(b.rule));
      expect(channelFindings.map(({ rule, severity }) => ({ rule, severity }))).toEqual([
        { rule: 'format-channel', severity: 'error' },
        { rule: 'over-budget', severity: 'error' },
      ]);
      expect(channelFindings[0]!.message).toBe('preset "email-webp" makes WebP, which its channel cannot show');
      expect(channelFindings[1]!.message).toMatch(/^preset "tiny": \d+ bytes, over its budget of 1000 bytes$/);
    } finally {
      await channels.close();
    }
  }, 120_000);

  it('reports each link that leads outside the template as an error, naming the file and never an absolute target', async () => {
    const dir = join(work, 'linked');
    await cp(join(fixtureTemplates, 'mini'), dir, { recursive: true });
    await mkdir(join(work, 'outside'));
    await writeFile(join(work, 'outside', 'shared.css'), 'p { color: red }');
    await symlink('/etc/passwd', join(dir, 'logo.png'));
    await symlink('../outside/shared.css', join(dir, 'shared.css'));
    await symlink('template.html', join(dir, 'copy.html')); // stays inside: fine
    const report = await checkTemplate(pipeline, dir);
    expect(report.findings.filter((f) => f.rule === 'link-outside')).toEqual([
      { rule: 'link-outside', severity: 'error', file: 'logo.png', message: 'logo.png is a link that leads outside the template: it is refused wherever it is read', fix: 'replace the link with a copy of the file inside the template folder' },
      { rule: 'link-outside', severity: 'error', file: 'shared.css', message: 'shared.css is a link that leads outside the template (to ../outside/shared.css): it is refused wherever it is read', fix: 'replace the link with a copy of the file inside the template folder' },
    ]);
    expect(report.records.length).toBeGreaterThan(0);

    // template.html itself is one: the report says so (and exits 1) instead of failing the check.
    await unlink(join(dir, 'template.html'));
    await symlink('/proc/self/environ', join(dir, 'template.html'));
    const result = await mergeshot(['check', dir, '--json']);
    expect(result.code, result.stderr).toBe(1);
    const json = JSON.parse(result.stdout) as { errors: number; templates: CheckReport[] };
    expect(json.templates[0]!.findings.map(({ rule, file }) => `${rule} ${file}`)).toEqual(['link-outside copy.html', 'link-outside logo.png', 'link-outside shared.css', 'link-outside template.html']);
    expect(json.templates[0]!.skipped).toMatch(/^template\.html is a link that leads outside its folder \(linked\/\)/);
    expect(result.stdout).not.toContain('MERGESHOT_PAGES=');
  }, 120_000);

  it('prints JSON and exits 1 for findings at error level', async () => {
    const result = await mergeshot(['--templates', fixtureTemplates, 'check', 'broken-qa', '--json']);
    expect(result.code, result.stderr).toBe(1);
    const json = JSON.parse(result.stdout) as { errors: number; warnings: number; templates: CheckReport[] };
    expect([json.errors, json.warnings]).toEqual([6, 0]);
    expect(shape(json.templates[0]!)).toEqual(brokenFindings);
  }, 120_000);

  it('prints text grouped by rule, with file:line and the fix', async () => {
    const result = await mergeshot(['--templates', fixtureTemplates, 'check', 'broken-qa']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^broken-qa \(default size, 8 records, [\d.]+ s\): 6 errors, 0 warnings\n {2}undeclared-field {2}error\n {4}template\.html:28 {2}field "subtitle" is used but not declared/);
    expect(result.stdout).toContain('      fix: give "discount" a fallback in template.json');
  }, 120_000);

  it('exits 2 for usage mistakes', async () => {
    expect((await mergeshot(['check'])).code).toBe(2);
    expect((await mergeshot(['check', 'event-invite', '--all'])).code).toBe(2);
    const unknown = await mergeshot(['--templates', fixtureTemplates, 'check', 'no-such-template']);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('TEMPLATE_NOT_FOUND')]);
  }, 60_000);

  it('prints a Handlebars parse error with its line, its reason and the hint, as preview does (one formatter)', async () => {
    const dir = join(work, 'parse-error');
    await cp(join(fixtureTemplates, 'mini'), dir, { recursive: true });
    const file = join(dir, 'template.html');
    const html = await readFile(file, 'utf8');
    // A designer's slip on a line of its own: a closing tag with no name, among non-Latin text.
    const lines = html.split('\n');
    const at = lines.findIndex((line) => line.includes('</body>'));
    lines.splice(at, 0, '  <p dir="rtl">{{#if vip}}مرحبا «VIP» 🎉 {{/}}</p>');
    await writeFile(file, lines.join('\n'));
    const reason = "Expecting 'ID', 'STRING', 'NUMBER', 'BOOLEAN', 'UNDEFINED', 'NULL', 'DATA', got 'CLOSE'";
    const hint = '  hint: an unclosed {{#if}} or {{#each}}, or {{ }} inside an HTML comment, are the usual causes';

    const check = await mergeshot(['check', dir]);
    expect(check.code).toBe(2);
    expect(check.stderr).toContain(`error TEMPLATE_INVALID: template.html: Parse error on line ${at + 1}: ${reason}\n`);
    expect(check.stderr).toContain(hint);

    const preview = await mergeshot(['preview', dir, '--out', join(work, 'parse-error.png')]);
    expect(preview.code).toBe(2);
    // The same words after the file name (preview names the file by its path).
    const words = (text: string) => /: (Parse error on line .*)\n(  hint: .*)\n/.exec(text)?.slice(1);
    expect(words(check.stderr)).toEqual(words(preview.stderr));
    expect(words(check.stderr)).toBeDefined();
  }, 60_000);

  it('passes every bundled template at error level (--all exits 0)', async () => {
    const result = await mergeshot(['--templates', bundledTemplates, 'check', '--all', '--json']);
    const json = JSON.parse(result.stdout) as { errors: number; templates: CheckReport[] };
    expect(json.templates.map((t) => t.template)).toEqual(['certificate', 'event-invite', 'ticket', 'welcome-banner']);
    expect(json.templates.flatMap((t) => t.findings.filter((f) => f.severity === 'error'))).toEqual([]);
    expect(result.code, result.stderr).toBe(0);
  }, 400_000);
});
