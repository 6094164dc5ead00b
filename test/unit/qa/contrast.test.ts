import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { contrastRatio, isLargeText, luminance, measureContrast } from '../../../src/qa/index.js';

const png = (width: number, height: number, paint: (x: number, y: number) => [number, number, number]) => {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(paint(x, y), (y * width + x) * 3);
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
};

describe('contrast', () => {
  it('computes WCAG ratios', () => {
    expect(contrastRatio(luminance(0, 0, 0), luminance(255, 255, 255))).toBeCloseTo(21, 5);
    expect(contrastRatio(luminance(118, 118, 118), luminance(255, 255, 255))).toBeCloseTo(4.54, 2);
  });

  it('measures text against the pixels behind its glyphs, over a gradient', async () => {
    // Grey text (#777) across a white → black gradient: fine on the left, unreadable on the right.
    const background = (x: number): [number, number, number] => { const v = Math.round(255 - (x / 99) * 255); return [v, v, v]; };
    const glyph = (x: number, y: number) => y >= 4 && y < 8 && x % 4 < 2;
    const rendered = await png(100, 12, (x, y) => (glyph(x, y) ? [119, 119, 119] : background(x)));
    const behind = await png(100, 12, (x) => background(x));
    const [measure] = await measureContrast(rendered, { clip: { x: 0, y: 0, width: 100, height: 12 }, image: behind }, [{ rect: { x: 0, y: 0, width: 100, height: 12 }, colour: [119, 119, 119, 255] }]);
    expect(measure!.ratio).toBeLessThan(1.2); // the worst-lit glyphs sit on mid grey
    expect(measure!.pixels).toBeGreaterThan(50);
  });

  it('passes dark text on white, measured in a clip of the page', async () => {
    const rendered = await png(50, 20, (x, y) => (x > 20 && x < 30 && y > 5 && y < 15 ? [17, 24, 39] : [255, 255, 255]));
    const behind = await png(20, 20, () => [255, 255, 255]);
    const [measure] = await measureContrast(rendered, { clip: { x: 15, y: 0, width: 20, height: 20 }, image: behind }, [{ rect: { x: 20, y: 5, width: 10, height: 10 }, colour: [17, 24, 39, 255] }]);
    expect(measure!.ratio).toBeGreaterThan(17);
  });

  it('treats 24 px, or 18.66 px bold, as large', () => {
    expect([isLargeText(24, false), isLargeText(23, false), isLargeText(18.66, true), isLargeText(18, true)]).toEqual([true, false, true, false]);
  });
});
