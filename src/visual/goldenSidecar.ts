import { createHash } from 'node:crypto';
import { canonicalJson } from '../cache/index.js';
import type { RenderWarning } from '../errors/index.js';
import { listTree, readConfined, writeConfined } from '../files/index.js';
import { goldenFiles, goldenFolder } from './paths.js';

/**
 * The sidecar stored beside each golden (`<sample>.<size>.<preset>.json`), written when the
 * golden is accepted: the render's warnings and a hash of each input, so that a mismatch can
 * say which inputs changed since (template files, shared styles, font packages, the record).
 */
export interface GoldenInputs {
  /** Each file of the template folder (but `__golden__/`), by path relative to it. */
  readonly template: Readonly<Record<string, string>>;
  /** Each file of the shared styles folder. */
  readonly styles: Readonly<Record<string, string>>;
  /** Font package → installed version. */
  readonly fonts: Readonly<Record<string, string>>;
  /** The sample record. */
  readonly record: string;
}

export interface GoldenSidecar {
  /** Hash of the golden image this sidecar describes. */
  readonly image: string;
  readonly warnings: readonly { readonly code: string; readonly field: string; readonly message: string }[];
  readonly inputs: GoldenInputs;
}

export function hashOf(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

export async function goldenInputs(templateDir: string, stylesDir: string, fonts: Readonly<Record<string, string>>, record: Readonly<Record<string, unknown>>): Promise<GoldenInputs> {
  return { template: await hashFolder(templateDir), styles: await hashFolder(stylesDir), fonts, record: recordHash(record) };
}

/** The `record` input of a sidecar: a hash of the sample, canonical so key order does not count. */
export function recordHash(record: Readonly<Record<string, unknown>>): string {
  return hashOf(canonicalJson(record));
}

export function sidecarOf(image: Buffer, warnings: readonly RenderWarning[], inputs: GoldenInputs): GoldenSidecar {
  return { image: hashOf(image), warnings: warnings.map(({ code, field, message }) => ({ code, field: field ?? '', message })), inputs };
}

/**
 * The sidecar of a case, read inside its template folder (a link out of it is refused,
 * FILE_OUTSIDE_ROOT); undefined when there is none, or when the file is not a sidecar (a link to
 * another file of the template): accepting then writes a real one in its place.
 */
export async function readSidecar(templateDir: string, caseName: string): Promise<GoldenSidecar | undefined> {
  const text = await readConfined(templateDir, goldenFiles(caseName).sidecar, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isSidecar(parsed) ? parsed : undefined;
}

function isSidecar(value: unknown): value is GoldenSidecar {
  const sidecar = value as Partial<GoldenSidecar> | null;
  return typeof sidecar === 'object' && sidecar !== null && typeof sidecar.image === 'string' && Array.isArray(sidecar.warnings) && typeof sidecar.inputs?.template === 'object' && typeof sidecar.inputs.styles === 'object';
}

/**
 * Writes a case's sidecar atomically, as the golden PNG is written, and never through a link: a
 * link under its name is replaced, a `__golden__` that is a link is refused (FILE_IS_LINK).
 */
export async function writeSidecar(templateDir: string, caseName: string, sidecar: GoldenSidecar): Promise<void> {
  await writeConfined(templateDir, goldenFiles(caseName).sidecar, sidecarJson(sidecar));
}

export function sidecarJson(sidecar: GoldenSidecar): string {
  return `${JSON.stringify(sidecar, null, 2)}\n`;
}

/** One line per input that differs: "template.html changed", "styles/fit.css added", "record changed". */
export function changedInputs(before: GoldenInputs, after: GoldenInputs): string[] {
  const lines = [...changedFiles('', before.template, after.template), ...changedFiles('styles/', before.styles, after.styles)];
  for (const name of new Set([...Object.keys(before.fonts), ...Object.keys(after.fonts)])) {
    if (before.fonts[name] !== after.fonts[name]) lines.push(`font ${name} ${before.fonts[name] ?? '(none)'} → ${after.fonts[name] ?? '(none)'}`);
  }
  if (before.record !== after.record) lines.push('record (the sample) changed');
  return lines;
}

function changedFiles(prefix: string, before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): string[] {
  const lines: string[] = [];
  for (const name of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    if (before[name] === after[name]) continue;
    lines.push(`${prefix}${name} ${before[name] === undefined ? 'added' : after[name] === undefined ? 'removed' : 'changed'}`);
  }
  return lines;
}

/** The folder's regular files (links are not followed), by sorted relative path. */
async function hashFolder(dir: string): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const entry of await listTree(dir)) {
    if (entry.kind !== 'file' || entry.path.split('/')[0] === goldenFolder) continue;
    hashes[entry.path] = hashOf(await readConfined(dir, entry.path));
  }
  return hashes;
}
