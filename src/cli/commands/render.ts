import { createWriteStream } from 'node:fs';
import { appendFile, mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checkInputFormat, readFieldRows } from '../../data/index.js';
import { TemplateError, UsageError } from '../../errors/index.js';
import type { LoadedTemplate } from '../../template/index.js';
import { assertMapFields, manifestEntry, renderBatch, targetOf, writeFileAtomic, writeOutputsZip, type BatchRow, type ManifestEntry, type Pipeline } from '../../pipeline/index.js';
import { createNamer, inputHash, readResumeState, resumeFileName, writeManifest } from '../outputFiles.js';
import { createProgress, type Progress } from '../progress.js';

export interface RenderCommandOptions {
  readonly data: string;
  readonly preset?: string | undefined;
  readonly size?: string | undefined;
  readonly out: string;
  readonly name: string;
  readonly map: Readonly<Record<string, string>>;
  /** field → format of its column, from --date-format / --number-format; wins over `input` and inference. */
  readonly formats?: Readonly<Record<string, string>> | undefined;
  readonly concurrency?: number | undefined;
  readonly zip?: string | undefined;
  readonly resume: boolean;
  readonly signal: AbortSignal;
  readonly stdin?: NodeJS.ReadableStream;
}

export interface RenderSummary {
  readonly ok: number;
  readonly warning: number;
  readonly failed: number;
  readonly skipped: number;
  readonly interrupted: boolean;
  readonly manifestPath: string;
  readonly outDir: string;
}

/** `mergeshot render`: one image per record plus manifest.csv; one bad row never stops the batch. */
export async function runRender(pipeline: Pipeline, templateRef: string, options: RenderCommandOptions): Promise<RenderSummary> {
  const template = await pipeline.registry.get(templateRef);
  assertMapFields(template, options.map);
  const { presetName, size } = targetOf(pipeline, template, { preset: options.preset, size: options.size });

  const outDir = resolve(options.out);
  await mkdir(outDir, { recursive: true });
  const resume = options.resume ? await readResumeState(outDir) : { entries: new Map<number, ManifestEntry & { hash: string }>() };
  if (!options.resume) await appendFile(join(outDir, resumeFileName), '', { flag: 'w' });
  const entries = new Map<number, ManifestEntry>();
  const hashes = new Map<number, string>();
  const namer = createNamer(options.name);
  const progress = createProgress(undefined);
  const counts = { ok: 0, warning: 0, failed: 0, skipped: 0 };

  async function* rows(): AsyncGenerator<BatchRow> {
    for await (const row of templateRows(template, options, progress)) {
      hashes.set(row.row, inputHash([template.version, presetName, size.name, row.values]));
      yield row;
    }
  }

  const skip = (row: BatchRow): boolean => {
    const previous = resume.entries.get(row.row);
    if (!previous || previous.hash !== hashes.get(row.row) || previous.status === 'failed') return false;
    entries.set(row.row, previous);
    counts.skipped += 1;
    hashes.delete(row.row);
    return true;
  };

  const concurrency = options.concurrency ?? pipeline.config.render.pages * 2;
  try {
    for await (const outcome of renderBatch(pipeline, rows(), { template: template.dir, preset: presetName, size: size.name, map: undefined, concurrency, signal: options.signal, skip })) {
      let file = '';
      if (outcome.result) {
        file = namer(outcome.row, outcome.result.record, outcome.result.format === 'jpeg' ? 'jpg' : outcome.result.format);
        await writeFileAtomic(join(outDir, file), outcome.result.bytes);
      }
      const entry = manifestEntry(outcome, file);
      entries.set(outcome.row, entry);
      await appendFile(join(outDir, resumeFileName), `${JSON.stringify({ ...entry, hash: hashes.get(outcome.row) ?? '' })}\n`);
      hashes.delete(outcome.row);
      counts[outcome.status] += 1;
      progress.tick(outcome.status);
      if (outcome.error) progress.log(`failed: ${outcome.error.message}`);
    }
  } finally {
    progress.stop();
  }
  const manifestPath = await writeManifest(outDir, entries.values());
  if (options.zip) {
    await writeOutputsZip(createWriteStream(resolve(options.zip)), entries.values(), (file) => join(outDir, file));
  }
  return { ...counts, interrupted: options.signal.aborted, manifestPath, outDir };
}

/**
 * The input's rows mapped to the template's fields, as every batch front end reads them (local
 * and distributed), with date and number columns read by one format per column (readFieldRows:
 * two passes over a file; an ambiguous column throws FORMAT_AMBIGUOUS before any row renders).
 * Notes about the input go to `progress`.
 */
export async function* templateRows(
  template: LoadedTemplate,
  options: Pick<RenderCommandOptions, 'data' | 'stdin' | 'map' | 'formats'>,
  progress: Pick<Progress, 'log'>,
): AsyncGenerator<BatchRow> {
  const fields = template.manifest.fields;
  checkDeclaredFormats(template);
  // Every row keeps its input row number; an unreadable row travels on with its reason and
  // ends failed (renderBatch prefixes the row number once), as in server batches.
  yield* readFieldRows(options.data, fields, {
    ...(options.stdin ? { stdin: options.stdin } : {}),
    map: options.map,
    ...(options.formats ? { formats: options.formats } : {}),
    ...(template.manifest.locale ? { locale: template.manifest.locale } : {}),
    onHeader: (mapper) => {
      // Said once here rather than discovered row by row in the manifest.
      const absent = mapper.unmatchedFields;
      if (absent.length) progress.log(`note: no column for ${absent.map((f) => `"${f}"`).join(', ')}: every row uses the fallback (or renders it empty)`);
    },
    onNote: (message) => progress.log(`note: ${message}`),
    onFormats: (formats, inferred, columns) => {
      for (const field of inferred) {
        progress.log(`note: column "${columns.get(field) ?? field}" (field "${field}") read as ${formats[field]}, decided from all its values; --${fields[field]!.type}-format ${field}=… says otherwise`);
      }
    },
  });
}

/** A field's `input` the data stage cannot read fails before any row does, like a bad manifest. */
function checkDeclaredFormats(template: LoadedTemplate): void {
  const problems = Object.entries(template.manifest.fields).flatMap(([field, spec]) => {
    const problem = spec.input === undefined ? undefined : checkInputFormat(spec.type, spec.input, template.manifest.locale);
    return problem ? [`fields.${field}.input ${problem}`] : [];
  });
  if (problems.length) throw new TemplateError('MANIFEST_INVALID', `${template.dir}/template.json:\n${problems.join('\n')}`, { source: template.dir });
}

export async function assertReadable(path: string): Promise<void> {
  if (path === '-') return;
  await stat(path).catch(() => {
    throw new UsageError('USAGE', `--data ${path}: no such file. Give a CSV, JSON or NDJSON file, or - for standard input.`);
  });
}
