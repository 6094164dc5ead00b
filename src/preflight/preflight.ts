import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createColumnMapper, foldColumnName, inferredFormatNote, readFieldRows, type ColumnOverrides } from '../data/index.js';
import { isMergeshotError, UsageError } from '../errors/index.js';
import { assertMapFields, extensionOf, losslessPreset, renderBatch, targetOf, writeFileAtomic, type BatchRow, type Pipeline } from '../pipeline/index.js';
import { scanCodes } from '../qa/index.js';
import { PreflightCollector } from './collect.js';
import { reportHtml, type PreflightSummary, type RenderedCase } from './report.js';

export interface PreflightOptions {
  /** CSV, JSON or NDJSON file, or - for standard input. */
  readonly data: string;
  readonly preset?: string | undefined;
  readonly size?: string | undefined;
  readonly map: ColumnOverrides;
  /** field → format of its column (`--date-format`, the API's `formats`); wins over `input` and inference. */
  readonly formats?: Readonly<Record<string, string>> | undefined;
  /** The report folder: report.html, summary.json and images/. */
  readonly out: string;
  /** The column that names the recipient, for duplicate recipients; default: an e-mail column. */
  readonly recipient?: string | undefined;
  /** Rows measured at once; default 2 × pages. */
  readonly concurrency?: number | undefined;
  readonly signal: AbortSignal;
  readonly stdin?: NodeJS.ReadableStream;
  readonly onNote?: (message: string) => void;
  readonly onRow?: (status: 'ok' | 'warning' | 'failed') => void;
}

const recipientHeaders = new Set(['email', 'emailaddress', 'mail', 'recipient', 'to']);

/**
 * `mergeshot preflight`: the checklist over the real list before a send. Every row is read as a
 * stream and measured (normalized, merged, laid out in the page; never captured or encoded);
 * only the rows the report shows are rendered, with the campaign's preset.
 */
