import type { Manifest } from '../template/index.js';

export interface CheckRecord {
  /** A sample's name, or `generated:<case>` for the edge cases below. */
  readonly name: string;
  readonly data: Readonly<Record<string, unknown>>;
}

const longText = 'Wolfeschlegelsteinhausen Maximiliana Bartholomäus-Winterbottom ';
const rtl = 'محمد عبد الرحمن بن عبد العزيز الهاشمي، حي دبي للتصميم ';
const cjk = '山田 太郎 東京都千代田区丸の内一丁目 株式会社 ';
/** A ZWJ family, a profession with a skin tone, a flag sequence, a thumb with a skin tone. */
const emoji = 'Zoë 👩🏽‍💻 👨‍👩‍👧‍👦 🏳️‍🌈 👍🏿 ';
const brokenImage = 'data:image/png;base64,bm90IGFuIGltYWdl';

/**
 * The ugly records every template meets sooner or later, on top of its own samples: every
 * field at its maxLength, every field missing, right-to-left, CJK, emoji with ZWJ sequences and
 * skin tones, an unreplaced merge tag, and an image that fails. Non-text fields keep the first
 * sample's values (else their fallbacks), so each case changes one thing.
 */
export function edgeCases(manifest: Manifest, defaultMaxLength: number): CheckRecord[] {
  const fields = Object.entries(manifest.fields);
  const base: Readonly<Record<string, unknown>> = Object.values(manifest.samples ?? {})[0] ?? {};
  const textOf = (pattern: string, maxLength: number) => {
    const graphemes = Array.from(new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(pattern.repeat(Math.ceil(maxLength / 8) + 1)), (s) => s.segment);
    return graphemes.slice(0, maxLength).join('').trim();
  };
  const withText = (make: (maxLength: number) => string) =>
    Object.fromEntries(fields.map(([name, spec]) => [name, spec.type === 'text' ? make(spec.maxLength ?? defaultMaxLength) : base[name]]));
  const cases: CheckRecord[] = [
    {
      name: 'generated:max-length',
      data: Object.fromEntries(
        fields.map(([name, spec]) => {
          if (spec.type === 'text') return [name, textOf(longText, spec.maxLength ?? defaultMaxLength)];
          if (spec.type === 'enum') return [name, [...(spec.values ?? [])].sort((a, b) => b.length - a.length)[0]];
          if (spec.type === 'number') return [name, 9_999_999.99];
          if (spec.type === 'date') return [name, '2025-09-30'];
          if (spec.type === 'boolean') return [name, true];
          return [name, base[name]];
        }),
      ),
    },
    { name: 'generated:missing', data: Object.fromEntries(fields.map(([name]) => [name, ''])) },
    { name: 'generated:rtl', data: withText((max) => textOf(rtl, Math.min(max, 40))) },
    { name: 'generated:cjk', data: withText((max) => textOf(cjk, Math.min(max, 24))) },
    { name: 'generated:emoji', data: withText((max) => textOf(emoji, Math.min(max, 16))) },
    { name: 'generated:merge-tag', data: Object.fromEntries(fields.map(([name, spec]) => [name, spec.type === 'text' || spec.type === 'enum' ? `*|${name.toUpperCase()}|*` : base[name]])) },
  ];
  if (fields.some(([, spec]) => spec.type === 'image')) {
    cases.push({ name: 'generated:image-failed', data: Object.fromEntries(fields.map(([name, spec]) => [name, spec.type === 'image' ? brokenImage : base[name]])) });
  }
  return cases;
}
