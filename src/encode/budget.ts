import type { RenderWarning } from '../errors/index.js';
import type { Preset } from './presets.js';

/**
 * The byte budget. When a preset sets maxBytes and the first encode is over it, walk the lossy
 * settings down (JPEG/WebP quality; palette PNG dithering, then quantisation quality) for the
 * best setting that fits. Dimensions are never reduced: a preset's width is what its channel
 * displays (email shows 1200 px at 600 CSS px; og must be exactly 1200×630), so an image that
 * cannot fit goes out at its smallest with an `over-budget` warning, and the fix belongs in the
 * template or the preset.
 */

/** One encode's settings. `quality` is undefined for lossless output; `dither` only for palette PNG. */
export interface Attempt {
  readonly quality?: number;
  readonly palette: boolean;
  readonly dither?: number;
}

export type EncodeAttempt = (attempt: Attempt) => Promise<Buffer>;

export interface BudgetResult {
  readonly bytes: Buffer;
  readonly attempt: Attempt;
  /** How many encodes it took, for logs and metrics. */
  readonly encodes: number;
  readonly warnings: readonly RenderWarning[];
}

/**
 * The lowest quality the search goes to. Below 35, JPEG and WebP show blocking on text edges;
 * below 50, a PNG palette loses whole shades of a design's colours. Past these, a smaller file
 * is not worth it.
 */
const qualityFloor = { jpeg: 35, webp: 35, png: 50 } as const;

/** What sharp uses when a preset sets no quality (palette PNG: 100, as many colours as needed). */
const encoderDefaultQuality = { jpeg: 80, webp: 80, png: 100 } as const;

/**
 * Encode caps. JPEG/WebP: first + floor + 4 probes narrow a 35–82 range to about 2 quality points.
 * Palette PNG costs 0.1–0.8 s per encode (libimagequant) against 10–160 ms for JPEG, so it gets
 * first + floor + 2 probes (its ladder has 5 rungs), plus one truecolour encode when nothing fits.
 */
const maxEncodes = { quality: 6, palette: 4 } as const;

/** Quality rungs this close apart look the same, so the JPEG/WebP search stops there; palette rungs differ visibly. */
const closeEnough = { quality: 2, palette: 1 } as const;

interface Candidate {
  readonly attempt: Attempt;
  readonly bytes: Buffer;
}

export async function encodeWithinBudget(preset: Preset, encode: EncodeAttempt): Promise<BudgetResult> {
  const palette = preset.format === 'png' && preset.palette === true;
  const lossy = preset.format === 'jpeg' || (preset.format === 'webp' && preset.lossless !== true) || palette;
  let encodes = 0;
  const tried: Candidate[] = [];
  const run = async (attempt: Attempt): Promise<Candidate> => {
    encodes += 1;
    const candidate = { attempt, bytes: await encode(attempt) };
    tried.push(candidate);
    return candidate;
  };
  const finish = (candidate: Candidate, warnings: readonly RenderWarning[] = []): BudgetResult => ({ ...candidate, encodes, warnings });

  if (!lossy) {
    const only = await run({ palette: false });
    const budget = preset.maxBytes;
    if (budget === undefined || only.bytes.length <= budget) return finish(only);
    const fix = preset.format === 'webp' ? 'set "lossless": false' : 'set "palette": true or use "format": "jpeg"';
    return finish(only, [overBudget(only.bytes.length, budget, `lossless ${preset.format} has no quality to trade for size; ${fix}, or raise maxBytes.`)]);
  }

  const start = preset.quality ?? encoderDefaultQuality[preset.format];
  const ladder = palette ? paletteLadder(start) : qualityLadder(start, qualityFloor[preset.format]);

  // The common case costs exactly one encode: no budget, or the first result already fits.
  const first = await run(ladder[0]!);
  const budget = preset.maxBytes;
  if (budget === undefined || first.bytes.length <= budget) return finish(first);

  if (ladder.length > 1) {
    const last = await run(ladder[ladder.length - 1]!);
    if (last.bytes.length <= budget) {
      const limit = palette ? maxEncodes.palette : maxEncodes.quality;
      return finish(await searchLadder(ladder, first, last, budget, palette ? closeEnough.palette : closeEnough.quality, () => encodes < limit, run));
    }
  }

  // Nothing at an acceptable setting fits. Palette dithering can cost more than truecolour on
  // smooth gradients, so PNG also tries truecolour; whichever is smallest goes out, with a warning.
  if (palette) await run({ palette: false });
  const smallest = tried.reduce((best, candidate) => (candidate.bytes.length < best.bytes.length ? candidate : best));
  const photoHint = palette ? ' For photographic content a JPEG preset fits where PNG cannot.' : '';
  return finish(smallest, [
    overBudget(smallest.bytes.length, budget, `smallest found: ${describeAttempt(preset, smallest.attempt)}, at the preset's dimensions. Use simpler imagery, a smaller width, or raise maxBytes.${photoHint}`),
  ]);
}

