export { builtInPresets, type BuiltInPresetName } from './builtInPresets.js';
export { getPreset } from './presets.js';
export { presetSchema, type Preset, type PresetFit, type PresetFormat, type PresetInput } from './presetSchema.js';
export { renderScaleFor } from './renderScale.js';
export { resolvePresets } from './resolvePresets.js';
export { encodeImage, encodedSize, type EncodedImage, type EncodeOptions } from './encode.js';
