import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { TemplateError } from '../errors/index.js';
import { parseManifest, templateIdPattern, type Manifest, type TemplateRegistry } from '../template/index.js';

/**
 * A template's files as written, read without compiling them: `check` must report a template
 * the registry refuses ({{{ }}}) with its line, not stop at the refusal.
 */
export interface TemplateSource {
  readonly id: string;
  readonly dir: string;
  readonly manifest: Manifest;
  readonly manifestText: string;
  readonly html: string;
  /** The template's own stylesheets (relative path → text), outside __golden__. */
  readonly css: ReadonlyMap<string, string>;
}

/** Finds the folder as the registry does (an id under templatesDir, else a path); the registry words a miss. */
export async function readTemplateSource(registry: TemplateRegistry, ref: string): Promise<TemplateSource> {
  const candidates = templateIdPattern.test(ref) ? [join(registry.templatesDir, ref), resolve(ref)] : [resolve(ref)];
  let dir: string | undefined;
  for (const candidate of candidates) if (await isFile(join(candidate, 'template.json'))) dir = dir ?? candidate;
  if (!dir) {
    await registry.get(ref); // throws TEMPLATE_NOT_FOUND, listing the known templates
    throw new TemplateError('TEMPLATE_NOT_FOUND', `template "${ref}" not found`);
  }
  const manifestPath = join(dir, 'template.json');
  const manifestText = await readFile(manifestPath, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(manifestText);
  } catch (error) {
    throw new TemplateError('MANIFEST_INVALID', `${manifestPath}: not valid JSON (${(error as Error).message}). Check for trailing commas and quotes.`, { source: manifestPath });
  }
  const manifest = parseManifest(json, manifestPath);
  const htmlPath = join(dir, 'template.html');
  const html = await readFile(htmlPath, 'utf8').catch(() => {
    throw new TemplateError('TEMPLATE_INVALID', `${htmlPath}: missing. A template folder needs template.html next to template.json.`, { source: htmlPath });
  });
  const css = new Map<string, string>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name);
    const name = relative(dir, path);
    if (entry.isFile() && name.endsWith('.css') && name.split(sep)[0] !== '__golden__') css.set(name.split(sep).join('/'), await readFile(path, 'utf8'));
  }
  return { id: basename(dir), dir, manifest, manifestText, html, css };
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}
