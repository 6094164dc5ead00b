export {
  builtInPresets,
  getPreset,
  presetFits,
  presetFormats,
  presetSchema,
  renderScaleFor,
  resolvePresets,
  type BuiltInPresetName,
  type Preset,
  type PresetFit,
  type PresetFormat,
  type PresetInput,
} from './presets.js';
export { encodeImage, encodedSize, type EncodedImage, type EncodeOptions } from './encode.js';
