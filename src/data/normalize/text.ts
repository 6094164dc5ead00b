import type { RenderWarning } from '../../errors/index.js';
import type { Conversion } from '../fallbacks.js';
import { describeValue } from './describeValue.js';

/** Grapheme segmentation is locale-independent in practice; one immutable instance serves all calls. */
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Half of a surrogate pair with no partner: rendered as U+FFFD instead of breaking encoders. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/gu;
/** Line breaks and tabs (and the space around them) become one space: a name is one line. */
const lineBreaks = /\s*[\t\n\v\f\r\u0085\u2028\u2029]\s*/gu;
/**
 * Removed: C0 and C1 controls, U+FEFF left inside a value by concatenated exports, and the bidi
 * overrides LRO/RLO, which can make text display reversed (spoofing). Kept on purpose: ZWJ and
 * ZWNJ (emoji sequences, Persian and Indic shaping), LRM/RLM/ALM and bidi embeddings/isolates,
 * which mixed Arabic/Hebrew and Latin text needs.
 */
const strippedControls = /[\u0000-\u001F\u007F-\u009F\uFEFF\u202D\u202E]/gu;
/** Nothing a reader would see: only spaces and format characters (ZWJ, LRM…). */
const invisibleOnly = /^[\s\p{Cf}]*$/u;

/** NFC, line breaks to spaces, controls removed, trimmed. */
export function cleanText(text: string): string {
  return text.normalize('NFC').replace(loneSurrogate, '\uFFFD').replace(lineBreaks, ' ').replace(strippedControls, '').trim();
}

/**
 * U+FFFD is what a decoder leaves for bytes it could not read (and cleanText for a lone
 * surrogate): the recipient would see a "?" box where the file meant "é".
 */
const replacementCharacter = /\uFFFD/gu;

/** `maxLength` is in user-perceived characters (grapheme clusters). */
export function convertText(field: string, value: unknown, maxLength: number): Conversion {
  const text = textOf(value);
  if (text === undefined) return { kind: 'invalid', expected: 'text', got: describeValue(value) };
  const cleaned = cleanText(text);
  if (invisibleOnly.test(cleaned)) return { kind: 'empty' };
  const warnings = encodingWarnings(field, cleaned);
  // Code units ≥ graphemes, so a short string needs no segmentation.
  if (cleaned.length <= maxLength) return { kind: 'value', value: cleaned, warnings };
  const clusters = Array.from(graphemes.segment(cleaned), (segment) => segment.segment);
  if (clusters.length <= maxLength) return { kind: 'value', value: cleaned, warnings };
  return {
    kind: 'value',
    // Cutting between clusters never splits an emoji ZWJ sequence, a flag or a combining mark.
    value: clusters.slice(0, maxLength).join('').trimEnd(),
    warnings: [...warnings, { code: 'truncated', field, message: `field "${field}": ${clusters.length} characters, cap ${maxLength}; truncated` }],
  };
}

/** One `encoding` warning when the text holds replacement characters; the rows around it may be fine. */
function encodingWarnings(field: string, text: string): RenderWarning[] {
  const count = text.match(replacementCharacter)?.length ?? 0;
  if (count === 0) return [];
  return [
    {
      code: 'encoding',
      field,
      message: `field "${field}": ${count} character${count === 1 ? '' : 's'} could not be decoded (U+FFFD), so part of the data is probably not UTF-8. Save the file as "CSV UTF-8" and run again`,
    },
  ];
}

/** Numbers and booleans from JSON become their usual spelling; objects are not text. */
export function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean') return String(value);
  return undefined;
}
