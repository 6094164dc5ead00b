import bwipjs from 'bwip-js';
import QRCode from 'qrcode';
import { TemplateError } from '../errors/index.js';

/**
 * QR codes and barcodes as inline SVG: `{{qr value}}` (node-qrcode) and
 * `{{barcode value type="ean13"}}` (bwip-js). The SVG holds only numbers, path data and the
 * validated colours, never the value's text, so a value cannot inject markup; the same value
 * and options give the same bytes (neither library draws anything random or dated).
 *
 * Each code rendered is recorded (CodeSpec) with the value it must scan back to, so
 * `mergeshot check` and preflight can decode it from the final image. The record stays in
 * Node's memory: the page only carries the code's index.
 */

export const symbologies = ['qr', 'ean13', 'code128', 'pdf417', 'datamatrix', 'aztec'] as const;
export type Symbology = (typeof symbologies)[number];

/** What the helpers write into a render's Handlebars data (`data.mergeshot`). */
export interface CodeCollector {
  /** The template's field fallbacks, for a value the symbology cannot encode. */
  readonly fallbacks: Readonly<Record<string, unknown>>;
  readonly codes: CodeSpec[];
  readonly warnings: { readonly code: 'fallback' | 'invalid'; readonly field?: string; readonly message: string }[];
}

/** One code drawn on the page, keyed by `index` (its data-code-index attribute). */
export interface CodeSpec {
  readonly index: number;
  readonly symbology: Symbology;
  /** The text a decoder must read back (EAN-13 with its check digit). Personal data: never logged. */
  readonly expected: string;
  /** One module's width as a fraction of the SVG's width (quiet zone included). */
  readonly moduleFraction: number;
  readonly field?: string;
}

export interface CodeOptions {
  readonly symbology: Symbology;
  /** QR error correction. */
  readonly ecc: 'L' | 'M' | 'Q' | 'H';
  /** Quiet zone in modules on each side. */
  readonly quiet: number;
  /** #rrggbb */
  readonly dark: string;
  readonly light: string;
}

const hashKeys = { qr: ['ecc', 'quiet', 'dark', 'light', 'class'], barcode: ['type', 'ecc', 'quiet', 'dark', 'light', 'class'] } as const;
const typeAliases: Readonly<Record<string, Symbology>> = { qr: 'qr', qrcode: 'qr', ean13: 'ean13', 'ean-13': 'ean13', code128: 'code128', 'code-128': 'code128', pdf417: 'pdf417', datamatrix: 'datamatrix', 'data-matrix': 'datamatrix', aztec: 'aztec' };
/** Quiet zones the symbologies' specifications ask for, in modules. */
const defaultQuiet: Readonly<Record<Symbology, number>> = { qr: 4, ean13: 11, code128: 10, pdf417: 2, datamatrix: 1, aztec: 1 };
const bwipIds: Readonly<Record<Exclude<Symbology, 'qr'>, string>> = { ean13: 'ean13', code128: 'code128', pdf417: 'pdf417', datamatrix: 'datamatrix', aztec: 'azteccode' };
/** bwip-js draws a 2D module 2 units wide at scale 1, a 1D module (and a PDF417 column) 1 unit. */
const bwipModuleUnits: Readonly<Record<Exclude<Symbology, 'qr'>, number>> = { ean13: 1, code128: 1, pdf417: 1, datamatrix: 2, aztec: 2 };

function invalidOption(helper: string, name: string, expected: string, actual: unknown): TemplateError {
  const shown = typeof actual === 'string' ? `"${actual.slice(0, 20)}"` : `${String(actual).slice(0, 20)} (${typeof actual})`;
  return new TemplateError('TEMPLATE_INVALID', `${helper}: ${name}=${shown} is not valid: expected ${expected}.`, { hint: `write e.g. {{${helper} ticketId${helper === 'barcode' ? ' type="code128"' : ''} ${name}=…}}` });
}

function colour(helper: string, name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^#(?:[\da-f]{3}|[\da-f]{6})$/i.test(value)) throw invalidOption(helper, name, 'a hex colour such as "#1b1d29" or "#fff"', value);
  const hex = value.slice(1).toLowerCase();
  return `#${hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex}`;
}

