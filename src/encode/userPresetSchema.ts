/** The schema of the config's `presets` section: user presets, their names and `extends`, and how their issues are worded. */
import { z } from 'zod';
import { fromZod } from '../errors/index.js';
import { describeInput } from './describeInput.js';
import { formatSchema, presetFields, presetObject } from './presetSchema.js';

/** Preset names appear in URLs (`?preset=email-png`) and file names, so they stay URL- and path-safe. */
export const presetNamePattern = /^[a-z][a-z0-9-]*$/;

export const userPresetSchema = z.strictObject({
  ...presetFields,
  format: formatSchema.optional(),
  extends: z
    .string({ error: (issue) => `must be the name of another preset, got ${describeInput(issue.input)}. E.g. "extends": "email".` })
    .optional(),
});

export const presetsSectionSchema = z.record(z.string(), z.unknown(), {
  error: (issue) => `must be an object of named presets, got ${describeInput(issue.input)}. E.g. { "newsletter": { "extends": "email", "maxBytes": 150000 } }.`,
});

/** Every key a user preset may have, so fromZod can suggest one for a misspelt key. */
const presetKeys = [...Object.keys(presetObject.shape), 'extends'];

export type UserPreset = z.output<typeof userPresetSchema>;

/** Words a preset's issues with the preset name at the head of each path (`email.quality`). */
export function describeIssues(name: string, issues: readonly z.core.$ZodIssue[], source: string): string[] {
  return fromZod(
    issues.map((issue) => ({ ...issue, path: [name, ...issue.path] })),
    source,
    presetKeys,
  );
}
