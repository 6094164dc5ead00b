import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { compareWithGolden } from '../../../src/visual/index.js';

const exact = { maxDiffPixels: 0, threshold: 0 };

/** A width × height PNG, white but for the pixels `paint` colours. */
function png(width: number, height: number, paint: (x: number, y: number) => [number, number, number] | undefined = () => undefined): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 4, 255);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const colour = paint(x, y);
    if (colour) data.set(colour, (y * width + x) * 4);
  }
  return sharp(data, { raw: { width, height, channels: 4 } }).png().toBuffer();
}

async function rgbAt(image: Buffer, x: number, y: number): Promise<number[]> {
  return [...(await sharp(image).extract({ left: x, top: y, width: 1, height: 1 }).removeAlpha().raw().toBuffer())];
}

describe('compareWithGolden (Playwright’s comparator)', () => {
  it('matches the same pixels, even in other bytes (another PNG encoding)', async () => {
    const golden = await png(20, 10);
    const reencoded = await sharp(golden).png({ compressionLevel: 0 }).toBuffer();
    expect(reencoded.equals(golden)).toBe(false);
    expect(compareWithGolden(reencoded, golden, exact)).toEqual({ matches: true });
  });

  it('counts changed pixels, says so in Playwright’s words and paints them red in the diff', async () => {
    const golden = await png(20, 10);
    const actual = await png(20, 10, (x, y) => (x < 3 && y < 2 ? [0, 0, 0] : undefined));
    const result = compareWithGolden(actual, golden, exact);
    expect(result.matches).toBe(false);
    expect(result.diffPixels).toBe(6);
    expect(result.message).toBe('6 pixels (ratio 0.03 of all image pixels) are different.');
    expect(await rgbAt(result.diff!, 0, 0)).toEqual([255, 0, 0]);
    expect(await rgbAt(result.diff!, 10, 5)).not.toEqual([255, 0, 0]);
  });

  it('applies maxDiffPixels, maxDiffPixelRatio and threshold as toMatchSnapshot does', async () => {
    const golden = await png(20, 10);
    const actual = await png(20, 10, (x, y) => (x < 3 && y < 2 ? [0, 0, 0] : undefined));
    const faint = await png(20, 10, (x, y) => (x < 3 && y < 2 ? [250, 250, 250] : undefined));
    expect(compareWithGolden(actual, golden, { maxDiffPixels: 6, threshold: 0 }).matches).toBe(true);
    expect(compareWithGolden(actual, golden, { maxDiffPixels: 5, threshold: 0 }).matches).toBe(false);
    // The smaller of the two limits wins: 0.05 × 200 = 10 pixels, but maxDiffPixels 5.
    expect(compareWithGolden(actual, golden, { maxDiffPixels: 5, threshold: 0, maxDiffPixelRatio: 0.05 }).matches).toBe(false);
    expect(compareWithGolden(faint, golden, exact).matches).toBe(false);
    expect(compareWithGolden(faint, golden, { maxDiffPixels: 0, threshold: 0.2 }).matches).toBe(true);
  });

  it('fails images of another size, with both sizes in the message', async () => {
    const result = compareWithGolden(await png(20, 12), await png(20, 10), exact);
    expect(result.matches).toBe(false);
    expect(result.message).toContain('Expected an image 20px by 10px, received 20px by 12px.');
    expect(result.diff).toBeDefined();
  });
});
