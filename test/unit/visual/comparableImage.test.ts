import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { comparableImage, describeTolerance, toleranceOf } from '../../../src/visual/index.js';

const white = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: '#ffffff' } }).png().toBuffer();

async function rgbAt(image: Buffer, x: number, y: number): Promise<number[]> {
  return [...(await sharp(image).extract({ left: x, top: y, width: 1, height: 1 }).removeAlpha().raw().toBuffer())];
}

describe('comparableImage', () => {
  it('is the shipped bytes themselves for an unmasked PNG', async () => {
    const bytes = await white(40, 20);
    expect(await comparableImage({ bytes, format: 'png', width: 40 }, 40, [])).toBe(bytes);
  });

  it('paints masks magenta, scaled from CSS pixels to the output (a 2× render)', async () => {
    const bytes = await white(80, 40);
    const image = await comparableImage({ bytes, format: 'png', width: 80 }, 40, [{ x: 10, y: 5, width: 5, height: 5 }]);
    expect(await rgbAt(image, 20, 10)).toEqual([255, 0, 255]);
    expect(await rgbAt(image, 29, 19)).toEqual([255, 0, 255]);
    expect(await rgbAt(image, 30, 20)).toEqual([255, 255, 255]);
    expect(await rgbAt(image, 19, 10)).toEqual([255, 255, 255]);
  });

  it('stores a JPEG render’s pixels as a lossless PNG', async () => {
    const bytes = await sharp({ create: { width: 16, height: 8, channels: 3, background: '#336699' } }).jpeg().toBuffer();
    const image = await comparableImage({ bytes, format: 'jpeg', width: 16 }, 16, []);
    expect(image.subarray(1, 4).toString()).toBe('PNG');
    expect((await sharp(image).raw().toBuffer()).equals(await sharp(bytes).raw().toBuffer())).toBe(true);
  });
});

describe('tolerance', () => {
  it('is exact by default and printed as the suite prints it', () => {
    expect(toleranceOf({})).toEqual({ maxDiffPixels: 0, threshold: 0 });
    expect(describeTolerance(toleranceOf({}), [])).toBe('exact (maxDiffPixels 0, threshold 0), no masks; set in template.json check.visual');
    expect(toleranceOf({ maxDiffPixels: 10, maxDiffPixelRatio: 0.01 })).toEqual({ maxDiffPixels: 10, threshold: 0, maxDiffPixelRatio: 0.01 });
    expect(describeTolerance(toleranceOf({ threshold: 0.1 }), [{ x: 40, y: 500, width: 300, height: 40 }])).toBe('tolerant (maxDiffPixels 0, threshold 0.1), masks 300×40@40,500; set in template.json check.visual');
  });
});

