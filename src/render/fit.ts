/**
 * The in-page runtime, sent as a string: it runs inside Chromium, so it must be plain
 * JavaScript that no transpiler rewrites (esbuild's name-keeping helpers do not exist there).
 *
 * settle(options):
 *  1. morphs the live <body> into the new one when given (a warm page keeps its fonts, styles
 *     and the raster of everything the record did not change),
 *  2. waits for fonts and every <img> to be decoded — never a fixed sleep or network idle,
 *  3. shrinks each [data-fit] element until it fits its box (binary search on font-size,
 *     at most 8 steps, never below its --fit-min, default 14px),
 *  4. measures every [data-field] element and reports overflow in CSS px,
 *  5. when asked (once per document and process), lists the document's @font-face rules for
 *     the glyph coverage check (glyphCoverage.ts).
 */
import type { PageFontFace } from './glyphCoverage.js';

export interface FieldOverflow {
  readonly field: string;
  readonly px: number;
}

/** The font size a fitted field ended at, and its minimum (--fit-min), in CSS px. */
export interface FittedText {
  readonly field: string;
  readonly px: number;
  readonly minPx: number;
}

export interface SettleReport {
  readonly overflow: readonly FieldOverflow[];
  /** Every [data-fit] element bound to a field, after fitting; only when asked (Pipeline.measure). */
  readonly fitted?: readonly FittedText[];
  readonly brokenImages: readonly string[];
  /** URLs the document's Content-Security-Policy refused (off-origin requests). */
  readonly violations: readonly string[];
  /** The document's font faces, when requested. */
  readonly faces?: readonly PageFontFace[];
}

export const settleScript = String.raw`async (options) => {
  // Morph the live body into the new one: only nodes and attributes that differ change, so
  // Chromium repaints only what the record changed instead of the whole canvas.
  const morph = (from, to) => {
    if (from.nodeType !== 1) {
      if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
      return;
    }
    for (const attr of Array.from(from.attributes)) if (!to.hasAttribute(attr.name)) from.removeAttribute(attr.name);
    for (const attr of Array.from(to.attributes)) if (from.getAttribute(attr.name) !== attr.value) from.setAttribute(attr.name, attr.value);
    const next = Array.from(to.childNodes);
    for (let i = 0; i < next.length; i++) {
      const current = from.childNodes[i];
      if (current && current.nodeType === next[i].nodeType && current.nodeName === next[i].nodeName) morph(current, next[i]);
      else if (current) from.replaceChild(document.adoptNode(next[i]), current);
      else from.appendChild(document.adoptNode(next[i]));
    }
    while (from.childNodes.length > next.length) from.removeChild(from.lastChild);
  };
  if (options.body !== undefined) {
    const parsed = new DOMParser().parseFromString('<!doctype html><html><head></head>' + options.body + '</html>', 'text/html');
    morph(document.body, parsed.body);
  }
  // Layout first: fonts.ready only covers faces that layout has already asked for.
  void document.body.offsetHeight;
  await document.fonts.ready;
  const brokenImages = [];
  await Promise.all(Array.from(document.images, async (img) => {
    try {
      if (!img.complete) await new Promise((resolve) => { img.addEventListener('load', resolve, { once: true }); img.addEventListener('error', resolve, { once: true }); });
      await img.decode();
    } catch {
      brokenImages.push(img.closest('[data-field]')?.getAttribute('data-field') || img.getAttribute('alt') || 'img');
    }
  }));
  // scrollHeight includes the first font's full ascent+descent, which exceeds a tight
  // line-height by a few px at any length; allow a fifth of the font size vertically.
  const slack = (el) => Math.max(1, 0.2 * parseFloat(getComputedStyle(el).fontSize));
  const fits = (el) => el.scrollWidth <= el.clientWidth + 0.5 && el.scrollHeight <= el.clientHeight + slack(el);
  for (const el of document.querySelectorAll('[data-fit]')) {
    if (fits(el)) continue;
    const start = parseFloat(getComputedStyle(el).fontSize);
    // One minimum for CSS and script: --fit-min, registered in fit.css so it computes to px.
    const min = parseFloat(getComputedStyle(el).getPropertyValue('--fit-min')) || 14;
    let lo = Math.min(min, start), hi = start;
    for (let i = 0; i < 8 && hi - lo > 0.5; i++) {
      const mid = (lo + hi) / 2;
      el.style.fontSize = mid + 'px';
      if (fits(el)) lo = mid; else hi = mid;
    }
    el.style.fontSize = lo + 'px';
  }
  // Read back only for preflight's measure: a normal render does not pay for the styles.
  const fitted = options.fitted ? [] : undefined;
  if (fitted) for (const el of document.querySelectorAll('[data-fit][data-field]')) {
    const style = getComputedStyle(el);
    fitted.push({ field: el.getAttribute('data-field'), px: parseFloat(style.fontSize), minPx: parseFloat(style.getPropertyValue('--fit-min')) || 14 });
  }
  await document.fonts.ready;
  const overflow = [];
  const viewportWidth = document.documentElement.clientWidth;
  const viewportHeight = document.documentElement.clientHeight;
  for (const el of document.querySelectorAll('[data-field]')) {
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 && rect.height === 0) continue;
    const px = Math.max(
      el.scrollWidth - el.clientWidth,
      el.scrollHeight - el.clientHeight - slack(el) + 1,
      rect.right - viewportWidth,
      rect.bottom - viewportHeight,
      -rect.left,
      -rect.top,
    );
    if (px > 1) overflow.push({ field: el.getAttribute('data-field'), px: Math.round(px) });
  }
  const violations = window.__mergeshotViolations || [];
  window.__mergeshotViolations = [];
  if (!options.faces) return { overflow, fitted, brokenImages, violations };
  // Every @font-face the document declares, through @import, @media and @layer blocks.
  const faces = [];
  // A refused off-origin stylesheet has no readable rules (and no faces the page could use).
  const rulesOf = (sheet) => { try { return sheet.cssRules; } catch { return []; } };
  const visit = (rules, base) => {
    for (const rule of rules) {
      if (rule instanceof CSSImportRule) {
        if (rule.styleSheet) visit(rulesOf(rule.styleSheet), rule.styleSheet.href || base);
      } else if (rule instanceof CSSFontFaceRule) {
        const url = /url\(\s*(['"]?)([^'")]+)\1\s*\)/.exec(rule.style.getPropertyValue('src'));
        if (!url) continue;
        const src = new URL(url[2], base);
        faces.push({
          family: rule.style.getPropertyValue('font-family').replace(/^['"]|['"]$/g, ''),
          unicodeRange: rule.style.getPropertyValue('unicode-range'),
          src: src.protocol === 'data:' ? src.href : src.pathname,
        });
      } else if (rule.cssRules) {
        visit(rule.cssRules, base);
      }
    }
  };
  for (const sheet of document.styleSheets) visit(rulesOf(sheet), sheet.href || document.baseURI);
  return { overflow, fitted, brokenImages, violations, faces };
}`;
