import { cacheKey } from '../cache/index.js';
import type { MergeshotConfig } from '../config/index.js';
import type { NormalizedRecord } from '../data/index.js';
import { encodedSize, type Preset, type PresetFormat } from '../encode/index.js';
import { UsageError } from '../errors/index.js';
import type { LoadedTemplate, TemplateRegistry, TemplateSize } from '../template/index.js';

/**
 * What every front end resolves before it renders: the template, its size, the preset and the
 * format, by one rule with one wording per mistake, so the CLI, the server, the studio and the
 * workers agree on what `--preset`, `?size=` or an `.jpg` extension mean.
 *
 *   preset given   → it must exist, and with an extension make that extension's format;
 *   extension only → the template's defaultPreset if it makes that format, else the
 *                    configured preset for the extension (server.extensionPresets);
 *   neither        → the template's defaultPreset, else `original`.
 * Names from requests are looked up among own properties only ("constructor" selects nothing).
 */
/**
 * The built-in lossless PNG at the template's own size: the default when nothing else decides,
 * and what inspection renders (preview sheets, doctor, readiness probe, golden images).
 */
export const losslessPreset = 'original';

const imageExtensions = ['png', 'jpg', 'jpeg', 'webp'] as const;
export type ImageExtension = (typeof imageExtensions)[number];

const formatOfExtension: Readonly<Record<ImageExtension, PresetFormat>> = { png: 'png', jpg: 'jpeg', jpeg: 'jpeg', webp: 'webp' };

export function isImageExtension(value: string): value is ImageExtension {
  return (imageExtensions as readonly string[]).includes(value);
}

/** The file extension a format is written with. */
export function extensionOf(format: string): string {
  return format === 'jpeg' ? 'jpg' : format;
}

export interface TargetRequest {
  /** A template id, or for the CLI a template folder path. */
  readonly template: string;
  readonly size?: string | undefined;
  readonly preset?: string | undefined;
  readonly ext?: ImageExtension | undefined;
}

export interface RenderTarget {
  readonly template: LoadedTemplate;
  readonly size: TemplateSize;
  readonly presetName: string;
  readonly preset: Preset;
  /** The encoded image's dimensions, known before rendering. */
  readonly output: { readonly width: number; readonly height: number };
}

/** What resolving needs of a pipeline (a Pipeline is one). */
export interface TargetContext {
  readonly config: Readonly<MergeshotConfig>;
  readonly presets: Readonly<Record<string, Preset>>;
  readonly registry: TemplateRegistry;
}

/**
 * `lookup: 'id'` for ids from URLs and API bodies (a folder name directly under templatesDir,
 * never a path); `'id-or-path'` for the CLI's argument, which may name a folder anywhere.
 */
export async function resolveTarget(context: TargetContext, request: TargetRequest, lookup: 'id' | 'id-or-path' = 'id'): Promise<RenderTarget> {
  const template = lookup === 'id' ? await context.registry.getById(request.template) : await context.registry.get(request.template);
  return targetOf(context, template, request);
}

/** resolveTarget for a template already loaded. */
export function targetOf(context: Omit<TargetContext, 'registry'>, template: LoadedTemplate, request: Omit<TargetRequest, 'template'>): RenderTarget {
  const presets = context.presets;
  const presetOf = (name: string): Preset | undefined => (Object.hasOwn(presets, name) ? presets[name] : undefined);
  const unknownPreset = (name: string) =>
    new UsageError('PRESET_UNKNOWN', `no preset "${name.slice(0, 40)}".`, { field: 'preset', hint: `Presets: ${Object.keys(presets).join(', ')}; add others under "presets" in mergeshot.config.json.` });
  let presetName: string;
  if (request.preset !== undefined) {
    presetName = request.preset;
  } else if (request.ext !== undefined) {
    const preferred = template.manifest.defaultPreset;
    const configured: Readonly<Record<string, string>> = context.config.server.extensionPresets;
    const key = request.ext === 'jpeg' ? 'jpg' : request.ext;
    presetName = preferred && presetOf(preferred)?.format === formatOfExtension[request.ext] ? preferred : Object.hasOwn(configured, key) ? configured[key]! : losslessPreset;
  } else {
    presetName = template.manifest.defaultPreset ?? losslessPreset;
  }
  const preset = presetOf(presetName);
  if (!preset) throw unknownPreset(presetName);
  if (request.ext !== undefined && preset.format !== formatOfExtension[request.ext]) {
    throw new UsageError('USAGE', `preset "${presetName}" makes ${preset.format} images, not ${formatOfExtension[request.ext]}.`, { field: 'preset', hint: `Use the .${extensionOf(preset.format)} extension, or a preset that makes ${formatOfExtension[request.ext]}.` });
  }
  let size: TemplateSize;
  try {
    size = template.size(request.size);
  } catch (error) {
    const names = ['default', ...Object.keys(template.manifest.sizes ?? {})];
    throw new UsageError('SIZE_UNKNOWN', `no size "${(request.size ?? '').slice(0, 40)}".`, { field: 'size', hint: `Sizes of ${template.id}: ${names.join(', ')}.` }, { cause: error });
  }
  return { template, size, presetName, preset, output: encodedSize(preset, size.width, size.height) };
}

/**
 * The cache key of a record's image on a target: the one derivation for every front end and the
 * workers, since a server looks up what a worker stored under it (a drift would make every image
 * URL after a distributed batch a miss).
 */
export function imageCacheKey(target: Pick<RenderTarget, 'template' | 'presetName' | 'preset' | 'size'>, record: NormalizedRecord): string {
  return cacheKey({ kind: 'image', template: target.template.id, templateVersion: target.template.version, preset: target.presetName, presetSpec: target.preset, size: target.size.name, record });
}

/** `--map field=Column` names fields of the template: one wording for every front end. */
export function assertMapFields(template: LoadedTemplate, map: Readonly<Record<string, string>>): void {
  for (const field of Object.keys(map)) {
    if (!Object.hasOwn(template.manifest.fields, field)) throw new UsageError('USAGE', `--map ${field}=…: "${field}" is not a field of ${template.id}. Fields: ${Object.keys(template.manifest.fields).join(', ')}.`);
  }
}
