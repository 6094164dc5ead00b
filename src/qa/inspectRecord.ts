import { losslessPreset, type Pipeline, type RenderResult } from '../pipeline/index.js';
import type { LoadedTemplate } from '../template/index.js';
import type { Finding } from './finding.js';
import { FindingSet } from './findingSet.js';
import { renderedFindings } from './renderedRules.js';
import { applyLevels, levelsOf } from './rules.js';

export interface InspectedRecord {
  /** The lossless render the findings were measured on. */
  readonly result: RenderResult;
  /** The rendered rules' findings for this one record, at the template's levels. */
  readonly findings: readonly Finding[];
}

/**
 * One record through `mergeshot check`'s rendered rules (overflow by N px, clipping, fitted
 * size, glyphs, images, contrast, alt): the studio's ugly-data grid badges each tile with these.
 */
export async function inspectRecord(pipeline: Pipeline, template: LoadedTemplate, record: { readonly name: string; readonly data: Readonly<Record<string, unknown>> }, options: { readonly size?: string | undefined; readonly signal?: AbortSignal | undefined } = {}): Promise<InspectedRecord> {
  const result = await pipeline.renderOne({ template: template.dir, data: record.data, preset: losslessPreset, size: options.size, inspect: true, signal: options.signal });
  const found = new FindingSet();
  await renderedFindings(result, record.name, found, new Set());
  return { result, findings: applyLevels(found.list(), levelsOf(template.manifest)) };
}
