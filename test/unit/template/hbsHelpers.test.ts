import { describe, expect, it } from 'vitest';
import Handlebars from 'handlebars';
import { helpers } from '../../../src/template/hbsHelpers.js';
import { TemplateRegistry } from '../../../src/template/index.js';

function render(source: string, context: Record<string, unknown> = {}): string {
  const env = Handlebars.create();
  for (const [name, helper] of Object.entries(helpers)) env.registerHelper(name, helper as Handlebars.HelperDelegate);
  return env.compile(source)(context);
}

describe('template helpers', () => {
  it('compares and combines', () => {
    expect(render('{{#if (and (eq a 1) (or b (not c)))}}yes{{else}}no{{/if}}', { a: 1, b: false, c: false })).toBe('yes');
    expect(render('{{#if (gt n 3)}}big{{/if}}{{#if (lt n 3)}}small{{/if}}', { n: 5 })).toBe('big');
  });

  it('changes case, locale-aware, and leaves mixed-case names alone in title', () => {
    expect(render('{{upper x}}', { x: 'straße' })).toBe('STRASSE');
    expect(render('{{title x}}', { x: 'ADA LOVELACE' })).toBe('Ada Lovelace');
    expect(render('{{title x}}', { x: 'ronald McDonald' })).toBe('Ronald McDonald');
  });

  it('takes initials by grapheme, never half an emoji', () => {
    expect(render('{{initials x}}', { x: 'zoë ñúñez' })).toBe('ZÑ');
    expect(render('{{initials x}}', { x: 'محمد عبد الرحمن' })).toBe('ما');
    expect(render('{{initials x}}', { x: '🎉 party' })).toBe('P');
    expect(render('{{initials x}}', { x: '' })).toBe('');
  });

  it('takes initials of every script, and none from a name without a letter', () => {
    expect(render('{{initials x}}', { x: '김민준' })).toBe('김');
    expect(render('{{initials x}}', { x: 'สมชาย ใจดี' })).toBe('สจ'); // ใ is written before จ: the initial is the consonant
    expect(render('{{initials x}}', { x: 'রবীন্দ্রনাথ ঠাকুর' })).toBe('রঠ'); // vowel signs are not part of an initial
    expect(render('{{initials x}}', { x: 'தமிழ்செல்வி' })).toBe('த');
    expect(render('{{initials x}}', { x: '(Ada) Lovelace' })).toBe('AL');
    expect(render('{{initials x}}', { x: 'e\u0301mile zola' })).toBe('ÉZ'.normalize('NFD')); // accents stay on Latin initials
    for (const x of ['😍', '١٢٣', '!!! ???', '🎉 2026']) expect(render('{{initials x}}', { x })).toBe('');
  });

  it('truncates by grapheme with an ellipsis and counts length for CSS', () => {
    expect(render('{{truncate x 4}}', { x: 'Zoë 👩‍👩‍👧 Smith' })).toBe('Zoë…');
    expect(render('{{truncate x 10}}', { x: 'short' })).toBe('short');
    expect(render('{{len x}}', { x: 'a👩‍👩‍👧b' })).toBe('3');
  });

  it('formats dates, numbers and currency per locale', () => {
    expect(render('{{formatDate d "long"}}', { d: '2026-03-14' })).toBe('March 14, 2026');
    expect(render('{{formatDate d "long"}}', { d: '2026-03-14', locale: 'de-DE' })).toBe('14. März 2026');
    expect(render('{{formatNumber n 2}}', { n: 1234.5 })).toBe('1,234.50');
    expect(render('{{currency n "EUR"}}', { n: 9.5, locale: 'fr-FR' })).toBe('9,50\u00a0€');
  });

  it('keeps asset paths inside the template', () => {
    expect(render('{{asset "logo.png"}}')).toBe('assets/logo.png');
    expect(render('{{asset "../secret.txt"}}')).toBe('');
  });

  it('escapes helper output like any value', () => {
    expect(render('{{upper x}}', { x: '<img src=x onerror=alert(1)>' })).toBe('&lt;IMG SRC&#x3D;X ONERROR&#x3D;ALERT(1)&gt;');
  });

  it('registers helpers on its own environment, never the global Handlebars', () => {
    new TemplateRegistry({ templatesDir: 'templates', stylesDir: 'styles' });
    expect(Handlebars.helpers['initials']).toBeUndefined();
  });
});
