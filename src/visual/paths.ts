import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Golden images and their sidecars live in this folder of each template. The registry leaves it
 * out of the template's version (src/template/registry.ts): accepting a golden describes the
 * output, it does not change it.
 */
export const goldenFolder = '__golden__';

/**
 * Where one case's golden and sidecar are, relative to the template folder (their root: they
 * are read and written only inside it, src/files): `__golden__/<name>.png` and `.json`.
 */
export function goldenFiles(caseName: string): { readonly image: string; readonly sidecar: string } {
  return { image: `${goldenFolder}/${caseName}.png`, sidecar: `${goldenFolder}/${caseName}.json` };
}

/** goldenFiles as paths on disk, for messages and callers outside the review. */
export function goldenPaths(templateDir: string, caseName: string): { readonly image: string; readonly sidecar: string } {
  const files = goldenFiles(caseName);
  return { image: join(templateDir, files.image), sidecar: join(templateDir, files.sidecar) };
}

/** The renderer fingerprint shared by every golden of a templates folder, relative to that folder. */
export const fingerprintFile = `${goldenFolder}/renderer.json`;

/** fingerprintFile as a path on disk. */
export function fingerprintPathOf(templatesDir: string): string {
  return join(templatesDir, fingerprintFile);
}

/**
 * The styles folder whose files a sidecar hashes: the project's (config stylesDir), or, when it
 * has none, the one shipped with mergeshot, which is what the renderer then serves for
 * /styles/ (src/assets/resolver.ts) and what the template suite hashes.
 */
export async function stylesDirOf(configured: string): Promise<string> {
  const isDir = await stat(configured).then(
    (info) => info.isDirectory(),
    () => false,
  );
  return isDir ? configured : bundledStylesDir;
}

const bundledStylesDir = fileURLToPath(new URL('../../styles', import.meta.url));
