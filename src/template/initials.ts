/**
 * Initials of a name the way its own script abbreviates it (the `initials` helper):
 *
 * - Latin, Greek, Cyrillic, Armenian: the first letter with its accents, upper-cased
 *   ("Ólafur" → "Ó", "o'neil" → "O").
 * - Indic scripts (Devanagari, Bengali, Gurmukhi, Gujarati, Odia, Tamil, Telugu, Kannada,
 *   Malayalam, Sinhala): the first akshara (written syllable) whole: a conjunct with its
 *   virama and the following consonant, the vowel sign and the nasal sign, as Indian
 *   abbreviations write them ("मो. क. गांधी", "भाजपा", Kannada "ಕುವೆಂಪು", Tamil "மு.க."). A
 *   virama followed by a consonant joins the two even where the Unicode grapheme rules of the
 *   ICU at hand do not (Gurmukhi "ਪ੍ਰੀਤ" → "ਪ੍ਰੀ"), so the result does not depend on Node's ICU.
 * - Thai, Lao, Khmer, Myanmar, Arabic, Hebrew, Syriac, Thaana: the bare letter. Thai, Lao and
 *   Khmer abbreviations are written with consonants alone ("พ.ศ.", "ສປປ"), a vowel written before
 *   its consonant (เ แ โ ใ ไ) is skipped; Arabic and Hebrew vowel points are optional pointing,
 *   not part of the letter.
 * - Tibetan: the whole first syllable, up to the tsheg (see tibetanSyllable).
 * - Hangul, Han, kana, Ethiopic, Georgian and the rest: the first grapheme as written (a
 *   syllable block, a character, a fidel), never upper-cased (Georgian's Mtavruli capitals are
 *   for headings, not initials).
 *
 * Two initials, of the first and the last name; one for CJK names, whose family name comes
 * first, and Tibetan ones: two syllables of different names ("김민") read as another person's
 * name. Arabic articles (ال, attached or apart) and the compound names عبد … / أبو … count as
 * Arabic writes them; a Hebrew article written apart (or in הכהן, הלוי) is skipped. A name
 * without any letter gives "".
 */

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Scripts whose initial is the bare letter, without vowel signs, tone marks or points. */
const bareLetter = /^[\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}]/u;
/** Scripts with letter case: their initials are capitals. */
const cased = /^[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}\p{Script=Armenian}]/u;
/** Scripts whose initial is a syllable (CJK family names come first): one initial, not two. */
const oneInitial = /^[\p{Script=Han}\p{Script=Hangul}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Tibetan}]/u;
const tibetan = /^\p{Script=Tibetan}/u;
const arabicLetter = /^\p{Script=Arabic}/u;

/**
 * A grapheme ending in a virama that joins the next consonant into a conjunct. Sinhala's al-lakuna
 * joins only with a zero-width joiner after it (without, it is a visible vowel killer, as in
 * "කමල්"); Tamil's pulli is visible and a consonant with it is a letter of its own (தமிழ்),
 * except in the conjuncts ஸ்ரீ and க்ஷ, written as one ligature.
 */
const joiningVirama = /[\u094D\u09CD\u0A4D\u0ACD\u0B4D\u0C4D\u0CCD\u0D4D]$|\u0DCA\u200D$/u;
const tamilConjunct = /^(?:ஸ்ரீ|க்ஷ)/u;

/** Arabic name parts that begin a compound with the next word: "عبد الرحمن" is one name, Abdulrahman. */
const arabicCompound = new Set(['عبد', 'أبو', 'ابو', 'أبي']);
/** Articles written as a word of their own: Arabic ال, Hebrew ה. They are part of the next name. */
const standaloneArticles = new Set(['ال', 'ה']);
/**
 * Given names that begin with the letters ال without being the article, as they are often typed
 * without their hamza (إلياس, إلهام, ألفت): the alif is then part of the name.
 */
const notArticle = new Set(['الياس', 'الهام', 'الفت', 'الماس']);
/**
 * Hebrew family names that are a noun with the article written solid: HaKohen ("the priest"),
 * HaLevi ("the Levite"). The same families write כהן, לוי: their initial is כ, ל either way.
 */
const hebrewArticleNames = new Set(['הכהן', 'הלוי']);

