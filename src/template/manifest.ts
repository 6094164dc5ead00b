import { z } from 'zod';
import { fromZod, TemplateError } from '../errors/index.js';

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

const fieldSchema = z
  .strictObject({
    type: z.enum(fieldTypes, { error: (issue) => `must be one of ${fieldTypes.join(' | ')}, got ${describe(issue.input)}.` }),
    label: z.string().optional(),
    fallback: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
    maxLength: z.number().int().min(1).max(10_000).optional(),
    values: z.array(z.string()).min(1).optional(),
    format: z.string().optional(),
    required: z.boolean().optional(),
  })
  .superRefine((field, ctx) => {
    if (field.type === 'enum' && !field.values) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: 'is required for an enum field. List the allowed values: "values": ["basic", "pro"].' });
    }
    if (field.type !== 'enum' && field.values) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: `only applies to enum fields, but this field is "${field.type}". Remove it or set "type": "enum".` });
    }
    if (field.maxLength !== undefined && field.type !== 'text') {
      ctx.addIssue({ code: 'custom', path: ['maxLength'], message: `only applies to text fields, but this field is "${field.type}".` });
    }
    if (field.type === 'enum' && typeof field.fallback === 'string' && field.values && !field.values.includes(field.fallback)) {
      ctx.addIssue({ code: 'custom', path: ['fallback'], message: `must be one of the enum's values (${field.values.join(', ')}).` });
    }
  });

const sizeSchema = z.strictObject({ width: dimension, height: dimension });

export const manifestSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  width: dimension,
  height: dimension,
  sizes: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'size names are lowercase words, e.g. "square"'), sizeSchema).optional(),
  fields: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'field names are camelCase identifiers, e.g. "firstName"'), fieldSchema),
  alt: z.string().optional(),
  defaultPreset: z.string().optional(),
  locale: z.string().optional(),
  access: z.enum(['open', 'signed']).optional(),
  maxAge: z.number().int().min(0).optional(),
  samples: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type FieldSpec = z.infer<typeof fieldSchema>;
export type FieldSpecs = Readonly<Record<string, FieldSpec>>;

const manifestKeys = Object.keys(manifestSchema.shape);
const fieldKeys = Object.keys(fieldSchema.shape);

/** Validates a parsed template.json; throws MANIFEST_INVALID listing every problem. */
export function parseManifest(input: unknown, source: string): Manifest {
  const result = manifestSchema.safeParse(input);
  if (!result.success) {
    const lines = fromZod(result.error.issues, source, [...manifestKeys, ...fieldKeys]);
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
