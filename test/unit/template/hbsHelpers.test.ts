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

  /** `{{initials x}}` with x = name. */
  const initials = (x: string, locale?: string) => render('{{initials x}}', { x, ...(locale ? { locale } : {}) });

  it('takes initials as a native reader of each script writes them (issue 19)', () => {
    // Hindi abbreviates a name by its first akshara, vowel sign and conjunct included: "मो. क.
    // गांधी", "भाजपा" (भा‌ज‌पा). प्र is one conjunct (प + virama + र) and ि its vowel sign: "पर", the
    // letters without them, is another word; "प" alone reads "pa", not "Pri".
    expect(initials('प्रिया')).toBe('प्रि');
    expect(initials('प्रिया शर्मा')).toBe('प्रिश'); // first and last name, each its first akshara (श has no vowel sign)
    // Gurmukhi writes Preet's "pr" as ਪ with a subjoined ਰ (ਪ੍ਰ) and ੀ after it: one akshara, ਪ੍ਰੀ. Node's ICU
    // splits it into two graphemes (ਪ੍ | ਰੀ); the initial joins them, as Punjabi does.
    expect(initials('ਪ੍ਰੀਤ')).toBe('ਪ੍ਰੀ');
    expect(initials('ਪ੍ਰੀਤ ਕੌਰ')).toBe('ਪ੍ਰੀਕੌ'); // Kaur → ਕੌ (ਕ with its vowel sign au)
    // Muhammad Abdulrahman: عبد الرحمن ("servant of the Merciful") is one name, so the initials are
    // م and ع (MA), not ا (the article's alif, as before) nor ر. Kept apart by a zero-width
    // non-joiner: joined, مع would read as the word "with".
    expect(initials('محمد عبد الرحمن')).toBe('م\u200Cع');
    expect(initials('عبد الله')).toBe('ع'); // Abdullah: one name, one initial
    expect(initials('أحمد الشمري')).toBe('أ\u200Cش'); // the attached article ال is no initial: al-Shammari → ش
    expect(initials('أحمد ال شمري')).toBe('أ\u200Cش'); // the article typed as a word of its own
    expect(initials('الياس خوري')).toBe('ا\u200Cخ'); // Elias, typed without its hamza: the alif is the name's own letter
    expect(initials('مُحَمَّد')).toBe('م'); // vowel points are optional pointing, not part of the letter
    // Hebrew: the article ה of HaKohen, written solid or with a maqaf, is no initial (Cohen → כ);
    // a ה that begins a given name (Hadas) is.
    expect(initials('דוד הכהן')).toBe('דכ');
    expect(initials('דוד ה־לוי')).toBe('דל');
    expect(initials('הדס כהן')).toBe('הכ');
    // Korean: family name first, one syllable block (Kim); 김민 would read as another person, "Kim Min".
    expect(initials('김민준')).toBe('김');
    expect(initials('김 민준')).toBe('김');
    expect(initials('山田 太郎')).toBe('山'); // Yamada Tarō: the family name's first character
    // Thai abbreviates with consonants alone (พ.ศ., กทม.): Somchai → ส; ใ of ใจดี is written before
    // its consonant but spoken after it, so Jaidee's initial is จ, and เ of เกศินี gives way to ก.
    expect(initials('สมชาย')).toBe('ส');
    expect(initials('สมชาย ใจดี')).toBe('สจ');
    expect(initials('เกศินี แก้วมณี')).toBe('กก'); // Kesinee Kaewmanee: tone mark and vowels dropped too
    expect(initials('ບຸນມີ ແສງ')).toBe('ບສ'); // Lao, the same: Bounmy Saeng, ແ before ສ
    // Latin keeps its accents (Ólafur's initial is Ó: Icelandic sorts Ó as its own letter), and is capital whatever the case typed.
    expect(initials('Ólafur')).toBe('Ó');
    expect(initials('Ólafur Arnalds')).toBe('ÓA');
    expect(initials('JOHN')).toBe('J');
    expect(initials('JOHN SMITH')).toBe('JS');
    expect(initials("o'neil")).toBe('O'); // O'Neil: O is the first letter, the apostrophe is no initial
    expect(initials("mary o'neil")).toBe('MO');
    expect(initials('istanbul ilkay', 'tr-TR')).toBe('İİ'); // the record's locale: Turkish dotted capital I
  });

  it('keeps the akshara whole in every bundled Indic script, and the letter in the others', () => {
    expect(initials('রবীন্দ্রনাথ ঠাকুর')).toBe('রঠা'); // Bengali: Thakur → ঠা, with its vowel sign ā (as Hindi above)
    expect(initials('தமிழ்செல்வி')).toBe('த'); // Tamil: Tamilselvi; the pulli of ழ் ends a letter, no conjunct
    expect(initials('மு. கருணாநிதி')).toBe('முக'); // Tamil writes M. Karunanidhi's initial மு., vowel sign and all
    expect(initials('ஸ்ரீதேவி')).toBe('ஸ்ரீ'); // Sridevi: ஸ்ரீ is one ligature, never ஸ் alone
    expect(initials('రామకృష్ణ')).toBe('రా'); // Telugu: Ramakrishna → రా
    expect(initials('ગીતા પટેલ')).toBe('ગીપ'); // Gujarati: Geeta Patel → ગી and પ
    expect(initials('ಕುವೆಂಪು')).toBe('ಕು'); // Kannada: Kuvempu is itself made of the aksharas ಕು ವೆಂ ಪು
    expect(initials('ಕ್ರಿಷ್ಣ')).toBe('ಕ್ರಿ'); // Kannada conjunct kri (ICU splits it)
    expect(initials('ക്ഷമ')).toBe('ക്ഷ'); // Malayalam conjunct ksha
    expect(initials('ශ්‍රී ලාල්')).toBe('ශ්‍රීලා'); // Sinhala: al-lakuna + ZWJ makes the conjunct ශ්‍රී (Sri)
    expect(initials('කමල් පෙරේරා')).toBe('කපෙ'); // Sinhala abbreviates with the vowel sign (පෙ.ව.): Perera → පෙ
    expect(initials('ପ୍ରିୟା')).toBe('ପ୍ରି'); // Odia: Priya, as in Hindi
    expect(initials('བསྟན་འཛིན རྒྱ་མཚོ')).toBe('བསྟན'); // Tibetan: Tenzin's first syllable whole (a bare prefix བ would read "ba")
    expect(initials('አበበ ቢቂላ')).toBe('አቢ'); // Ethiopic: Abebe Bikila, one fidel (syllable) each
    expect(initials('გიორგი ჭავჭავაძე')).toBe('გჭ'); // Georgian has no capitals in names: no Mtavruli
    expect(initials('Արամ Խաչատրյան')).toBe('ԱԽ'); // Armenian capitals
    expect(initials('ន សុខ')).toBe('នស'); // Khmer: consonants, as Khmer abbreviations write them
    expect(initials('အောင် ဆန်း')).toBe('အဆ'); // Myanmar: the letter; ေ is drawn before အ but is its vowel sign
    expect(initials('Ελένη Παπαδοπούλου')).toBe('ΕΠ'); // Greek
    expect(initials('дмитрий иванов')).toBe('ДИ'); // Cyrillic, capitalised
    expect(initials('nguyễn văn an')).toBe('NA'); // Vietnamese: Latin rules, first and last word
    expect(initials('đặng thị ánh')).toBe('ĐÁ'); // Đ is a letter of its own, Á keeps its accent
    expect(initials('李小龙')).toBe('李'); // Chinese: the family name's character
    expect(initials('さくら')).toBe('さ'); // kana
  });

  it('takes initials by grapheme, never half an emoji, and none from a name without a letter', () => {
    expect(initials('zoë ñúñez')).toBe('ZÑ');
    expect(initials('🎉 party')).toBe('P');
    expect(initials('(Ada) Lovelace')).toBe('AL');
    expect(initials('e\u0301mile zola')).toBe('ÉZ'.normalize('NFD')); // accents stay on Latin initials
    expect(initials('  Ada   Lovelace  ')).toBe('AL');
    for (const x of ['', '   ', '😍', '👩🏽‍💻 🇮🇸', '١٢٣', '!!! ???', '🎉 2026', 'ال', 'ה']) expect(initials(x)).toBe('');
    expect(render('{{initials x}}', {})).toBe('');
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
