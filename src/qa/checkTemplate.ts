import { readdir } from 'node:fs/promises';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isMergeshotError } from '../errors/index.js';
import { FileError, readConfined } from '../files/index.js';
import { losslessPreset, targetOf, type Pipeline } from '../pipeline/index.js';
import { scanCodes } from './codeRules.js';
import { edgeCases, type CheckRecord } from './edgeCases.js';
import type { Finding, RawFinding } from './finding.js';
import { FindingSet } from './findingSet.js';
import { renderedFindings } from './renderedRules.js';
import { applyLevels, defaultLevels, levelsOf, rules } from './rules.js';
import { usageOf } from './fieldUsage.js';
import { fontFaceFamilies, lineOfKey, staticFindings } from './staticRules.js';
import { outsideLinks, readTemplateSource, type TemplateSource } from './templateSource.js';

export interface CheckOptions {
  /** One of the template's sizes; the default size when absent. */
  readonly size?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface CheckReport {
  readonly template: string;
  readonly dir: string;
  readonly size: string;
  /** Every finding at its template's level (rules set to "off" are left out), by rule. */
  readonly findings: readonly Finding[];
  /** The samples and generated cases rendered. */
  readonly records: readonly string[];
  readonly durationMs: number;
  /** Why the rendered checks did not run, when they did not. */
  readonly skipped?: string;
}

/** Channels that cannot show WebP: Outlook and many mail clients, WhatsApp (stickers only). */
const noWebp = /email|mail|whatsapp/i;

/**
 * `mergeshot check`: the static rules on the template's files, then every sample and every
 * generated edge case rendered with inspection (lossless, the chosen size), then the samples
 * through the presets the template is made for (its defaultPreset and `check.presets`): their
 * formats against their channels, their byte budgets.
 */
export async function checkTemplate(pipeline: Pipeline, ref: string, options: CheckOptions = {}): Promise<CheckReport> {
  const started = performance.now();
  const dir = await pipeline.registry.folder(ref);
  const links = await outsideLinks(dir);
  let source: TemplateSource;
  try {
    source = await readTemplateSource(pipeline.registry, ref);
  } catch (error) {
    // template.html or template.json is such a link: the links are the whole report.
    if (!(error instanceof FileError)) throw error;
    const size = options.size ?? 'default';
    return { template: basename(dir), dir, size, findings: sortFindings(applyLevels(links, defaultLevels)), records: [], durationMs: Math.round(performance.now() - started), skipped: error.message };
  }
  const raw: RawFinding[] = [...links, ...staticFindings(source, await bundledFamilies(pipeline.config.stylesDir))];
  if (source.manifest.alt === undefined || source.manifest.alt.trim() === '') {
    raw.push({ rule: 'alt-missing', file: 'template.json', message: 'the template has no alt text: email clients show nothing (or the file name) where the image is blocked', fix: rules['alt-missing'].fix });
  }
  const records: CheckRecord[] = [
    ...Object.entries(source.manifest.samples ?? {}).map(([name, data]) => ({ name, data })),
    ...edgeCases(source.manifest, pipeline.config.data.maxLength),
  ];
  const done = (findings: readonly RawFinding[], size: string, skipped?: string): CheckReport => ({
    template: source.id,
    dir: source.dir,
    size,
    findings: sortFindings(applyLevels(findings, levelsOf(source.manifest))),
    records: skipped ? [] : records.map((record) => record.name),
    durationMs: Math.round(performance.now() - started),
    ...(skipped ? { skipped } : {}),
  });
  if (raw.some((finding) => finding.rule === 'unescaped-output')) {
    return done(raw, options.size ?? 'default', 'the renderer refuses a template with unescaped output: fix it to run the rendered checks');
  }

  const template = await pipeline.registry.get(source.dir);
  const target = targetOf(pipeline, template, { preset: losslessPreset, size: options.size });
  const rendered = new FindingSet();
  const staticOrigins = new Set(raw.flatMap((finding) => (finding.rule === 'external-url' ? originsIn(finding.message) : [])));
  const presetNames = [...new Set([template.manifest.defaultPreset ?? losslessPreset, ...(template.manifest.check?.presets ?? [])])];
  for (const record of records) {
    const result = await renderRecord(pipeline, { template: template.dir, data: record.data, preset: target.presetName, size: target.size.name, inspect: true, signal: options.signal });
    if (!result) continue;
    await renderedFindings(result, record.name, rendered, staticOrigins);
    if (result.codes.length > 0) {
      // Codes are scanned in the images that ship: the same layout, encoded by each preset.
      for (const name of presetNames) {
        const shipped = await renderRecord(pipeline, { template: template.dir, data: record.data, preset: name, size: target.size.name, signal: options.signal });
        if (!shipped) continue;
        for (const problem of await scanCodes(shipped.bytes, target.size, shipped.codes, result.inspection?.codes ?? [])) {
          rendered.add(`${problem.rule}\0${problem.index}`, record.name, problem.score, { rule: problem.rule, ...(problem.field ? { field: problem.field } : {}), message: `preset "${name}": ${problem.message}`, fix: rules[problem.rule].fix });
        }
      }
    }
  }

  for (const name of presetNames) {
    const { preset } = targetOf(pipeline, template, { preset: name, size: target.size.name });
    if (preset.format === 'webp' && noWebp.test(name)) {
      raw.push({ rule: 'format-channel', file: 'template.json', ...(name === template.manifest.defaultPreset ? { line: lineOfKey(source.manifestText, 'defaultPreset') } : {}), message: `preset "${name}" makes WebP, which its channel cannot show`, fix: rules['format-channel'].fix });
    }
    if (preset.maxBytes === undefined) continue;
    for (const record of records.filter((one) => !one.name.startsWith('generated:'))) {
      const result = await renderRecord(pipeline, { template: template.dir, data: record.data, preset: name, size: target.size.name, signal: options.signal });
      if (result?.warnings.some((warning) => warning.code === 'over-budget')) {
        rendered.add(`over-budget\0${name}`, record.name, result.bytes.length, { rule: 'over-budget', message: `preset "${name}": ${result.bytes.length} bytes, over its budget of ${preset.maxBytes} bytes`, fix: rules['over-budget'].fix });
      }
    }
  }
  return done([...raw, ...located(rendered.list(), source.html)], target.size.name);
}

/** A rendered finding about a field points at where template.html prints it first. */
function located(findings: readonly RawFinding[], html: string): RawFinding[] {
  const uses = usageOf(html, 'template.html').uses;
  return findings.map((finding) => {
    if (finding.file !== undefined || finding.field === undefined) return finding;
    const use = uses.find((u) => u.field === finding.field && u.printed) ?? uses.find((u) => u.field === finding.field);
    return use ? { ...finding, file: 'template.html', line: use.line } : finding;
  });
}

/** A record the data stage refuses (a required field missing) renders nothing: required-field covers it. */
async function renderRecord(pipeline: Pipeline, request: Parameters<Pipeline['renderOne']>[0]) {
  try {
    return await pipeline.renderOne(request);
  } catch (error) {
    if (isMergeshotError(error) && error.code === 'FIELD_REQUIRED') return undefined;
    throw error;
  }
}

/** The font families the shared styles provide: @font-face rules and the names in the --font-* stacks. */
async function bundledFamilies(stylesDir: string): Promise<Set<string>> {
  const families = new Set<string>();
  const files = await readdir(stylesDir).catch(() => []);
  for (const file of files.filter((name) => name.endsWith('.css'))) {
    // A sheet the renderer would refuse (a link out of the folder) provides no family.
    const text = await readConfined(stylesDir, file, 'utf8').catch(() => '');
    for (const family of fontFaceFamilies(text)) families.add(family);
    for (const match of text.matchAll(/--font-[\w-]+\s*:\s*([^;]+);/g)) {
      for (const name of match[1]!.matchAll(/['"]([^'"]+)['"]/g)) families.add(name[1]!.toLowerCase());
    }
  }
  return families;
}

function originsIn(message: string): string[] {
  const url = /(?:https?:)?\/\/[^\s"')]+/.exec(message)?.[0];
  if (!url) return [];
  const absolute = url.startsWith('//') ? `https:${url}` : url;
  return URL.canParse(absolute) ? [new URL(absolute).origin, new URL(absolute.replace(/^https:/, 'http:')).origin] : [];
}

const ruleOrder = Object.keys(rules);

function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort((a, b) => ruleOrder.indexOf(a.rule) - ruleOrder.indexOf(b.rule) || (a.file ?? '').localeCompare(b.file ?? '') || (a.line ?? 0) - (b.line ?? 0) || (a.field ?? '').localeCompare(b.field ?? ''));
}
