import { z } from 'zod';
import { fromZod, TemplateError } from '../errors/index.js';
import { helperNames } from './hbsHelpers.js';

/**
 * template.json: what a designer declares about a template. Strict: an unknown key is an
 * error with a did-you-mean hint, so a typo (`heigth`) never silently falls back to a default.
 */
const dimension = z
  .number({ error: (issue) => `must be an integer 1–8000, got ${describe(issue.input)}. Write the number without units, e.g. 1080.` })
  .int({ error: (issue) => `must be an integer 1–8000, got ${describe(issue.input)}.` })
  .min(1, { error: (issue) => `must be an integer 1–8000, got ${describe(issue.input)}.` })
  .max(8000, { error: (issue) => `must be an integer 1–8000, got ${describe(issue.input)}.` });

export const fieldTypes = ['text', 'number', 'date', 'boolean', 'enum', 'color', 'image'] as const;
export type FieldType = (typeof fieldTypes)[number];

/** How an image field's picture is brought to its slot's `aspect` (src/assets/crop.ts); an aspect alone crops at the centre. */
export const imageCropRules = ['center', 'top', 'attention', 'contain'] as const;
export type ImageCropRule = (typeof imageCropRules)[number];

const imageSlotOptions = {
  crop: z.enum(imageCropRules, { error: (issue) => `must be one of ${imageCropRules.join(' | ')}, got ${describe(issue.input)}. "attention" follows an off-centre face, "contain" keeps a logo whole.` }).optional(),
  aspect: z
    .string({ error: (issue) => `must be the slot's width:height as a string, e.g. "1:1", got ${describe(issue.input)}.` })
    .regex(/^[1-9]\d{0,3}:[1-9]\d{0,3}$/, { error: (issue) => `must be the slot's width:height in whole numbers 1–9999, e.g. "1:1" or "16:9", got ${describe(issue.input)}.` })
    .optional(),
};

const fieldSchema = z
  .strictObject({
    type: z.enum(fieldTypes, { error: (issue) => `must be one of ${fieldTypes.join(' | ')}, got ${describe(issue.input)}.` }),
    ...imageSlotOptions,
    label: z.string().optional(),
    fallback: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
    maxLength: z.number().int().min(1).max(10_000).optional(),
    values: z.array(z.string()).min(1).optional(),
    format: z.string().optional(),
    required: z.boolean().optional(),
    /**
     * How the data writes this field's values, for date and number fields: "DD/MM/YYYY",
     * "D MMMM YYYY", "excel", "unix", a locale tag ("en-GB"), or for numbers a sample ("1.234,50").
     * Checked against the data stage's formats at boot (checkFallbacks in src/data).
     */
    input: z.string().min(1, 'must name a format, e.g. "DD/MM/YYYY" (dates) or "1.234,50" (numbers).').optional(),
    /** Cell contents that also mean "no value" for this field, beside the built-in list ("TBD"). */
    missing: z.array(z.string().min(1, 'must not be empty: empty cells are always missing.'), { error: (issue) => `must be a list of texts, e.g. ["TBD"], got ${describe(issue.input)}.` }).optional(),
  })
  .superRefine((field, ctx) => {
    for (const key of ['crop', 'aspect'] as const) {
      if (field[key] !== undefined && field.type !== 'image') ctx.addIssue({ code: 'custom', path: [key], message: `only applies to image fields, but this field is "${field.type}".` });
    }
    if (field.crop !== undefined && field.aspect === undefined) {
      ctx.addIssue({ code: 'custom', path: ['crop'], message: `needs "aspect", the slot's width:height the image is cropped to, e.g. "aspect": "1:1" for a round photo.` });
    }
    if (field.type === 'enum' && !field.values) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: 'is required for an enum field. List the allowed values: "values": ["basic", "pro"].' });
    }
    if (field.type !== 'enum' && field.values) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: `only applies to enum fields, but this field is "${field.type}". Remove it or set "type": "enum".` });
    }
    if (field.input !== undefined && field.type !== 'date' && field.type !== 'number') {
      ctx.addIssue({ code: 'custom', path: ['input'], message: `only applies to date and number fields, but this field is "${field.type}".` });
    }
    if (field.maxLength !== undefined && field.type !== 'text') {
      ctx.addIssue({ code: 'custom', path: ['maxLength'], message: `only applies to text fields, but this field is "${field.type}".` });
    }
    if (field.type === 'enum' && typeof field.fallback === 'string' && field.values && !field.values.includes(field.fallback)) {
      ctx.addIssue({ code: 'custom', path: ['fallback'], message: `must be one of the enum's values (${field.values.join(', ')}).` });
    }
  });

