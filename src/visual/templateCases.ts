import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readConfinedSync } from '../files/index.js';
import { parseManifest, type Manifest } from '../template/index.js';
import type { VisualCheck, VisualMask } from './comparableImage.js';
import { goldenFolder } from './paths.js';

/** One image test: a sample of a template at one size and preset. */
export interface TemplateCase {
  readonly sample: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly size: string;
  readonly sizeWidth: number;
  readonly preset: string;
  /** `<sample>.<size>.<preset>`: the golden is `__golden__/<name>.png`, its sidecar `<name>.json`. */
  readonly name: string;
  readonly masks: readonly VisualMask[];
}

export interface TemplateSuite {
  readonly id: string;
  readonly dir: string;
  readonly visual: VisualCheck;
  readonly cases: readonly TemplateCase[];
  /** Why no case could be made (an invalid manifest, no samples): one failing test says it. */
  readonly problem?: string;
}

/** Names that are safe as one file-name segment on every platform. */
const fileSafe = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * Every template × sample × size × preset under templatesDir, read synchronously: Playwright
 * declares the tests while it loads the spec file. Sizes are `default` and the manifest's
 * named sizes; presets are `check.presets` (default: `original`).
 */
export function templateSuites(templatesDir: string): TemplateSuite[] {
  const ids = readdirSync(templatesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== goldenFolder && existsSync(join(templatesDir, entry.name, 'template.json')))
    .map((entry) => entry.name)
    .sort();
  return ids.map((id) => suiteOf(id, join(templatesDir, id)));
}

function suiteOf(id: string, dir: string): TemplateSuite {
  const source = join(dir, 'template.json');
  let manifest: Manifest;
  try {
    manifest = parseManifest(JSON.parse(readConfinedSync(dir, 'template.json')), source);
  } catch (error) {
    return { id, dir, visual: {}, cases: [], problem: (error as Error).message };
  }
  return visualSuite(id, dir, manifest);
}

/** The cases of one loaded template (the studio's visual review has its manifest already). */
export function visualSuite(id: string, dir: string, manifest: Manifest): TemplateSuite {
  const source = join(dir, 'template.json');
  const visual = manifest.check?.visual ?? {};
  const samples = Object.entries(manifest.samples ?? {});
  if (samples.length === 0) return { id, dir, visual, cases: [], problem: `${source}: no "samples": add at least one sample record so the template's look is checked.` };
  const unsafe = samples.map(([name]) => name).filter((name) => !fileSafe.test(name));
  if (unsafe.length > 0) return { id, dir, visual, cases: [], problem: `${source}: sample names ${unsafe.map((name) => `"${name}"`).join(', ')} cannot name a golden file: use letters, digits, "-" and "_".` };
  const sizes = [{ name: 'default', width: manifest.width }, ...Object.entries(manifest.sizes ?? {}).map(([name, size]) => ({ name, width: size.width }))];
  const presets = manifest.check?.presets ?? ['original'];
  const cases = samples.flatMap(([sample, data]) =>
    sizes.flatMap((size) =>
      presets.map((preset) => ({
        sample,
        data,
        size: size.name,
        sizeWidth: size.width,
        preset,
        name: `${sample}.${size.name}.${preset}`,
        masks: (visual.masks ?? []).filter((mask) => mask.size === undefined || mask.size === size.name),
      })),
    ),
  );
  return { id, dir, visual, cases };
}
