import { readFile } from 'node:fs/promises';
import * as fontkit from 'fontkit';
import { LRUCache } from 'lru-cache';

/**
 * Which characters of a text no font of the page can draw: they would render as boxes
 * ("tofu"), so the render reports them (`missing-glyph:<field>`) instead of shipping them
 * silently.
 *
 * The page lists its @font-face rules (family, unicode-range, source) after it loaded; a code
 * point is covered when a face's unicode-range contains it and the face's font file really
 * has a glyph for it (a range is only a hint: Inter's Latin range lists U+2000–206F, the font
 * does not have all of them), or when Chromium's own fallback fonts have it (systemFonts.ts).
 * Fonts are read through the render's resource handler, so a template's own fonts count too.
 */
export interface PageFontFace {
  readonly family: string;
  /** As the page serialises it ("U+0-FF, U+131"); empty means every code point. */
  readonly unicodeRange: string;
  /** Same-origin path of the first url() source, or a data: URL. */
  readonly src: string;
}

/** Loads a font file the page would load, or undefined when the page could not get it either. */
export type FontLoader = (src: string) => Promise<Buffer | undefined>;

export interface GlyphCoverageOptions {
  /** Font files Chromium falls back to when no face has a character. */
  readonly systemFonts: readonly string[];
}

type Ranges = readonly (readonly [number, number])[];

interface DocumentFaces {
  readonly faces: readonly { readonly src: string; readonly ranges: Ranges }[];
  /** Answers already worked out for this document, per code point. */
  readonly known: Map<number, boolean>;
}

/** Characters that draw nothing and need no glyph: spaces, controls, joiners, variation selectors, tags. */
const needsNoGlyph = /^[\s\p{Cc}\p{Default_Ignorable_Code_Point}]$/u;

export class GlyphCoverage {
  readonly #systemFonts: readonly string[];
  #system: Promise<ReadonlySet<number>> | undefined;
  /** Code points of each font file, by the file's bytes (a template edit brings new bytes). */
  readonly #fonts = new WeakMap<Buffer, ReadonlySet<number>>();
  readonly #documents = new LRUCache<string, DocumentFaces>({ max: 64 });

  constructor(options: GlyphCoverageOptions) {
    this.#systemFonts = options.systemFonts;
  }

  /** Whether the faces of this document are known (else the next render asks its page for them). */
  knows(documentKey: string): boolean {
    return this.#documents.has(documentKey);
  }

  /**
   * The code points of `text` that no face of the document nor a fallback font covers, in
   * order of first appearance. `faces` are the document's faces when its page just listed
   * them; a document whose faces are not known (never listed) reports nothing rather than guess.
   */
  async uncovered(documentKey: string, faces: readonly PageFontFace[] | undefined, text: string, load: FontLoader): Promise<number[]> {
    let document = this.#documents.get(documentKey);
    if (!document && faces) {
      document = { faces: faces.map((face) => ({ src: face.src, ranges: parseUnicodeRange(face.unicodeRange) })), known: new Map() };
      this.#documents.set(documentKey, document);
    }
    if (!document) return [];
    const missing: number[] = [];
    for (const char of new Set(text)) {
      if (needsNoGlyph.test(char)) continue;
      const codePoint = char.codePointAt(0)!;
      let covered = document.known.get(codePoint);
      if (covered === undefined) {
        covered = await this.#covers(document, codePoint, load);
        document.known.set(codePoint, covered);
      }
      if (!covered) missing.push(codePoint);
    }
    return missing;
  }

  async #covers(document: DocumentFaces, codePoint: number, load: FontLoader): Promise<boolean> {
    for (const face of document.faces) {
      if (!face.ranges.some(([from, to]) => codePoint >= from && codePoint <= to)) continue;
      const codePoints = await this.#codePoints(face.src, load);
      if (codePoints?.has(codePoint)) return true;
    }
    return (await this.#systemCodePoints()).has(codePoint);
  }

  async #codePoints(src: string, load: FontLoader): Promise<ReadonlySet<number> | undefined> {
    const bytes = await load(src);
    if (!bytes) return undefined;
    let codePoints = this.#fonts.get(bytes);
    if (!codePoints) {
      codePoints = fontCodePoints(bytes);
      this.#fonts.set(bytes, codePoints);
    }
    return codePoints;
  }

  #systemCodePoints(): Promise<ReadonlySet<number>> {
    this.#system ??= Promise.all(this.#systemFonts.map((file) => readFile(file).then(fontCodePoints, () => new Set<number>()))).then(
      (sets) => new Set(sets.flatMap((set) => [...set])),
    );
    return this.#system;
  }
}

/** The code points a font file maps to a glyph; empty for a file fontkit cannot read (the page could not use it either). */
function fontCodePoints(bytes: Buffer): ReadonlySet<number> {
  try {
    const font = fontkit.create(bytes);
    const fonts = 'fonts' in font ? font.fonts : [font];
    return new Set(fonts.flatMap((one) => one.characterSet));
  } catch {
    return new Set();
  }
}

/** CSS unicode-range ("U+0-FF, U+131, U+4??") → inclusive ranges; empty means all of Unicode. */
export function parseUnicodeRange(value: string): Ranges {
  const ranges: [number, number][] = [];
  for (const part of value.split(',')) {
    const match = /^\s*u\+([0-9a-f?]{1,6})(?:-([0-9a-f]{1,6}))?\s*$/i.exec(part);
    if (!match) continue;
    const [, start = '', end] = match;
    if (start.includes('?')) ranges.push([parseInt(start.replace(/\?/g, '0'), 16), parseInt(start.replace(/\?/g, 'f'), 16)]);
    else ranges.push([parseInt(start, 16), end ? parseInt(end, 16) : parseInt(start, 16)]);
  }
  return ranges.length > 0 || value.trim() !== '' ? ranges : [[0, 0x10ffff]];
}

/** "U+E000, U+10FFFD": how a warning names characters without quoting the value. */
export function formatCodePoints(codePoints: readonly number[], max = 8): string {
  const named = codePoints.slice(0, max).map((cp) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`);
  return codePoints.length > max ? `${named.join(', ')} and ${codePoints.length - max} more` : named.join(', ');
}
