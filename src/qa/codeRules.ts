import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { prepareZXingModule, readBarcodes, type ReadInputBarcodeFormat, type ZXingReaderModule } from 'zxing-wasm/reader';
import type { CodeSpec, Symbology } from '../template/index.js';
import { luminance } from './contrast.js';

/**
 * Every code scans: each QR code or barcode the helpers drew (RenderResult.codes) is cropped
 * from the FINAL encoded image (the preset's JPEG, PNG or WebP at its output size) at the box
 * the inspection measured, and decoded by ZXing (zxing-wasm, loaded from its package folder:
 * no network). Three problems are told apart, each with its own rule:
 *   code-unreadable    nothing decodes there, or it decodes to another value;
 *   code-too-small     a module is under 2 output pixels (phones miss it, JPEG smears it);
 *   code-low-contrast  the symbol contrast (light minus dark reflectance, ISO/IEC 15416's
 *                      SC, read as WCAG luminance) is under 40 %, grade C.
 * Messages never carry the value: lengths and measurements only.
 */

export const minModulePx = 2;
export const minSymbolContrast = 0.4;

export type CodeProblemRule = 'code-unreadable' | 'code-too-small' | 'code-low-contrast';

export interface CodeProblem {
  readonly rule: CodeProblemRule;
  readonly index: number;
  readonly field?: string;
  /** How bad, for choosing the worst record: px short, contrast short, 1 when unreadable. */
  readonly score: number;
  readonly message: string;
}

export interface CodeBox {
  readonly index: number;
  readonly rect: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
}

const formats: Readonly<Record<Symbology, ReadInputBarcodeFormat>> = { qr: 'QRCode', ean13: 'EAN13', code128: 'Code128', pdf417: 'PDF417', datamatrix: 'DataMatrix', aztec: 'Aztec' };

const require = createRequire(import.meta.url);

/** The wasm is read from the package folder, never fetched; one compiled module per process is ZXing's own cache. */
let reader: Promise<ZXingReaderModule> | undefined;
function zxing(): Promise<ZXingReaderModule> {
  reader ??= readFile(require.resolve('zxing-wasm/reader/zxing_reader.wasm')).then((bytes) => {
    const wasmBinary = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    return prepareZXingModule({ overrides: { wasmBinary, locateFile: (path: string) => require.resolve(`zxing-wasm/reader/${path}`) }, fireImmediately: true });
  });
  return reader;
}

/**
 * Decodes every code of `codes` from `encoded` (the final image), the boxes measured on the same
 * layout (CSS px of a `cssWidth` × `cssHeight` page) mapped onto the output's pixels.
 */
export async function scanCodes(encoded: Buffer, page: { readonly width: number; readonly height: number }, codes: readonly CodeSpec[], boxes: readonly CodeBox[]): Promise<CodeProblem[]> {
  if (codes.length === 0) return [];
  await zxing();
  const { data, info } = await sharp(encoded).flatten({ background: '#ffffff' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const sx = info.width / page.width, sy = info.height / page.height;
  const problems: CodeProblem[] = [];
  for (const code of codes) {
    const box = boxes.find((b) => b.index === code.index);
    const field = code.field === undefined ? {} : { field: code.field };
    const name = `${code.symbology === 'qr' ? 'QR code' : `${code.symbology} barcode`} ${code.index + 1}${code.field ? ` (field "${code.field}")` : ''}`;
    if (!box) {
      problems.push({ rule: 'code-unreadable', index: code.index, ...field, score: 1, message: `${name} is not visible on the page (no box to scan)` });
      continue;
    }
    const modulePx = box.rect.width * sx * code.moduleFraction;
    if (modulePx < minModulePx) {
      problems.push({ rule: 'code-too-small', index: code.index, ...field, score: minModulePx - modulePx, message: `${name}: a module is ${modulePx.toFixed(2)} px in the ${info.width}×${info.height} output, under ${minModulePx} px` });
    }
    // The box already holds the quiet zone; a margin of the page around it, as a phone's camera
    // sees it, keeps ZXing's local binarizer from misjudging the symbol at the crop's edge.
    const pad = Math.ceil(Math.max(4 * Math.max(1, modulePx), 0.25 * Math.max(box.rect.width * sx, box.rect.height * sy)));
    const left = Math.max(0, Math.floor(box.rect.x * sx) - pad), top = Math.max(0, Math.floor(box.rect.y * sy) - pad);
    const right = Math.min(info.width, Math.ceil((box.rect.x + box.rect.width) * sx) + pad), bottom = Math.min(info.height, Math.ceil((box.rect.y + box.rect.height) * sy) + pad);
    if (right - left < 4 || bottom - top < 4) {
      problems.push({ rule: 'code-unreadable', index: code.index, ...field, score: 1, message: `${name} is outside the image` });
      continue;
    }
    const crop = new Uint8ClampedArray((right - left) * (bottom - top) * 4);
    for (let y = top; y < bottom; y++) crop.set(data.subarray((y * info.width + left) * 4, (y * info.width + right) * 4), (y - top) * (right - left) * 4);
    const contrast = symbolContrast(crop);
    if (contrast < minSymbolContrast) {
      problems.push({ rule: 'code-low-contrast', index: code.index, ...field, score: minSymbolContrast - contrast, message: `${name}: symbol contrast ${Math.round(contrast * 100)} % in the output, under ${minSymbolContrast * 100} %` });
    }
    const image = { data: crop, width: right - left, height: bottom - top, colorSpace: 'srgb' } as ImageData;
    // The local binarizer first (what phone scanners use), then a global threshold, as a second scanner would.
    let read;
    for (const binarizer of ['LocalAverage', 'GlobalHistogram'] as const) {
      read = (await readBarcodes(image, { formats: [formats[code.symbology]], tryHarder: true, maxNumberOfSymbols: 1, binarizer })).find((r) => r.isValid);
      if (read) break;
    }
    if (!read) problems.push({ rule: 'code-unreadable', index: code.index, ...field, score: 1, message: `${name} does not decode from the ${info.width}×${info.height} output` });
    else if (read.text !== code.expected) problems.push({ rule: 'code-unreadable', index: code.index, ...field, score: 1, message: `${name} decodes to another value (${[...read.text].length} characters, ${[...code.expected].length} expected)` });
  }
  return problems;
}

/** Light minus dark luminance: the 95th and 5th percentiles of the crop, so one stray pixel cannot decide. */
function symbolContrast(rgba: Uint8ClampedArray): number {
  const values: number[] = [];
  for (let i = 0; i < rgba.length; i += 4) values.push(luminance(rgba[i]!, rgba[i + 1]!, rgba[i + 2]!));
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length * 0.95)]! - values[Math.floor(values.length * 0.05)]!;
}
