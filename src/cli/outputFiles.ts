import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { manifestCsv, writeFileAtomic, type ManifestEntry } from '../pipeline/index.js';

/** Writes manifest.csv (the kit's one schema, spreadsheet-safe cells) atomically into `outDir`. */
export async function writeManifest(outDir: string, entries: Iterable<ManifestEntry>): Promise<string> {
  const path = join(outDir, 'manifest.csv');
  await writeFileAtomic(path, manifestCsv(entries));
  return path;
}

/**
 * Output file names from a Handlebars pattern over the row number and the normalized record.
 * Names are slugged (no separators, no dot-files, capped) and made unique.
 */
export function createNamer(pattern: string): (row: number, record: Readonly<Record<string, unknown>>, extension: string) => string {
  const env = Handlebars.create();
  const render = env.compile(pattern, { noEscape: true, strict: false });
  const used = new Set<string>();
  return (row, record, extension) => {
    const base = slug(render({ ...record, row: String(row).padStart(5, '0') })) || String(row).padStart(5, '0');
    let name = `${base}.${extension}`;
    if (used.has(name)) name = `${base}-${row}.${extension}`;
    used.add(name);
    return name;
  };
}

function slug(value: string): string {
  return value
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}._-]+/gu, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 100);
}

/** Hash of everything that decides a row's output, for --resume. */
export function inputHash(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 24);
}

export interface ResumeState {
  readonly entries: Map<number, ManifestEntry & { readonly hash: string }>;
}

export const resumeFileName = '.mergeshot-resume.ndjson';

export async function readResumeState(outDir: string): Promise<ResumeState> {
  const entries = new Map<number, ManifestEntry & { hash: string }>();
  const text = await readFile(join(outDir, resumeFileName), 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as ManifestEntry & { hash: string };
      entries.set(entry.row, entry);
    } catch {
      // A line cut by a crash: that row simply renders again.
    }
  }
  return { entries };
}
