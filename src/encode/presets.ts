/** Looks a channel preset up by name; the other preset files hold the table, the schema and the resolution. */
import { ConfigError } from '../errors/index.js';
import { describeInput } from './describeInput.js';
import type { Preset } from './presetSchema.js';

/**
 * Channel presets: how a capture is sized and encoded for the place it goes (an email body, a
 * WhatsApp message, an Open Graph card). Built-ins cover the common channels; mergeshot.config.json
 * `presets` overrides them by name, adds new ones, or `extends` one and changes a few keys.
 */

// encode.ts and budget.ts import these from here; the names stay available at this path.
export { renderScaleFor } from './renderScale.js';
export type { Preset, PresetFormat } from './presetSchema.js';

/** Looks a preset up by name; PRESET_UNKNOWN lists the names that exist. */
export function getPreset(presets: Readonly<Record<string, Preset>>, name: string): Preset {
  if (Object.hasOwn(presets, name)) return presets[name]!;
  const available = Object.keys(presets).join(', ');
  throw new ConfigError('PRESET_UNKNOWN', `preset must be one of ${available}, got ${describeInput(name)}. Use one of those names or add the preset under "presets" in mergeshot.config.json.`, {
    field: 'preset',
    hint: `Available presets: ${available}.`,
  });
}