/** The helper's hash, checked where the template writes it: a bad option fails the template, not a record. */
export function codeOptions(helper: 'qr' | 'barcode', hash: Readonly<Record<string, unknown>>): CodeOptions & { readonly className: string } {
  for (const key of Object.keys(hash)) {
    if (!(hashKeys[helper] as readonly string[]).includes(key)) throw invalidOption(helper, key, `one of the options ${hashKeys[helper].join(', ')}`, hash[key]);
  }
  let symbology: Symbology = 'qr';
  if (helper === 'barcode') {
    const type = hash.type;
    const found = typeof type === 'string' ? typeAliases[type.toLowerCase()] : undefined;
    if (!found) throw invalidOption(helper, 'type', `one of ${symbologies.join(', ')}`, type);
    symbology = found;
  }
  const ecc = hash.ecc ?? 'M';
  if (typeof ecc !== 'string' || !['L', 'M', 'Q', 'H'].includes(ecc.toUpperCase())) throw invalidOption(helper, 'ecc', 'L, M, Q or H (QR error correction: 7, 15, 25 or 30 %)', ecc);
  if (hash.ecc !== undefined && symbology !== 'qr') throw invalidOption(helper, 'ecc', `no ecc for type="${symbology}" (only QR codes take it)`, hash.ecc);
  const quiet = hash.quiet ?? defaultQuiet[symbology];
  if (typeof quiet !== 'number' || !Number.isInteger(quiet) || quiet < 0 || quiet > 20) throw invalidOption(helper, 'quiet', 'a whole number of modules from 0 to 20', quiet);
  const className = hash.class ?? '';
  if (typeof className !== 'string' || !/^[\w -]*$/.test(className)) throw invalidOption(helper, 'class', 'class names (letters, digits, - and _)', className);
  return { symbology, ecc: ecc.toUpperCase() as CodeOptions['ecc'], quiet, dark: colour(helper, 'dark', hash.dark, '#000000'), light: colour(helper, 'light', hash.light, '#ffffff'), className };
}

export interface DrawnCode {
  readonly svg: string;
  readonly expected: string;
  readonly moduleFraction: number;
}

/** Appends the GS1 check digit to 12 digits; 13 digits must already carry the right one. */
function ean13Expected(value: string): string {
  if (!/^\d{12,13}$/.test(value)) return value;
  const digits = [...value.slice(0, 12)].map(Number);
  const check = (10 - (digits.reduce((sum, d, i) => sum + d * (i % 2 ? 3 : 1), 0) % 10)) % 10;
  return `${value.slice(0, 12)}${check}`;
}

const viewBoxWidth = (svg: string) => Number(/viewBox="0 0 ([\d.]+) [\d.]+"/.exec(svg)?.[1] ?? Number.NaN);

/**
 * Draws `value`, or returns a reason (no value text in it) when the symbology cannot encode it:
 * letters in an EAN-13, a wrong check digit, too much data for a QR code.
 */
export function drawCode(value: string, options: CodeOptions): DrawnCode | { readonly invalid: string } {
  if (value === '') return { invalid: 'the value is empty' };
  try {
    if (options.symbology === 'qr') {
      const modules = QRCode.create(value, { errorCorrectionLevel: options.ecc }).modules.size;
      const svg = qrSvg(value, options);
      return { svg, expected: value, moduleFraction: 1 / (modules + 2 * options.quiet) };
    }
    if (options.symbology === 'ean13' && !/^\d{12,13}$/.test(value)) return { invalid: `an EAN-13 is 12 or 13 digits; the value has ${[...value].length} characters${/\D/.test(value) ? ', not all digits' : ''}` };
    const units = bwipModuleUnits[options.symbology];
    const svg = bwipjs.toSVG({ bcid: bwipIds[options.symbology], text: value, scale: 1, paddingwidth: options.quiet * units, paddingheight: options.quiet * units, barcolor: options.dark.slice(1), backgroundcolor: options.light.slice(1) });
    return { svg, expected: options.symbology === 'ean13' ? ean13Expected(value) : value, moduleFraction: units / viewBoxWidth(svg) };
  } catch (error) {
    return { invalid: reasonOf(error, options.symbology) };
  }
}

function qrSvg(value: string, options: CodeOptions): string {
  // toString's callback runs synchronously for SVG; the promise form would make the helper async.
  let out = '';
  QRCode.toString(value, { type: 'svg', errorCorrectionLevel: options.ecc, margin: options.quiet, color: { dark: options.dark, light: options.light } }, (error, svg) => {
    if (error) throw error;
    out = svg;
  });
  return out;
}

/** bwip-js and node-qrcode messages name the rule, never echo the value; kept short. */
function reasonOf(error: unknown, symbology: Symbology): string {
  const message = error instanceof Error ? error.message : String(error);
  const rule = message.replace(/^bwipp\.\w+#\d+:\s*/, '').slice(0, 120);
  return `${symbology} cannot encode it (${rule})`;
}

/** The SVG made to fill its wrapper's width, with a fixed accessible name. */
export function codeElement(drawn: DrawnCode, symbology: Symbology, index: number, className: string): string {
  const svg = drawn.svg.trim().replace(/^<svg\b/, `<svg width="100%" preserveAspectRatio="xMidYMid meet" style="display:block;height:auto" aria-hidden="true" focusable="false"`);
  const classes = ['mergeshot-code', `mergeshot-code-${symbology}`, ...className.split(/\s+/).filter(Boolean)].join(' ');
  const label = symbology === 'qr' ? 'QR code' : `${symbology} barcode`;
  return `<span class="${classes}" role="img" aria-label="${label}" data-mergeshot-code="${symbology}" data-code-index="${index}">${svg}</span>`;
}