const sizeSchema = z.strictObject({ width: dimension, height: dimension });

const offset = z
  .number({ error: (issue) => `must be an integer 0–8000, got ${describe(issue.input)}.` })
  .int({ error: (issue) => `must be an integer 0–8000, got ${describe(issue.input)}.` })
  .min(0, { error: (issue) => `must be an integer 0–8000, got ${describe(issue.input)}.` })
  .max(8000, { error: (issue) => `must be an integer 0–8000, got ${describe(issue.input)}.` });

/** A rectangle painted over both images before they are compared, in the size's CSS pixels. */
const maskSchema = z.strictObject({
  x: offset,
  y: offset,
  width: dimension,
  height: dimension,
  /** Only for this size; every size when absent. */
  size: z.string({ error: (issue) => `must be a size name ("default" or one of "sizes"), got ${describe(issue.input)}.` }).optional(),
});

const visualCheckSchema = z.strictObject({
  maxDiffPixels: z
    .number({ error: (issue) => `must be a whole number of pixels ≥ 0, got ${describe(issue.input)}.` })
    .int({ error: (issue) => `must be a whole number of pixels ≥ 0, got ${describe(issue.input)}.` })
    .min(0, { error: (issue) => `must be a whole number of pixels ≥ 0, got ${describe(issue.input)}.` })
    .optional(),
  maxDiffPixelRatio: z
    .number({ error: (issue) => `must be a ratio 0–1 of the image's pixels, got ${describe(issue.input)}.` })
    .min(0, { error: (issue) => `must be a ratio 0–1 of the image's pixels, got ${describe(issue.input)}.` })
    .max(1, { error: (issue) => `must be a ratio 0–1 of the image's pixels, got ${describe(issue.input)}.` })
    .optional(),
  threshold: z
    .number({ error: (issue) => `must be a colour distance 0–1 (0: any change counts), got ${describe(issue.input)}.` })
    .min(0, { error: (issue) => `must be a colour distance 0–1 (0: any change counts), got ${describe(issue.input)}.` })
    .max(1, { error: (issue) => `must be a colour distance 0–1 (0: any change counts), got ${describe(issue.input)}.` })
    .optional(),
  masks: z.array(maskSchema, { error: (issue) => `must be a list of rectangles {"x", "y", "width", "height"}, got ${describe(issue.input)}.` }).optional(),
});

/** The rule ids of `mergeshot check` (src/qa), the names `check.rules` may set a level for. */
export const checkRuleIds = [
  'undeclared-field', 'unused-field', 'empty-debris', 'required-field', 'unescaped-output', 'script', 'external-url', 'font-not-bundled', 'link-outside',
  'overflow', 'below-min-size', 'missing-glyph', 'broken-image', 'clipped', 'low-contrast', 'over-budget', 'format-channel', 'alt-missing',
  'code-unreadable', 'code-too-small', 'code-low-contrast',
] as const;
export type CheckRuleId = (typeof checkRuleIds)[number];

const ruleLevels = ['off', 'warn', 'error'] as const;

/**
 * How the template is checked (test/templates/visual.spec.ts). An object so that other checks
 * can take their own key beside `visual`.
 */
