import { describe, expect, it } from 'vitest';
import Handlebars from 'handlebars';
import { helpers, registerHelpers } from '../../../src/template/hbsHelpers.js';
import { TemplateRegistry } from '../../../src/template/index.js';

function render(source: string, context: Record<string, unknown> = {}): string {
  const env = Handlebars.create();
  registerHelpers(env);
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

  it('fit writes the whole fitting recipe: container, field, dir, shrink marker and length', () => {
    expect(render('{{fit "name" tag="h1" class="name"}}', { name: 'Zoë 👩‍👩‍👧' })).toBe(
      '<div class="fit-box"><h1 class="name fit-clamp" dir="auto" data-field="name" data-fit style="--chars: 5">Zoë 👩‍👩‍👧</h1></div>',
    );
    expect(render('{{fit "name" lines=1 box=false}}', { name: 'Ada' })).toBe('<div class="fit-line" dir="auto" data-field="name" data-fit style="--chars: 3">Ada</div>');
    expect(render('{{fit "course" tag="h3" box="course-box"}}', { course: 'CSS' })).toBe(
      '<div class="course-box fit-box"><h3 class="fit-clamp" dir="auto" data-field="course" data-fit style="--chars: 3">CSS</h3></div>',
    );
    expect(render('{{fit "name"}}', {})).toContain('style="--chars: 0"></div>');
  });

  it('fit escapes the value and counts an entity as the one character it stands for', () => {
    const html = render('{{fit "name" box=false}}', { name: '<b>&"' });
    expect(html).toContain('style="--chars: 5">&lt;b&gt;&amp;&quot;</div>');
    expect(html).not.toContain('<b>');
  });

  it('fit as a block fits a phrase around the value and counts its visible characters', () => {
    expect(render('{{#fit "firstName" tag="h1"}}Welcome, <bdi>{{firstName}}</bdi>!{{/fit}}', { firstName: 'A&B' })).toBe(
      '<div class="fit-box"><h1 class="fit-clamp" dir="auto" data-field="firstName" data-fit style="--chars: 13">Welcome, <bdi>A&amp;B</bdi>!</h1></div>',
    );
    expect(render('{{#fit tag="p" box=false}}Welcome aboard!{{/fit}}')).toBe('<p class="fit-clamp" dir="auto" data-fit style="--chars: 15">Welcome aboard!</p>');
  });

  it('fit refuses a tag it does not know and a field name that is not one, naming the fix', () => {
    expect(() => render('{{fit "name" tag="script"}}')).toThrow('fit: tag="script" is not one of h1, h2, h3, h4, h5, h6, p, div, span.');
    expect(() => render('{{fit "a b"}}')).toThrow('write {{fit "name"}} with the field\'s name in quotes');
  });

  it('registers helpers on its own environment, never the global Handlebars', () => {
    new TemplateRegistry({ templatesDir: 'templates', stylesDir: 'styles' });
    expect(Handlebars.helpers['initials']).toBeUndefined();
  });
});
