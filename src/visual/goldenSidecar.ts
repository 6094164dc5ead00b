import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { canonicalJson } from '../cache/index.js';
import type { RenderWarning } from '../errors/index.js';
import { goldenFolder } from './paths.js';

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

export async function readSidecar(path: string): Promise<GoldenSidecar | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as GoldenSidecar);
}

export async function writeSidecar(path: string, sidecar: GoldenSidecar): Promise<void> {
  await writeFile(path, sidecarJson(sidecar));
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

async function hashFolder(dir: string): Promise<Record<string, string>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const hashes: Record<string, string> = {};
  const files = entries.map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'));
  for (const [index, name] of files.entries()) {
    if (!entries[index]!.isFile() || name.split('/')[0] === goldenFolder) continue;
    hashes[name] = hashOf(await readFile(join(dir, name)));
  }
  return Object.fromEntries(Object.entries(hashes).sort(([a], [b]) => (a < b ? -1 : 1)));
}
