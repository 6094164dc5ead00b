import sharp from 'sharp';

/**
 * Contrast of text with the pixels actually behind it, where CSS alone cannot tell (text over
 * gradients, photos, patterns). Two captures of one render: as rendered, and with the text
 * transparent (a CSS highlight, so nothing moves). The pixels that differ are the glyphs; each
 * one's background is the second capture at that pixel, its text colour the node's painted
 * fill (opacity included), composited over that background. Only pixels at least half covered
 * by the glyph count (projected between background and text colour): the faint anti-aliased
 * rim is not the text. WCAG 2 relative luminance; the ratio of a text is the 5th percentile of
 * its counted pixels (the worst-lit twentieth of its glyphs), so one stray pixel cannot decide.
 */
export interface ContrastMeasure<T extends ContrastText = ContrastText> {
  readonly ratio: number;
  /** Glyph pixels measured. */
  readonly pixels: number;
  readonly text: T;
}

export interface ContrastText {
  readonly rect: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  readonly colour: readonly [number, number, number, number];
}

export interface ContrastLayer {
  readonly clip: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  readonly image: Buffer;
}

interface Raw {
  readonly data: Buffer;
  readonly channels: number;
}

async function raw(png: Buffer): Promise<Raw> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, channels: info.channels };
}

const linear = (value: number) => {
  const c = value / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
};
const linearTable = Array.from({ length: 256 }, (_, v) => linear(v));

export function luminance(r: number, g: number, b: number): number {
  return 0.2126 * linearTable[r]! + 0.7152 * linearTable[g]! + 0.0722 * linearTable[b]!;
}

export function contrastRatio(a: number, b: number): number {
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

/** One measure per text of the layer that has enough glyph pixels (≥ 4) to judge. */
export async function measureContrast<T extends ContrastText>(rendered: Buffer, layer: ContrastLayer, texts: readonly T[]): Promise<ContrastMeasure<T>[]> {
  const back = await raw(layer.image);
  const width = (await sharp(layer.image).metadata()).width;
  const scale = width / layer.clip.width;
  const height = back.data.length / back.channels / width;
  const front = await raw(await sharp(rendered).extract({ left: Math.round(layer.clip.x * scale), top: Math.round(layer.clip.y * scale), width, height }).png().toBuffer());
  if (front.data.length !== back.data.length || front.channels !== back.channels) return [];
  const ratios = new Map<T, number[]>();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * back.channels;
      const f = [front.data[i]!, front.data[i + 1]!, front.data[i + 2]!] as const;
      const b = [back.data[i]!, back.data[i + 1]!, back.data[i + 2]!] as const;
      if (f[0] === b[0] && f[1] === b[1] && f[2] === b[2]) continue;
      const cssX = layer.clip.x + (x + 0.5) / scale, cssY = layer.clip.y + (y + 0.5) / scale;
      const text = texts.find(({ rect }) => cssX >= rect.x - 2 && cssX <= rect.x + rect.width + 2 && cssY >= rect.y - 2 && cssY <= rect.y + rect.height + 2);
      if (!text) continue;
      const alpha = text.colour[3] / 255;
      const t = [0, 1, 2].map((c) => alpha * text.colour[c]! + (1 - alpha) * b[c]!) as [number, number, number];
      const span = (t[0] - b[0]) ** 2 + (t[1] - b[1]) ** 2 + (t[2] - b[2]) ** 2;
      const coverage = span < 1 ? 1 : ((f[0] - b[0]) * (t[0] - b[0]) + (f[1] - b[1]) * (t[1] - b[1]) + (f[2] - b[2]) * (t[2] - b[2])) / span;
      if (coverage < 0.5) continue;
      if (!ratios.has(text)) ratios.set(text, []);
      ratios.get(text)!.push(contrastRatio(luminance(Math.round(t[0]), Math.round(t[1]), Math.round(t[2])), luminance(b[0], b[1], b[2])));
    }
  }
  return [...ratios].flatMap(([text, values]) => {
    if (values.length < 4) return [];
    values.sort((a, b) => a - b);
    return [{ ratio: values[Math.floor(values.length * 0.05)]!, pixels: values.length, text }];
  });
}

/** WCAG 2 "large text": 18 pt (24 px), or 14 pt (18.66 px) bold. */
export function isLargeText(fontSize: number, bold: boolean): boolean {
  return fontSize >= 24 || (bold && fontSize >= 18.66);
}