/** Every integer quality from the preset's down to the floor (just the preset's when it is lower). */
function qualityLadder(start: number, floor: number): Attempt[] {
  const ladder: Attempt[] = [];
  for (let quality = start; quality >= Math.min(start, floor); quality -= 1) ladder.push({ quality, palette: false });
  return ladder;
}

/**
 * Palette PNG rungs, largest first. Measured on 1200×630 captures, lowering quality alone does not
 * shrink a dithered palette (fewer colours mean more dither noise, which deflates worse), while
 * dithering less does, and without dithering lower quality shrinks it further:
 * q90 full dither 90 KB → half 80 KB → none 71 KB → q70 46 KB → q50 39 KB.
 */
function paletteLadder(start: number): Attempt[] {
  const floor = Math.min(start, qualityFloor.png);
  const middle = Math.round((start + floor) / 2);
  const rungs: Attempt[] = [
    { quality: start, palette: true, dither: 1 },
    { quality: start, palette: true, dither: 0.5 },
    { quality: start, palette: true, dither: 0 },
  ];
  if (middle < start) rungs.push({ quality: middle, palette: true, dither: 0 });
  if (floor < middle) rungs.push({ quality: floor, palette: true, dither: 0 });
  return rungs;
}

/**
 * Bracketed search: `fits` is a rung that fits, `fails` an earlier one that does not; find the
 * earliest rung that fits (or one within `closeEnoughRungs` of it). Each probe interpolates in
 * log(bytes) between the bracket ends (JPEG bytes grow roughly exponentially with quality, so a
 * linear guess lands far too low), clamped a quarter into the bracket so it always shrinks.
 * Stops there or at the encode cap, returning the best rung that fit.
 */
async function searchLadder(
  ladder: readonly Attempt[],
  fails: Candidate,
  fits: Candidate,
  budget: number,
  closeEnoughRungs: number,
  mayEncode: () => boolean,
  run: (attempt: Attempt) => Promise<Candidate>,
): Promise<Candidate> {
  let failsAt = 0;
  let fitsAt = ladder.length - 1;
  while (fitsAt - failsAt > closeEnoughRungs && mayEncode()) {
    const step = Math.max(1, Math.floor((fitsAt - failsAt) / 4));
    const span = Math.log(fails.bytes.length) - Math.log(fits.bytes.length);
    const guess = span > 0 ? failsAt + ((fitsAt - failsAt) * (Math.log(fails.bytes.length) - Math.log(budget))) / span : (failsAt + fitsAt) / 2;
    const index = Math.min(fitsAt - step, Math.max(failsAt + step, Math.round(guess)));
    const candidate = await run(ladder[index]!);
    if (candidate.bytes.length <= budget) {
      fits = candidate;
      fitsAt = index;
    } else {
      fails = candidate;
      failsAt = index;
    }
  }
  return fits;
}

function describeAttempt(preset: Preset, attempt: Attempt): string {
  if (attempt.quality === undefined) return `truecolour ${preset.format} (smaller than the palette at its lowest setting)`;
  if (attempt.palette) return `palette png at quality ${attempt.quality}${attempt.dither === 0 ? ' without dithering' : ''}`;
  return `${preset.format} at quality ${attempt.quality}`;
}

function overBudget(bytes: number, budget: number, detail: string): RenderWarning {
  return { code: 'over-budget', message: `${bytes} bytes, budget ${budget}; ${detail}` };
}
