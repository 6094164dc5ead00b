/**
 * The opt-in inspection of a rendered page (`mergeshot check`), run only when a render request
 * asks for it, after the image was captured: it reads layout and never writes it, so the capture
 * of an inspected render has the same pixels as any other. In-page code is plain JavaScript
 * sent as a string, like the settle script (fit.ts).
 *
 * inspectScript(values) measures every visible text node of the body, not only [data-field]
 * elements, and maps each to its field: the nearest [data-field] ancestor, else the field whose
 * value the text holds. It returns numbers and field names, never the text itself (personal
 * data stays in the page):
 *   overflowPx  how far the visible text reaches outside its box (nearest non-inline ancestor),
 *   canvasPx    how far it reaches outside the canvas,
 *   clippedPx   how much of it an `overflow: hidden` ancestor hides, other than one that shows
 *               the cut (text-overflow: ellipsis, line-clamp): that truncation is designed,
 * and for every [data-fit] element the fitted font size against its --fit-min, and the box of
 * every QR code or barcode (codes.ts) so check can crop and decode it from the encoded image.
 *
 * transparentScript(indices) makes the text of those nodes transparent through a CSS custom
 * highlight (no DOM or layout change), so a second capture shows what is behind the glyphs;
 * cleanupScript removes it all.
 */

export interface InspectedText {
  /** Position in document order, for transparentScript. */
  readonly index: number;
  /** The field the text shows, or null for the template's own copy. */
  readonly field: string | null;
  readonly fontSize: number;
  readonly bold: boolean;
  /** The painted fill colour, 0–255 RGBA; alpha includes the opacity of the ancestors. */
  readonly colour: readonly [number, number, number, number];
  readonly overflowPx: number;
  readonly canvasPx: number;
  readonly clippedPx: number;
  /** Union of the text's line boxes, in CSS px. */
  readonly rect: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
}

export interface InspectedFit {
  readonly field: string | null;
  readonly fontSize: number;
  readonly minPx: number;
}

/** A QR code or barcode (`[data-mergeshot-code]`): its SVG's box in CSS px, by its index. */
export interface InspectedCode {
  readonly index: number;
  readonly rect: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
}

export interface PageMeasurement {
  readonly texts: readonly InspectedText[];
  readonly fits: readonly InspectedFit[];
  readonly codes: readonly InspectedCode[];
}

/** One capture with the text of a field (null: the template's copy) made transparent. */
export interface TransparentLayer {
  readonly field: string | null;
  /** The captured region in CSS px (the text's boxes, padded): only what can change. */
  readonly clip: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  /** PNG of the clip at the render's scale. */
  readonly image: Buffer;
}

export interface PageInspection extends PageMeasurement {
  /** Lossless capture of the page as rendered (PNG), the reference for the layers. */
  readonly base: Buffer;
  readonly layers: readonly TransparentLayer[];
}

