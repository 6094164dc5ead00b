import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staticFindings, usageOf, type TemplateSource } from '../../../src/qa/index.js';
import { parseManifest, type Manifest } from '../../../src/template/index.js';
import { fixtureTemplates } from '../../support/pipeline.js';

const bundled = new Set(['inter', 'noto sans', 'playfair display']);

function source(html: string, manifest: Partial<Manifest> = {}, css: Record<string, string> = {}): TemplateSource {
  const full = parseManifest({ name: 'T', width: 100, height: 100, fields: {}, alt: 'x', ...manifest }, 'template.json');
  return { id: 't', dir: '/t', manifest: full, manifestText: JSON.stringify(full, null, 2), html, css: new Map(Object.entries(css)) };
}

const summary = (findings: ReturnType<typeof staticFindings>) => findings.map((f) => [f.rule, f.field ?? f.message.split(' ')[0], f.line]);

describe('field usage from the Handlebars AST', () => {
  it('finds fields in mustaches, helper params, sub-expressions, blocks and the fit helper, with lines', () => {
    const { uses } = usageOf('<h1>{{name}}</h1>\n{{initials first}}\n{{#if (and vip plan)}}x{{/if}}\n{{fit "headline" tag="h1"}}\n{{formatDate date "long"}}', 't');
    expect(uses.map((u) => [u.field, u.line])).toEqual([['name', 1], ['first', 2], ['vip', 3], ['plan', 3], ['headline', 4], ['date', 5]]);
  });

  it('leaves out size, locale, @data, helper names and the item context of {{#each}}, but not ../ or @root', () => {
    const { uses } = usageOf('{{size.name}} {{locale}} {{@index}} {{#each items}}{{title}} {{../owner}} {{@root.brand}}{{/each}}', 't');
    expect(uses.map((u) => u.field)).toEqual(['items', 'owner', 'brand']);
  });

  it('marks uses guarded by a block on the same field', () => {
    const { uses } = usageOf('{{#if venue}}at {{venue}}{{/if}} {{city}}', 't');
    expect(uses.map((u) => [u.field, u.guarded, u.printed])).toEqual([['venue', false, false], ['venue', true, true], ['city', false, true]]);
  });

  it('reports {{{ }}} and {{& }} with their lines instead of refusing the template', () => {
    expect(usageOf('<p>\n{{{bio}}}\n{{& note}}</p>', 't').unescaped.map((u) => u.line)).toEqual([2, 3]);
  });

  it('names the line of a parse error', () => {
    expect(() => usageOf('{{#if x}}\n<p>', 'template.html')).toThrow(/template\.html: Parse error on line 2/);
  });
});

describe('static rules', () => {
  it('finds exactly the static defects of the broken-qa fixture', async () => {
    const dir = join(fixtureTemplates, 'broken-qa');
    const manifestText = await readFile(join(dir, 'template.json'), 'utf8');
    const fixture: TemplateSource = { id: 'broken-qa', dir, manifest: parseManifest(JSON.parse(manifestText), 'template.json'), manifestText, html: await readFile(join(dir, 'template.html'), 'utf8'), css: new Map() };
    expect(summary(staticFindings(fixture, bundled))).toEqual([
      ['undeclared-field', 'subtitle', 28],
      ['empty-debris', 'discount', 27],
      ['external-url', 'https://cdn.example.com/texture.png', 14],
    ]);
  });

  it('reports unused and required fields at their line in template.json', () => {
    const findings = staticFindings(source('<p>{{a}}</p>', { fields: { a: { type: 'text', fallback: 'A' }, b: { type: 'text', required: true } } }), bundled);
    expect(findings.map((f) => [f.rule, f.field, f.file])).toEqual([
      ['unused-field', 'b', 'template.json'],
      ['required-field', 'b', 'template.json'],
    ]);
  });

  it('counts fields used only in alt as used, and undeclared ones in alt as undeclared', () => {
    const findings = staticFindings(source('<p></p>', { fields: { a: { type: 'text', fallback: 'A' } }, alt: 'For {{a}} and {{b}}' }), bundled);
    expect(findings.map((f) => [f.rule, f.field, f.file])).toEqual([['undeclared-field', 'b', 'template.json']]);
  });

  it('sees debris only outside tags and guards, and only for fields that can be empty', () => {
    const html = '<p class="{{tone}}">{{price}} EUR</p><p>{{#if save}}save {{save}}%{{/if}}</p><p>Hi {{name}}</p><p>{{headline}}</p>';
    const fields = { tone: { type: 'text' }, price: { type: 'number' }, save: { type: 'number' }, name: { type: 'text', fallback: 'friend' }, headline: { type: 'text' } } as const;
    expect(staticFindings(source(html, { fields }), bundled).map((f) => [f.rule, f.field])).toEqual([['empty-debris', 'price']]);
  });

  it('finds scripts, external URLs (not xmlns or links) and unbundled fonts, with lines, also in the template\'s CSS', () => {
    const html = [
      '<svg xmlns="http://www.w3.org/2000/svg"></svg><a href="https://example.com">x</a>',
      '<img src="https://cdn.example.com/a.png" alt="" onerror="x()">',
      '<style>p { font-family: "Brand Sans", var(--font-sans), sans-serif; }</style>',
      '<script>1</script>',
    ].join('\n');
    const findings = staticFindings(source(html, {}, { 'style.css': '\n@import "//fonts.example.com/a.css";\nh1 { font: 700 20px/1.2 Inter, serif; }' }), bundled);
    expect(summary(findings)).toEqual([
      ['script', 'onerror=…:', 2],
      ['script', '<script:', 4],
      ['external-url', 'https://cdn.example.com/a.png', 2],
      ['font-not-bundled', 'font', 3],
      ['external-url', '//fonts.example.com/a.css', 2],
    ]);
    expect(findings.find((f) => f.rule === 'external-url' && f.line === 2 && f.message.startsWith('//'))?.file).toBe('style.css');
  });

  it('reports unescaped output as a finding', () => {
    expect(summary(staticFindings(source('<p>\n{{{bio}}}</p>', { fields: { bio: { type: 'text', fallback: '' } } }), bundled))).toEqual([['unescaped-output', '{{{bio}}}', 2]]);
  });
});

describe('check.rules in template.json', () => {
  it('accepts levels for known rules', () => {
    expect(parseManifest({ name: 'T', width: 1, height: 1, fields: {}, check: { rules: { overflow: 'off', clipped: 'error' } } }, 't.json').check?.rules).toEqual({ overflow: 'off', clipped: 'error' });
  });

  it('refuses an unknown rule id, naming it and the known ones', () => {
    expect(() => parseManifest({ name: 'T', width: 1, height: 1, fields: {}, check: { rules: { 'low-contrst': 'warn' } } }, 't.json')).toThrow(
      /t\.json: check\.rules\.low-contrst is not a rule of mergeshot check\. Rules: undeclared-field, .*low-contrast.*alt-missing, code-unreadable, code-too-small, code-low-contrast\./,
    );
  });

  it('refuses a level that is not off, warn or error', () => {
    expect(() => parseManifest({ name: 'T', width: 1, height: 1, fields: {}, check: { rules: { overflow: 'loud' } } }, 't.json')).toThrow('t.json: check.rules.overflow must be "off", "warn" or "error", got "loud" (string).');
  });
});
