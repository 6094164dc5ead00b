import { describe, expect, it } from 'vitest';
import { encodeWithinBudget, type Attempt } from '../../../src/encode/budget.js';
import { builtInPresets, presetSchema, type Preset, type PresetInput } from '../../../src/encode/index.js';

/**
 * The search logic against a size model instead of sharp: fast, exact, and it lets the tests pin
 * how many encodes each path costs (encodes are what the budget spends).
 */
function modelEncoder(size: (attempt: Attempt) => number) {
  const attempts: Attempt[] = [];
  const encode = async (attempt: Attempt): Promise<Buffer> => {
    attempts.push(attempt);
    return Buffer.alloc(size(attempt));
  };
  return { attempts, encode };
}

/** JPEG-like: bytes grow exponentially with quality (q82 ≈ 237 KB, q35 ≈ 10 KB). */
const jpegLike = (attempt: Attempt) => Math.round(1000 * Math.exp(attempt.quality! / 15));

function preset(input: PresetInput): Preset {
  return presetSchema.parse(input);
}

describe('encodeWithinBudget: quality search (JPEG, WebP)', () => {
  it('encodes once at the preset quality when there is no budget', async () => {
    const { attempts, encode } = modelEncoder(jpegLike);
    const result = await encodeWithinBudget(preset({ format: 'jpeg', quality: 82 }), encode);
    expect(attempts).toEqual([{ quality: 82, palette: false }]);
    expect(result).toMatchObject({ encodes: 1, warnings: [], attempt: { quality: 82 } });
  });

  it("uses sharp's default quality when the preset sets none", async () => {
    const { attempts, encode } = modelEncoder(jpegLike);
    await encodeWithinBudget(preset({ format: 'webp' }), encode);
    expect(attempts).toEqual([{ quality: 80, palette: false }]);
  });

  it('encodes once when the first result fits', async () => {
    const { attempts, encode } = modelEncoder(() => 150_000);
    const result = await encodeWithinBudget(builtInPresets.email, encode);
    expect(attempts).toHaveLength(1);
    expect(result.warnings).toEqual([]);
  });

  it('finds a quality within 2 points of the best that fits, in at most 6 encodes', async () => {
    const { attempts, encode } = modelEncoder(jpegLike);
    const result = await encodeWithinBudget(preset({ format: 'jpeg', quality: 82, maxBytes: 60_000 }), encode);
    // 1000·e^(q/15) ≤ 60000 ⇔ q ≤ 61.4
    expect(result.attempt.quality).toBeGreaterThanOrEqual(59);
    expect(result.attempt.quality).toBeLessThanOrEqual(61);
    expect(result.bytes.length).toBeLessThanOrEqual(60_000);
    expect(attempts[0]).toEqual({ quality: 82, palette: false });
    expect(attempts[1]).toEqual({ quality: 35, palette: false });
    expect(result.encodes).toBe(attempts.length);
    expect(attempts.length).toBeLessThanOrEqual(6);
    expect(result.warnings).toEqual([]);
  });

  it('stops at the encode cap with the best fit so far when sizes are not smooth', async () => {
    const { attempts, encode } = modelEncoder((attempt) => (attempt.quality! > 40 ? 1_000_000 : 100));
    const result = await encodeWithinBudget(preset({ format: 'webp', quality: 90, maxBytes: 1_000 }), encode);
    expect(attempts.length).toBeLessThanOrEqual(6);
    expect(result.bytes.length).toBeLessThanOrEqual(1_000);
    expect(result.attempt.quality).toBeLessThanOrEqual(40);
  });

  it('returns the floor quality with a warning after two encodes when even the floor is over', async () => {
    const { attempts, encode } = modelEncoder(jpegLike);
    const result = await encodeWithinBudget(preset({ format: 'jpeg', quality: 82, maxBytes: 5_000 }), encode);
    expect(attempts.map((attempt) => attempt.quality)).toEqual([82, 35]);
    expect(result.attempt.quality).toBe(35);
    expect(result.warnings).toEqual([
      {
        code: 'over-budget',
        message: `10312 bytes, budget 5000; smallest found: jpeg at quality 35, at the preset's dimensions. Use simpler imagery, a smaller width, or raise maxBytes.`,
      },
    ]);
  });

  it('does not search below a preset quality that is already under the floor', async () => {
    const { attempts, encode } = modelEncoder(jpegLike);
    const result = await encodeWithinBudget(preset({ format: 'jpeg', quality: 30, maxBytes: 1_000 }), encode);
    expect(attempts).toEqual([{ quality: 30, palette: false }]);
    expect(result.warnings[0]?.message).toMatch(/^7389 bytes, budget 1000; smallest found: jpeg at quality 30,/);
  });
});

