/** The device scale factor a capture needs for the pixels a preset outputs. */
import type { Preset } from './presetSchema.js';

/**
 * The device scale factor the renderer should capture at so the capture has at least the pixels
 * the preset outputs (email's 1200 px from a 600 px template needs 2). Rounded up to an integer:
 * at integer factors Chromium lays glyphs on whole device pixels, so text stays crisp, and sharp
 * then downsizes to the exact width. Capped at 4, where captures of large templates get too big
 * for the page's memory and the screenshot time grows with the pixel count.
 */
export function renderScaleFor(preset: Preset, templateWidth: number, templateHeight: number): number {
  if (preset.scale !== undefined) return preset.scale;
  let needed = 1;
  if (preset.width !== undefined && preset.height !== undefined) {
    const ratios = [preset.width / templateWidth, preset.height / templateHeight];
    // cover fills the box, so both sides must reach it; contain/inside fit inside it, so one is enough.
    needed = preset.fit === 'cover' ? Math.max(...ratios) : Math.min(...ratios);
  } else if (preset.width !== undefined) {
    needed = preset.width / templateWidth;
  } else if (preset.height !== undefined) {
    needed = preset.height / templateHeight;
  }
  if (preset.maxLongSide !== undefined) {
    needed = Math.min(needed, preset.maxLongSide / Math.max(templateWidth, templateHeight));
  }
  // The epsilon keeps 1200 / 600 from becoming 3 through floating-point error in the ratios.
  return Math.min(4, Math.max(1, Math.ceil(needed - 1e-9)));
}