const checkSchema = z.strictObject({
  presets: z
    .array(z.string().min(1, 'must be a preset name, e.g. "original".'), { error: (issue) => `must be a list of preset names, e.g. ["original", "email"], got ${describe(issue.input)}.` })
    .min(1, 'must name at least one preset, e.g. ["original"]; remove the key to check "original" only.')
    .refine((names) => new Set(names).size === names.length, 'names a preset twice.')
    .optional(),
  visual: visualCheckSchema.optional(),
  /** `mergeshot check` levels per rule id, over the defaults: "off", "warn" or "error". */
  rules: z
    .record(
      z.string(),
      z.enum(ruleLevels, { error: (issue) => `must be "off", "warn" or "error", got ${describe(issue.input)}.` }),
      { error: (issue) => `must be an object of rule id → "off" | "warn" | "error", got ${describe(issue.input)}.` },
    )
    .superRefine((levels, ctx) => {
      for (const id of Object.keys(levels)) {
        if (!(checkRuleIds as readonly string[]).includes(id)) ctx.addIssue({ code: 'custom', path: [id], message: `is not a rule of mergeshot check. Rules: ${checkRuleIds.join(', ')}.` });
      }
    })
    .optional(),
});

/** Handlebars' own helpers and mergeshot's: a field of one of these names could never be printed. */
const reservedFieldNames = new Set([...helperNames, 'if', 'unless', 'each', 'with', 'lookup', 'log', 'helperMissing', 'blockHelperMissing']);

export const manifestSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    width: dimension,
    height: dimension,
    sizes: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'size names are lowercase words, e.g. "square"'), sizeSchema).optional(),
    fields: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'field names are camelCase identifiers, e.g. "firstName"'), fieldSchema).superRefine((fields, ctx) => {
      // {{title}} would call the helper, never print the field: refuse the name rather than render nothing.
      for (const name of Object.keys(fields)) {
        if (reservedFieldNames.has(name)) ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is the name of a template helper, so {{${name}}} would call the helper instead of printing the field. Rename the field, e.g. "${name}Text".` });
      }
    }),
    alt: z.string().optional(),
    defaultPreset: z.string().optional(),
    locale: z.string().optional(),
    access: z.enum(['open', 'signed']).optional(),
    maxAge: z.number().int().min(0).optional(),
    samples: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    check: checkSchema.optional(),
  })
  .superRefine((manifest, ctx) => {
    for (const [index, mask] of (manifest.check?.visual?.masks ?? []).entries()) {
      const path = ['check', 'visual', 'masks', index];
      const sizeNames = ['default', ...Object.keys(manifest.sizes ?? {})];
      if (mask.size !== undefined && !sizeNames.includes(mask.size)) {
        ctx.addIssue({ code: 'custom', path: [...path, 'size'], message: `names no size of this template: "${mask.size}". Sizes: ${sizeNames.join(', ')}.` });
        continue;
      }
      const sizes = mask.size === undefined ? sizeNames : [mask.size];
      for (const name of sizes) {
        const size = name === 'default' ? manifest : manifest.sizes?.[name];
        if (size && (mask.x + mask.width > size.width || mask.y + mask.height > size.height)) {
          ctx.addIssue({ code: 'custom', path, message: `reaches outside the ${name} size (${size.width}×${size.height}): x + width must be ≤ ${size.width} and y + height ≤ ${size.height}${mask.size === undefined ? '; add "size" to mask one size only' : ''}.` });
        }
      }
    }
  });

export type Manifest = z.infer<typeof manifestSchema>;
export type FieldSpec = z.infer<typeof fieldSchema>;
export type FieldSpecs = Readonly<Record<string, FieldSpec>>;

const manifestKeys = Object.keys(manifestSchema.shape);
const fieldKeys = Object.keys(fieldSchema.shape);
const checkKeys = [...Object.keys(checkSchema.shape), ...Object.keys(visualCheckSchema.shape), ...Object.keys(maskSchema.shape)];

/** Validates a parsed template.json; throws MANIFEST_INVALID listing every problem. */
export function parseManifest(input: unknown, source: string): Manifest {
  const result = manifestSchema.safeParse(input);
  if (!result.success) {
    const lines = fromZod(result.error.issues, source, [...manifestKeys, ...fieldKeys, ...checkKeys]);
    throw new TemplateError('MANIFEST_INVALID', lines.join('\n'), { source });
  }
  return result.data;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `"${value.slice(0, 40)}" (string)`;
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  return `${String(value).slice(0, 40)} (${typeof value})`;
}
