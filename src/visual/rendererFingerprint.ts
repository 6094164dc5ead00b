import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { readConfined, writeConfined } from '../files/index.js';
import type { Pipeline } from '../pipeline/index.js';
import { fingerprintFile } from './paths.js';

/**
 * What renders a golden besides the template: the Chromium build, the bundled font packages
 * and the encoder. Stored once beside the goldens; when it differs, every image may differ,
 * and the run says so once instead of failing each image without a reason.
 */
export interface RendererFingerprint {
  readonly chromium: string;
  readonly sharp: string;
  readonly libvips: string;
  /** Installed version of each font package mergeshot depends on. */
  readonly fonts: Readonly<Record<string, string>>;
}

const fontPackage = /^@(fontsource|expo-google-fonts)\//;

/** mergeshot's own package.json: its font dependencies are what every render may use. */
const packageJson = fileURLToPath(new URL('../../package.json', import.meta.url));

export async function currentFingerprint(pipeline: Pipeline): Promise<RendererFingerprint> {
  const { version } = await pipeline.browserVersion();
  return { chromium: version, sharp: sharp.versions.sharp ?? 'unknown', libvips: sharp.versions.vips, fonts: await fontVersions() };
}

/** The installed versions (node_modules), not the ranges of package.json: what actually renders. */
async function fontVersions(): Promise<Record<string, string>> {
  const manifest = JSON.parse(await readFile(packageJson, 'utf8')) as { dependencies: Record<string, string> };
  const names = Object.keys(manifest.dependencies).filter((name) => fontPackage.test(name)).sort();
  // Resolved as the renderer resolves the fonts (src/assets/resolver.ts), wherever npm put them.
  const require = createRequire(packageJson);
  const versions: Record<string, string> = {};
  for (const name of names) {
    const installed = JSON.parse(await readFile(require.resolve(`${name}/package.json`), 'utf8')) as { version: string };
    versions[name] = installed.version;
  }
  return versions;
}

/** The fingerprint stored in a templates folder (`__golden__/renderer.json`), read inside it. */
export async function readFingerprint(templatesDir: string): Promise<RendererFingerprint | undefined> {
  const text = await readConfined(templatesDir, fingerprintFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  return text === undefined ? undefined : (JSON.parse(text) as RendererFingerprint);
}

/** Writes it atomically, never through a link (src/files writeConfined). */
export async function writeFingerprint(templatesDir: string, fingerprint: RendererFingerprint): Promise<void> {
  await writeConfined(templatesDir, fingerprintFile, fingerprintJson(fingerprint));
}

export function fingerprintJson(fingerprint: RendererFingerprint): string {
  return `${JSON.stringify(fingerprint, null, 2)}\n`;
}

/**
 * "the renderer changed from chromium 143.0.1 to chromium 144.0.2: …", naming only what
 * changed; undefined when nothing did.
 */
export function rendererChange(stored: RendererFingerprint, current: RendererFingerprint): string | undefined {
  const before = entries(stored);
  const after = entries(current);
  const keys = [...new Set([...before.keys(), ...after.keys()])].filter((key) => before.get(key) !== after.get(key));
  if (keys.length === 0) return undefined;
  const describe = (side: Map<string, string>) => keys.map((key) => `${key} ${side.get(key) ?? '(none)'}`).join(', ');
  return `the renderer changed from ${describe(before)} to ${describe(after)}: review and accept (npm run test:templates -- --update-snapshots, then look at the images in the report)`;
}

function entries(fingerprint: RendererFingerprint): Map<string, string> {
  return new Map([['chromium', fingerprint.chromium], ['sharp', fingerprint.sharp], ['libvips', fingerprint.libvips], ...Object.entries(fingerprint.fonts ?? {})]);
}