export const inspectScript = String.raw`(values) => {
  const vw = document.documentElement.clientWidth;
  const vh = document.documentElement.clientHeight;
  const boxOf = (el) => {
    for (let at = el; at && at !== document.body; at = at.parentElement) {
      const display = getComputedStyle(at).display;
      if (display !== 'inline' && display !== 'contents') return at;
    }
    return document.body;
  };
  // Clipping ancestors below <body>: the canvas edge is measured apart (canvasPx).
  const clipsOf = (el) => {
    const clips = [];
    for (let at = el; at && at !== document.body && at !== document.documentElement; at = at.parentElement) {
      const style = getComputedStyle(at);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const r = at.getBoundingClientRect();
      const left = r.left + at.clientLeft, top = r.top + at.clientTop;
      const clamp = style.getPropertyValue('-webkit-line-clamp');
      clips.push({ left, top, right: left + at.clientWidth, bottom: top + at.clientHeight, designed: style.textOverflow === 'ellipsis' || (clamp !== '' && clamp !== 'none') });
    }
    return clips;
  };
  const fieldOf = (node) => {
    const marked = node.parentElement.closest('[data-field]');
    if (marked) return marked.getAttribute('data-field');
    const text = node.nodeValue.trim();
    let best = null, length = 0;
    for (const [field, value] of values) {
      if ((value === text || (value.length >= 3 && text.includes(value))) && value.length > length) { best = field; length = value.length; }
    }
    return best;
  };
  // Any CSS colour syntax (color-mix(), oklch()…) to RGBA bytes, through a 1×1 canvas.
  const paint = document.createElement('canvas').getContext('2d', { willReadFrequently: true });
  const rgba = (colour, opacity) => {
    paint.clearRect(0, 0, 1, 1);
    paint.fillStyle = colour;
    paint.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = paint.getImageData(0, 0, 1, 1).data;
    return [r, g, b, Math.round(a * opacity)];
  };
  const opacityOf = (el) => {
    let opacity = 1;
    for (let at = el; at; at = at.parentElement) opacity *= parseFloat(getComputedStyle(at).opacity);
    return opacity;
  };
  const nodes = [];
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.nodeValue.trim() || !node.parentElement || node.parentElement.closest('style,script,noscript,template,title,svg')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0 && r.height > 0);
    if (rects.length === 0) continue;
    const style = getComputedStyle(node.parentElement);
    if (style.visibility !== 'visible') continue;
    const fontSize = parseFloat(style.fontSize);
    const slack = Math.max(1, 0.2 * fontSize);
    const box = boxOf(node.parentElement).getBoundingClientRect();
    const clips = clipsOf(node.parentElement);
    let overflowPx = 0, canvasPx = 0, clippedPx = 0;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const r of rects) {
      let left = r.left, top = r.top, right = r.right, bottom = r.bottom;
      for (const clip of clips) {
        if (!clip.designed) clippedPx = Math.max(clippedPx, clip.left - left, right - clip.right, clip.top - top - slack, bottom - clip.bottom - slack);
        left = Math.max(left, clip.left); top = Math.max(top, clip.top); right = Math.min(right, clip.right); bottom = Math.min(bottom, clip.bottom);
      }
      if (right <= left || bottom <= top) continue;
      overflowPx = Math.max(overflowPx, box.left - left, right - box.right, box.top - top - slack, bottom - box.bottom - slack);
      canvasPx = Math.max(canvasPx, -left, right - vw, -top - slack, bottom - vh - slack);
      x0 = Math.min(x0, left); y0 = Math.min(y0, top); x1 = Math.max(x1, right); y1 = Math.max(y1, bottom);
    }
    if (x1 <= x0 && clippedPx <= 0) continue;
    nodes.push(node);
    texts.push({
      index: nodes.length - 1,
      field: fieldOf(node),
      fontSize,
      bold: parseFloat(style.fontWeight) >= 700,
      colour: rgba(style.webkitTextFillColor || style.color, opacityOf(node.parentElement)),
      overflowPx: Math.round(overflowPx),
      canvasPx: Math.round(canvasPx),
      clippedPx: Math.round(clippedPx),
      rect: x1 > x0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : { x: 0, y: 0, width: 0, height: 0 },
    });
  }
  const fits = [];
  for (const el of document.querySelectorAll('[data-fit]')) {
    const style = getComputedStyle(el);
    fits.push({ field: el.getAttribute('data-field'), fontSize: parseFloat(style.fontSize), minPx: parseFloat(style.getPropertyValue('--fit-min')) || 14 });
  }
  const codes = [];
  for (const el of document.querySelectorAll('[data-mergeshot-code]')) {
    const svg = el.querySelector('svg');
    const r = (svg || el).getBoundingClientRect();
    if (r.width > 0 && r.height > 0) codes.push({ index: Number(el.getAttribute('data-code-index')), rect: { x: r.left, y: r.top, width: r.width, height: r.height } });
  }
  window.__mergeshotInspect = nodes;
  return { texts, fits, codes };
}`;

const highlightStyle =
  '::highlight(mergeshot-inspect) { color: transparent; -webkit-text-fill-color: transparent; -webkit-text-stroke-color: transparent; text-shadow: none; text-decoration-color: transparent; }';

export const transparentScript = String.raw`(indices) => {
  if (!document.getElementById('mergeshot-inspect')) {
    const style = document.createElement('style');
    style.id = 'mergeshot-inspect';
    style.textContent = ${JSON.stringify(highlightStyle)};
    document.head.appendChild(style);
  }
  const highlight = new Highlight();
  for (const index of indices) {
    const range = document.createRange();
    range.selectNodeContents(window.__mergeshotInspect[index]);
    highlight.add(range);
  }
  CSS.highlights.set('mergeshot-inspect', highlight);
}`;

export const cleanupScript = String.raw`() => {
  CSS.highlights.delete('mergeshot-inspect');
  document.getElementById('mergeshot-inspect')?.remove();
  delete window.__mergeshotInspect;
}`;