export async function runPreflight(pipeline: Pipeline, templateRef: string, options: PreflightOptions): Promise<PreflightSummary> {
  const started = performance.now();
  const template = await pipeline.registry.get(templateRef);
  assertMapFields(template, options.map);
  const target = targetOf(pipeline, template, { preset: options.preset, size: options.size });
  const fields = template.manifest.fields;
  const textFields = Object.entries(fields).flatMap(([name, spec]) => (spec.type === 'text' ? [name] : []));
  const collector = new PreflightCollector({ textFields });
  let headers: readonly string[] = [];
  let mapping: { field: string; column: string | undefined }[] = [];
  let unusedColumns: readonly string[] = [];
  let recipientColumn: string | undefined;
  let mapper: ReturnType<typeof createColumnMapper> | undefined;
  const valuesByRow = new Map<number, Readonly<Record<string, unknown>>>();
  const notes: string[] = [];
  const note = (message: string) => {
    notes.push(message);
    options.onNote?.(message);
  };

  const useHeaders = (names: readonly string[]) => {
    headers = names;
    mapper = createColumnMapper(fields, names, options.map);
    mapping = Object.keys(fields).map((field) => ({ field, column: mapper!.columns.get(field) }));
    unusedColumns = mapper.unusedColumns;
    if (options.recipient !== undefined) {
      if (!names.includes(options.recipient)) throw new UsageError('USAGE', `--recipient ${options.recipient.slice(0, 60)}: no such column. Columns: ${names.join(', ')}.`);
      recipientColumn = options.recipient;
    } else {
      recipientColumn = names.find((name) => recipientHeaders.has(foldColumnName(name)));
    }
  };

  // Read as every batch front end reads (readFieldRows): one format per date and number column,
  // an ambiguous one refused before any row is measured, the reader's row warnings kept on the row.
  async function* rows(): AsyncGenerator<BatchRow> {
    const reading = readFieldRows(options.data, fields, {
      ...(options.stdin ? { stdin: options.stdin } : {}),
      map: options.map,
      ...(options.formats ? { formats: options.formats } : {}),
      ...(template.manifest.locale ? { locale: template.manifest.locale } : {}),
      onHeader: (_mapper, names) => useHeaders(names),
      onNote: note,
      onFormats: (formats, inferred, columns) => {
        for (const field of inferred) note(inferredFormatNote(field, formats[field], columns));
      },
      onInput: (row) => {
        if (!mapper) useHeaders(Object.keys(row.values));
        collector.observeInput(row.row, row.values, recipientColumn, !row.error);
      },
    });
    for await (const row of reading) {
      valuesByRow.set(row.row, row.values);
      yield row;
    }
  }

  const concurrency = options.concurrency ?? pipeline.config.render.pages * 2;
  for await (const outcome of renderBatch(pipeline, rows(), { template: template.dir, preset: target.presetName, size: target.size.name, concurrency, signal: options.signal, measure: true })) {
    collector.add(outcome, valuesByRow.get(outcome.row) ?? {});
    valuesByRow.delete(outcome.row);
    options.onRow?.(outcome.status);
  }
  const measuredMs = performance.now() - started;

  const outDir = resolve(options.out);
  const imagesDir = join(outDir, 'images');
  await rm(imagesDir, { recursive: true, force: true });
  await mkdir(imagesDir, { recursive: true });
  const cases: RenderedCase[] = [];
  for (const [index, c] of collector.cases().entries()) {
    if (options.signal.aborted) break;
    try {
      const result = await pipeline.renderOne({ template: template.dir, data: c.values, preset: target.presetName, size: target.size.name, signal: options.signal });
      const file = `${String(index + 1).padStart(2, '0')}-row-${c.row}.${extensionOf(result.format)}`;
      await writeFileAtomic(join(imagesDir, file), result.bytes);
      // Every code in the image that ships must scan: the same decode as `mergeshot check`.
      const codes = result.codes.length === 0 ? [] : await scanCodes(result.bytes, target.size, result.codes, (await pipeline.renderOne({ template: template.dir, data: c.values, preset: losslessPreset, size: target.size.name, inspect: true, signal: options.signal })).inspection?.codes ?? []);
      const warnings = [...result.warnings.map((w) => `${w.code}${w.field ? `:${w.field}` : ''}`), ...codes.map((p) => `${p.rule}${p.field ? `:${p.field}` : ''}`)];
      if (codes.length > 0) note(`row ${c.row}: ${codes.map((p) => p.message).join('; ')}`);
      cases.push({ label: c.label, row: c.row, file: `images/${file}`, width: result.width, height: result.height, bytes: result.bytes.length, warnings });
    } catch (error) {
      cases.push({ label: c.label, row: c.row, error: isMergeshotError(error) ? `${error.code}: ${error.message}` : 'INTERNAL' });
    }
  }

  const summary: PreflightSummary = {
    template: template.id,
    preset: target.presetName,
    size: target.size.name,
    rows: collector.rows,
    failed: collector.failed,
    warned: collector.warned,
    clean: collector.rows - collector.failed - collector.warned,
    kinds: [...collector.kinds.values()].sort((a, b) => b.count - a.count).map((k) => ({ code: k.code, rows: k.count, firstRows: k.rows, firstFindings: k.findings, fields: Object.fromEntries(k.fields) })),
    duplicateRows: { count: collector.duplicateRows.length, firstPairs: collector.duplicateRows.slice(0, 50) },
    duplicateRecipients: { column: recipientColumn ?? null, count: collector.duplicateRecipients.length, firstPairs: collector.duplicateRecipients.slice(0, 50) },
    emptyColumns: collector.emptyColumns(headers),
    unusedColumns: [...unusedColumns],
    mapping,
    notes,
    cases,
    measuredRowsPerSecond: Math.round((collector.rows / Math.max(measuredMs, 1)) * 1000 * 10) / 10,
    interrupted: options.signal.aborted,
  };
  await writeFileAtomic(join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  await writeFileAtomic(join(outDir, 'report.html'), reportHtml(summary));
  return summary;
}