describe('encodeWithinBudget: palette PNG', () => {
  // Measured shape on a 1200×630 design: dithering less shrinks it, then lower quality without dithering.
  const paletteSizes = new Map([
    ['90/1', 90_000],
    ['90/0.5', 80_000],
    ['90/0', 71_000],
    ['70/0', 46_000],
    ['50/0', 39_000],
  ]);
  const paletteLike = (truecolour: number, scale = 1) => (attempt: Attempt) =>
    attempt.palette ? paletteSizes.get(`${attempt.quality}/${attempt.dither}`)! * scale : truecolour;

  it('walks the ladder to the first rung that fits, in at most 4 encodes', async () => {
    const { attempts, encode } = modelEncoder(paletteLike(200_000));
    const result = await encodeWithinBudget(preset({ format: 'png', palette: true, quality: 90, maxBytes: 75_000 }), encode);
    expect(attempts[0]).toEqual({ quality: 90, palette: true, dither: 1 });
    expect(attempts[1]).toEqual({ quality: 50, palette: true, dither: 0 });
    expect(result.attempt).toEqual({ quality: 90, palette: true, dither: 0 });
    expect(attempts.length).toBeLessThanOrEqual(4);
    expect(result.warnings).toEqual([]);
  });

  it('tries truecolour when no rung fits, and keeps the palette when it is smaller', async () => {
    // Ten times the measured sizes: a photo-like capture that no rung fits into 200 KB.
    const { attempts, encode } = modelEncoder(paletteLike(2_000_000, 10));
    const result = await encodeWithinBudget(builtInPresets['email-png'], encode);
    expect(attempts.map((attempt) => attempt.palette)).toEqual([true, true, false]);
    expect(result.attempt).toEqual({ quality: 50, palette: true, dither: 0 });
    expect(result.warnings[0]?.message).toBe(
      "390000 bytes, budget 200000; smallest found: palette png at quality 50 without dithering, at the preset's dimensions. Use simpler imagery, a smaller width, or raise maxBytes. For photographic content a JPEG preset fits where PNG cannot.",
    );
  });

  it('falls back to truecolour when it is smaller than every palette tried', async () => {
    const { encode } = modelEncoder(paletteLike(30_000));
    const result = await encodeWithinBudget(preset({ format: 'png', palette: true, quality: 90, maxBytes: 20_000 }), encode);
    expect(result.attempt).toEqual({ palette: false });
    expect(result.bytes.length).toBe(30_000);
    expect(result.warnings[0]?.message).toMatch(/^30000 bytes, budget 20000; smallest found: truecolour png \(smaller than the palette at its lowest setting\)/);
  });
});

describe('encodeWithinBudget: lossless output', () => {
  it('encodes once and does not warn within budget', async () => {
    const { attempts, encode } = modelEncoder(() => 500);
    const result = await encodeWithinBudget(preset({ format: 'png', maxBytes: 1_000 }), encode);
    expect(attempts).toEqual([{ palette: false }]);
    expect(result.warnings).toEqual([]);
  });

  it('only warns when over: there is no quality to trade', async () => {
    const { attempts, encode } = modelEncoder(() => 5_000);
    const result = await encodeWithinBudget(preset({ format: 'webp', lossless: true, maxBytes: 1_000 }), encode);
    expect(attempts).toHaveLength(1);
    expect(result.warnings).toEqual([
      { code: 'over-budget', message: '5000 bytes, budget 1000; lossless webp has no quality to trade for size; set "lossless": false, or raise maxBytes.' },
    ]);
  });
});
