/** Frozen presets and the null-prototype tables that hold them. */
import type { z } from 'zod';
import type { Preset, presetSchema } from './presetSchema.js';

export function freezePreset(preset: z.output<typeof presetSchema>): Preset {
  return Object.freeze(preset);
}

/**
 * A preset table without a prototype. Preset names arrive from URLs, API bodies and manifests
 * (`?preset=constructor`, `"defaultPreset": "__proto__"`): on a plain object `presets[name]`
 * would find Object.prototype's members and treat a function as a preset, so every table this
 * module hands out has nothing to find but its own presets.
 */
export function presetTable<T extends Record<string, Preset>>(entries: Iterable<readonly [string, Preset]>): T {
  const table = Object.create(null) as Record<string, Preset>;
  for (const [name, preset] of entries) table[name] = preset;
  return table as T;
}
