/** The built-in channel presets, with the reason behind each value that is not obvious. */
import { presetSchema, type Preset, type PresetInput } from './presetSchema.js';
import { freezePreset, presetTable } from './presetTable.js';

const builtInDefinitions = {
  email: {
    description: 'Email body image: 2× JPEG for a 600 px wide slot, under 200 KB so it loads on mobile data.',
    format: 'jpeg',
    // Measured on a 1200×630 event-invite capture (2 cores): mozjpeg 78 ms → 54 KB; libjpeg-turbo
    // with mozjpeg's quantisation tables and optimised Huffman 9 ms → 64 KB. 19 % more bytes,
    // far under the budget, for 8× less CPU on the render hot path. Set
    // "mozjpeg": true in mergeshot.config.json where bytes matter more than throughput.
    mozjpeg: false,
    quality: 82,
    width: 1200,
    displayWidth: 600,
    maxBytes: 200_000,
    background: '#ffffff',
  },
  'email-png': {
    description: 'Email body image as PNG: palette (256 colours) when it fits the budget, for crisp flat designs and text.',
    format: 'png',
    palette: true,
    quality: 90,
    width: 1200,
    displayWidth: 600,
    maxBytes: 200_000,
  },
  whatsapp: {
    // WhatsApp recompresses what it receives, so plain libjpeg is enough: mozjpeg's extra
    // ~70 ms per image buys bytes the recipient never sees.
    description: 'WhatsApp media message: JPEG, long side at most 1600 px, under the 5 MB image limit.',
    format: 'jpeg',
    quality: 85,
    maxLongSide: 1600,
    maxBytes: 5_000_000,
    background: '#ffffff',
  },
  og: {
    description: 'Open Graph / social card: exactly 1200×630 PNG, cropped to fill.',
    format: 'png',
    width: 1200,
    height: 630,
    fit: 'cover',
  },
  web: {
    description: 'Web page image: WebP at quality 80, template size.',
    format: 'webp',
    quality: 80,
  },
  original: {
    description: 'Lossless PNG at template size and scale 1, for proofs and golden images.',
    format: 'png',
    scale: 1,
  },
} as const satisfies Record<string, PresetInput>;

export type BuiltInPresetName = keyof typeof builtInDefinitions;

/**
 * The built-in presets, parsed once so they carry the schema's defaults. They are constants: a
 * schema change that breaks one fails the module's tests, not a render.
 */
export const builtInPresets: Readonly<Record<BuiltInPresetName, Preset>> = Object.freeze(
  presetTable<Record<BuiltInPresetName, Preset>>(
    Object.entries(builtInDefinitions).map(([name, definition]) => [name, freezePreset(presetSchema.parse(definition))] as const),
  ),
);
