/** The zod schema of one channel preset: its keys, their error wording, and the combinations that cannot work. */
import { z } from 'zod';
import { describeInput } from './describeInput.js';

const presetFormats = ['jpeg', 'png', 'webp'] as const;
export type PresetFormat = (typeof presetFormats)[number];

const presetFits = ['cover', 'contain', 'inside'] as const;
export type PresetFit = (typeof presetFits)[number];

function integer(min: number, max: number, fix: string) {
  const error = (issue: { input?: unknown }) => `must be an integer ${min}–${max}, got ${describeInput(issue.input)}. ${fix}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

function flag() {
  return z.boolean({ error: (issue) => `must be true or false, got ${describeInput(issue.input)}.` });
}

export const formatSchema = z.enum(presetFormats, {
  error: (issue) => {
    if (issue.input === undefined) return 'is required: "jpeg", "png" or "webp" (or set "extends" to inherit one from another preset).';
    const fix = issue.input === 'jpg' ? ' Write "jpeg".' : '';
    return `must be "jpeg", "png" or "webp", got ${describeInput(issue.input)}.${fix}`;
  },
});

const fitSchema = z.enum(presetFits, {
  error: (issue) => `must be "cover", "contain" or "inside", got ${describeInput(issue.input)}.`,
});

/**
 * Every key of a preset, none with a default: user presets are parsed with these first, so a key
 * the user left out stays absent and `extends` can inherit it (a default would overwrite it).
 *
 * Sizing: `width` alone scales to that width, never enlarging; `width` + `height` with fit
 * "cover" or "contain" is an exact box (enlarged if needed), with "inside" a bounding box;
 * `maxLongSide` then caps the longer side. `displayWidth` is the CSS width the image is shown at
 * (the email `<img width>`); `scale` pins the device scale factor instead of deriving it.
 * Encoding: `quality` is JPEG/WebP quality or, with `palette`, the PNG quantisation quality;
 * `background` fills JPEG transparency and "contain" letterboxing; `maxBytes` is the byte budget.
 */
export const presetFields = {
  format: formatSchema,
  quality: integer(1, 100, 'Write a number such as 82; higher is sharper and larger.').optional(),
  width: integer(1, 8000, 'Write the output width in pixels without units, e.g. 1200.').optional(),
  height: integer(1, 8000, 'Write the output height in pixels without units, e.g. 630.').optional(),
  fit: fitSchema.optional(),
  maxLongSide: integer(1, 8000, 'Write the longest allowed side in pixels, e.g. 1600.').optional(),
  maxBytes: integer(1, 100_000_000, 'Write the budget in bytes without units, e.g. 200000.').optional(),
  displayWidth: integer(1, 8000, 'Write the CSS width the image is shown at, e.g. 600.').optional(),
  scale: z
    .number({ error: (issue) => `must be a number 1–4, got ${describeInput(issue.input)}. Write the device scale factor, e.g. 2.` })
    .min(1, { error: (issue) => `must be a number 1–4, got ${describeInput(issue.input)}.` })
    .max(4, { error: (issue) => `must be a number 1–4, got ${describeInput(issue.input)}.` })
    .optional(),
  mozjpeg: flag().optional(),
  palette: flag().optional(),
  lossless: flag().optional(),
  background: z
    .string({ error: (issue) => `must be a colour "#rrggbb", got ${describeInput(issue.input)}. Write six hex digits, e.g. "#ffffff".` })
    .regex(/^#[0-9a-fA-F]{6}$/, { error: (issue) => `must be a colour "#rrggbb", got ${describeInput(issue.input)}. Write six hex digits, e.g. "#ffffff".` })
    .optional(),
  description: z.string({ error: (issue) => `must be text, got ${describeInput(issue.input)}.` }).max(200).optional(),
};

export const presetObject = z.strictObject({ ...presetFields, fit: fitSchema.default('inside') });

type PresetValues = z.output<typeof presetObject>;

/**
 * Key combinations that cannot do what the user meant. Each issue sits on the key that does not
 * apply, so resolvePresets can tell a key the user wrote (an error) from one inherited through
 * `extends` that no longer applies after the user's change (dropped).
 */
function checkCombinations(preset: PresetValues, ctx: z.core.$RefinementCtx<PresetValues>): void {
  const problem = (key: keyof PresetValues, message: string) => ctx.addIssue({ code: 'custom', path: [key], message, input: preset[key] });
  if (preset.mozjpeg !== undefined && preset.format !== 'jpeg') {
    problem('mozjpeg', `only applies to "format": "jpeg", but this preset is "${preset.format}". Remove it.`);
  }
  if (preset.palette !== undefined && preset.format !== 'png') {
    problem('palette', `only applies to "format": "png", but this preset is "${preset.format}". Remove it.`);
  }
  if (preset.lossless !== undefined && preset.format !== 'webp') {
    const why = preset.format === 'png' ? ' PNG is always lossless unless "palette" is true.' : '';
    problem('lossless', `only applies to "format": "webp", but this preset is "${preset.format}".${why} Remove it.`);
  }
  if (preset.quality !== undefined && preset.format === 'png' && preset.palette !== true) {
    problem('quality', 'only applies to JPEG, lossy WebP and palette PNG; PNG without "palette": true is lossless. Remove it or set "palette": true.');
  }
  if (preset.quality !== undefined && preset.format === 'webp' && preset.lossless === true) {
    problem('quality', 'has no effect with "lossless": true. Remove it or set "lossless": false.');
  }
  if (preset.displayWidth !== undefined && preset.width !== undefined && preset.displayWidth > preset.width) {
    problem('displayWidth', `is larger than width (${preset.width}), so mail clients would upscale the image and blur it. Set width to at least displayWidth, ideally 2× for high-DPI screens.`);
  }
  for (const side of ['width', 'height'] as const) {
    const length = preset[side];
    if (preset.maxLongSide !== undefined && length !== undefined && preset.maxLongSide < length) {
      problem('maxLongSide', `is smaller than ${side} (${length}), so the output could never be ${length} px. Raise maxLongSide or remove it.`);
    }
  }
}

/** One validated channel preset. `fit` defaults to "inside": shrink to fit, never crop. */
export const presetSchema = presetObject.superRefine(checkCombinations);

export type Preset = Readonly<z.output<typeof presetSchema>>;
export type PresetInput = z.input<typeof presetSchema>;
