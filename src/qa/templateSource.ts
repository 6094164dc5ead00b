import { isAbsolute } from 'node:path';
import { linkInfo, listTree, readConfined } from '../files/index.js';
import type { TemplateFiles, TemplateRegistry } from '../template/index.js';
import type { RawFinding } from './finding.js';
import { rules } from './rules.js';

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
  for (const entry of await listTree(files.dir)) {
    if (entry.kind === 'file' && entry.path.endsWith('.css') && entry.path.split('/')[0] !== '__golden__') css.set(entry.path, await readConfined(files.dir, entry.path, 'utf8'));
  }
  return { ...files, css };
}

/**
 * Each link of the template folder that leads outside it (src/files refuses to read it): the
 * file, and where it points when the link says so relatively; an absolute target is never named.
 */
export async function outsideLinks(dir: string): Promise<RawFinding[]> {
  const findings: RawFinding[] = [];
  for (const entry of await listTree(dir)) {
    if (entry.kind !== 'link') continue;
    const link = await linkInfo(dir, entry.path);
    if (link.inside !== undefined) continue;
    const where = isAbsolute(link.text) ? 'outside the template' : `outside the template (to ${link.text})`;
    findings.push({ rule: 'link-outside', file: entry.path, message: `${entry.path} is a link that leads ${where}: it is refused wherever it is read`, fix: rules['link-outside'].fix });
  }
  return findings;
}
