import { resolve } from 'node:path';
import sharp, { type OverlayOptions } from 'sharp';
import { isMergeshotError } from '../../errors/index.js';
import { losslessPreset, targetOf, type Pipeline } from '../../pipeline/index.js';

const tileWidth = 600;
const labelHeight = 56;
const gap = 24;
const columns = 2;

/**
 * `mergeshot preview`: renders every sample and lays them out with their names and warnings.
 * Lossless by default; `--preset email` shows what that channel ships (its compression, its size).
 */
export async function runPreview(pipeline: Pipeline, templateRef: string, options: { size?: string | undefined; preset?: string | undefined; out: string }): Promise<string> {
  const template = await pipeline.registry.get(templateRef);
  const samples = Object.entries(template.manifest.samples ?? { default: {} });
  const target = targetOf(pipeline, template, { preset: options.preset ?? losslessPreset, size: options.size });
  const size = target.size;
  const tileHeight = Math.round((tileWidth * size.height) / size.width);
  const tiles: OverlayOptions[] = [];
  for (const [index, [name, data]] of samples.entries()) {
    const left = gap + (index % columns) * (tileWidth + gap);
    const top = gap + Math.floor(index / columns) * (tileHeight + labelHeight + gap);
    let label: string;
    let image: Buffer;
    try {
      const result = await pipeline.renderOne({ template: template.dir, data, preset: target.presetName, size: size.name });
      image = await sharp(result.bytes).resize(tileWidth, tileHeight).png().toBuffer();
      label = result.warnings.length ? result.warnings.map((w) => `${w.code}:${w.field ?? ''}`).join('  ') : 'no warnings';
    } catch (error) {
      image = await sharp({ create: { width: tileWidth, height: tileHeight, channels: 3, background: '#fde8e8' } }).png().toBuffer();
      label = `FAILED ${isMergeshotError(error) ? error.code : 'INTERNAL'}`;
    }
    tiles.push({ input: image, left, top });
    tiles.push({ input: labelSvg(name, label), left, top: top + tileHeight + 6 });
  }
  const rows = Math.ceil(samples.length / columns);
  const width = gap + columns * (tileWidth + gap);
  const height = gap + rows * (tileHeight + labelHeight + gap);
  const path = resolve(options.out);
  await sharp({ create: { width, height, channels: 3, background: '#f3f4f6' } }).composite(tiles).png().toFile(path);
  return path;
}

function labelSvg(name: string, warnings: string): Buffer {
  const escape = (text: string) => text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`).slice(0, 110);
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${tileWidth}" height="${labelHeight - 8}">` +
      `<text x="0" y="18" font-family="DejaVu Sans, sans-serif" font-size="16" font-weight="bold" fill="#111827">${escape(name)}</text>` +
      `<text x="0" y="40" font-family="DejaVu Sans, sans-serif" font-size="13" fill="${warnings === 'no warnings' ? '#047857' : '#b45309'}">${escape(warnings)}</text></svg>`,
  );
}
