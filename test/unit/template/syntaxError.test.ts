import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMergeshotError } from '../../../src/errors/index.js';
import { TemplateRegistry, templateSyntaxError } from '../../../src/template/index.js';

/** A syntax error's facts travel in the error's detail, so no front end reads them out of the message. */
describe('templateSyntaxError', () => {
  it('keeps line, column and reason of a parse error in the detail, with the hint', () => {
    const source = '<h1>Ünïcødé «name»</h1>\n  <p>{{#if name}}Hi 👋 {{/}}</p>';
    const error = templateSyntaxError(new Error('Parse error on line 2:'), source, 'template.html');
    // Column 27 (1-based, UTF-16 units as editors count them: 👋 is two) is where the unexpected `}}` starts.
    expect(error.code).toBe('TEMPLATE_INVALID');
    expect(error.detail).toMatchObject({ line: 2, column: 27, reason: "Expecting 'ID', 'STRING', 'NUMBER', 'BOOLEAN', 'UNDEFINED', 'NULL', 'DATA', got 'CLOSE'", source: 'template.html' });
    expect(error.detail.hint).toContain('an unclosed {{#if}}');
    expect(error.message).toBe(`template.html: Parse error on line 2: ${error.detail.reason}`);
  });

  it('places a block mismatch and an unclosed block', () => {
    expect(templateSyntaxError(new Error('x'), 'ok\n{{#if a}}x{{/each}}', 'alt').detail).toMatchObject({ line: 2, column: 4, reason: "if doesn't match each" });
    expect(templateSyntaxError(new Error('x'), '{{#each items}}{{name}}', 'alt').detail).toMatchObject({ line: 1, reason: "Expecting 'OPEN_INVERSE_CHAIN', 'INVERSE', 'OPEN_ENDBLOCK', got 'EOF'" });
  });

  it('gives no syntax hint when the source parses (an error at the forced first render)', () => {
    const error = templateSyntaxError(new Error('helper exploded\nstack'), 'fine {{name}}', 'template.html');
    expect(error.message).toBe('template.html: helper exploded');
    expect(error.detail.hint).toBeUndefined();
    expect(error.detail.line).toBeUndefined();
  });

  it('is what the registry throws for a template that does not compile', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mergeshot-syntax-'));
    try {
      await mkdir(join(root, 'broken'));
      await writeFile(join(root, 'broken', 'template.json'), JSON.stringify({ name: 'Broken', width: 10, height: 10, fields: {} }));
      // Unclosed: the end of the file, line 3, as Handlebars' own message says.
      await writeFile(join(root, 'broken', 'template.html'), '<p>\n{{#if x}}\n</p>');
      const error: unknown = await new TemplateRegistry({ templatesDir: root, stylesDir: join(root, 'styles') }).get('broken').catch((e: unknown) => e);
      expect(isMergeshotError(error) && error.detail).toMatchObject({ line: 3, reason: "Expecting 'OPEN_INVERSE_CHAIN', 'INVERSE', 'OPEN_ENDBLOCK', got 'EOF'" });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