/** Up to two initials; "" for a value with no letter. */
export function initialsOf(value: string, locale: string): string {
  const parts = nameParts(value);
  const letters = parts.map(initialOf).filter(Boolean);
  const [first, ...rest] = letters;
  if (first === undefined) return '';
  const last = oneInitial.test(first) ? undefined : rest.at(-1);
  const upper = (initial: string) => (cased.test(initial) ? initial.toLocaleUpperCase(locale) : initial);
  if (last === undefined) return upper(first);
  // Two Arabic letters side by side would join into a word ("مع", "with"): a zero-width
  // non-joiner keeps them apart, as the isolated letters a reader takes for initials.
  const joiner = arabicLetter.test(first) && arabicLetter.test(last) ? '\u200C' : '';
  return `${upper(first)}${joiner}${upper(last)}`;
}

/** The words of a name, with Arabic compounds kept together and standalone articles dropped. */
function nameParts(value: string): string[] {
  const words = value.trim().split(/\s+/u).filter(Boolean);
  const parts: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (standaloneArticles.has(word)) continue;
    const next = words[i + 1];
    if (arabicCompound.has(word) && next !== undefined) {
      parts.push(`${word} ${next}`);
      i++;
      continue;
    }
    parts.push(word);
  }
  return parts;
}

/** The initial of one name part, or "" when it has no letter. */
function initialOf(part: string): string {
  const word = withoutArticle(part);
  const graphemes = Array.from(segmenter.segment(word), (s) => s.segment);
  // The first grapheme that starts with a letter: "(Ada)" → A; a Thai or Lao vowel written
  // before its consonant (Logical_Order_Exception: "ใจดี") is not the initial, the consonant is.
  const start = graphemes.findIndex((g) => /^\p{L}/u.test(g) && !/^\p{Logical_Order_Exception}/u.test(g));
  if (start < 0) return '';
  const first = graphemes[start]!;
  if (bareLetter.test(first)) return /\p{L}/u.exec(first)![0];
  if (tibetan.test(first)) return tibetanSyllable(graphemes, start);
  return akshara(graphemes, start);
}

/** The grapheme at `start`, with the consonants a virama joins to it (प्र, ਪ੍ਰੀ, ශ්‍රී, ஸ்ரீ). */
function akshara(graphemes: readonly string[], start: number): string {
  let result = graphemes[start]!;
  for (let i = start + 1; i < graphemes.length; i++) {
    const [previous, next] = [graphemes[i - 1]!, graphemes[i]!];
    const virama = joiningVirama.exec(previous);
    const joins = (virama !== null && /^\p{L}/u.test(next) && sameBlock(virama[0], next)) || tamilConjunct.test(previous + next);
    if (!joins) break;
    result += next;
  }
  return result;
}

/**
 * A Tibetan syllable is written as one unit around its root letter, up to the tsheg (་); its
 * prefix and superscribed letters never stand alone ("བ" of "བསྟན" would read as "ba", another
 * sound): the initial is the whole first syllable.
 */
function tibetanSyllable(graphemes: readonly string[], start: number): string {
  const end = graphemes.findIndex((g, i) => i > start && !/^\p{L}/u.test(g));
  return graphemes.slice(start, end < 0 ? undefined : end).join('');
}

/** The Indic blocks are 128 code points each: a virama joins only consonants of its own script. */
function sameBlock(a: string, b: string): boolean {
  return a.codePointAt(0)! >> 7 === b.codePointAt(0)! >> 7;
}

/**
 * A name part without the article it starts with: Arabic ال attached ("الرحمن" → "رحمن"), the
 * initial of a family is the same with or without it; Hebrew ה joined by a maqaf or hyphen
 * ("ה־לוי") or solid in the family names that are known to carry it (הכהן). Any other Hebrew ה
 * written solid is left alone: it begins many given names (הדס, הלל, הילה) and nothing in the
 * spelling tells the article apart.
 */
function withoutArticle(part: string): string {
  if (part.startsWith('ال') && !notArticle.has(part) && /^ال\p{L}{2}/u.test(part)) return part.slice(2);
  if (/^ה[\u05BE-]\p{L}/u.test(part)) return part.slice(2);
  if (hebrewArticleNames.has(part)) return part.slice(1);
  return part;
}
