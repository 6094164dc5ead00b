import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { TemplateFiles, TemplateRegistry } from '../template/index.js';

/**
 * A template's files as written, read without compiling them: `check` must report a template
 * the registry refuses ({{{ }}}) with its line, not stop at the refusal.
 */
export interface TemplateSource extends TemplateFiles {
  /** The template's own stylesheets (relative path → text), outside __golden__. */
  readonly css: ReadonlyMap<string, string>;
}

/** The registry's reading of the template (same lookup, same errors), plus its stylesheets. */
export async function readTemplateSource(registry: TemplateRegistry, ref: string): Promise<TemplateSource> {
  const files = await registry.source(ref);
  const css = new Map<string, string>();
  for (const entry of await readdir(files.dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const name = relative(files.dir, path);
    if (entry.isFile() && name.endsWith('.css') && name.split(sep)[0] !== '__golden__') css.set(name.split(sep).join('/'), await readFile(path, 'utf8'));
  }
  return { ...files, css };
}
