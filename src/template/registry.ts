import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import Handlebars from 'handlebars';
import { TemplateError } from '../errors/index.js';
import { confinedPath, FileError, linkInfo, listTree, readConfined, type TreeEntry } from '../files/index.js';
import { registerHelpers } from './hbsHelpers.js';
import { parseManifest, type Manifest } from './manifest.js';
import { templateSyntaxError } from './syntaxError.js';

export interface TemplateSize {
  readonly name: string;
  readonly width: number;
  readonly height: number;
}

export interface LoadedTemplate {
  readonly id: string;
  readonly dir: string;
  readonly manifest: Manifest;
  /** Hash of the template's files and the shared styles: changes whenever its output may change. */
  readonly version: string;
  readonly render: Handlebars.TemplateDelegate;
  readonly renderAlt: Handlebars.TemplateDelegate | undefined;
  size(name: string | undefined): TemplateSize;
}

export interface TemplateRegistryOptions {
  /** Folder holding one sub-folder per template. */
  readonly templatesDir: string;
  /** Shared styles folder; its files count towards every template's version. */
  readonly stylesDir: string;
}

/** Template ids as they may appear in a URL or an API body: a folder name, never a path. */
export const templateIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

// trackIds: the code helpers learn which field they draw, to use its fallback (hbsHelpers.ts).
const compileOptions = { strict: false, preventIndent: true, noEscape: false, trackIds: true } as CompileOptions; // trackIds is missing from Handlebars' types
type CompileOptions = Parameters<typeof Handlebars.compile>[1];

/**
 * Loads template packages and owns the Handlebars environment they compile in.
 * Compiled templates are cached per version, so an edited template recompiles and an
 * unchanged one never does.
 */
export class TemplateRegistry {
  readonly #env = Handlebars.create();
  readonly #options: TemplateRegistryOptions;
  readonly #loaded = new Map<string, LoadedTemplate>();
  /** Name or path as asked → template folder; bounded by the names callers use. */
  readonly #located = new Map<string, string>();

  constructor(options: TemplateRegistryOptions) {
    this.#options = { templatesDir: resolve(options.templatesDir), stylesDir: resolve(options.stylesDir) };
    registerHelpers(this.#env);
  }

  get templatesDir(): string {
    return this.#options.templatesDir;
  }

  get stylesDir(): string {
    return this.#options.stylesDir;
  }

  /**
   * Ids of the template folders under templatesDir (folders holding a template.json). A folder
   * whose name is not an id (templates/_starter, what `mergeshot new` copies) is not listed.
   */
  async list(): Promise<string[]> {
    const entries = await readdir(this.#options.templatesDir, { withFileTypes: true }).catch(() => []);
    const ids: string[] = [];
    for (const entry of entries) {
      if (entry.isDirectory() && templateIdPattern.test(entry.name) && (await exists(join(this.#options.templatesDir, entry.name, 'template.json')))) ids.push(entry.name);
    }
    return ids.sort();
  }

  /**
   * Loads a template by id only: a folder name directly under templatesDir, never a path. For
   * ids that come from URLs and API bodies, where a path could reach folders outside it.
   */
  async getById(id: string): Promise<LoadedTemplate> {
    if (!templateIdPattern.test(id)) throw new TemplateError('TEMPLATE_NOT_FOUND', `no template "${id.slice(0, 100)}": a template id is a folder name (letters, digits, "-" and "_").`);
    return this.get(join(this.#options.templatesDir, id));
  }

  /** Loads a template by id (a folder under templatesDir) or by a folder path (the CLI's argument). */
  async get(idOrPath: string): Promise<LoadedTemplate> {
    // Hot path: every render asks. A known name is answered from memory, no disk access.
    const known = this.#loaded.get(this.#located.get(idOrPath) ?? '');
    if (known) return known;
    const dir = await this.#locate(idOrPath);
    this.#located.set(idOrPath, dir);
    const cached = this.#loaded.get(dir);
    if (cached) return cached;
    const files = await listFiles(dir);
    const styleFiles = await listFiles(this.#options.stylesDir).catch(() => []);
    const version = await hashFiles([
      ...files.map((entry) => ({ root: dir, entry, name: entry.path })),
      ...styleFiles.map((entry) => ({ root: this.#options.stylesDir, entry, name: `styles/${entry.path}` })),
    ]);

    const { manifest, html: source } = await readSource(dir);
    const manifestPath = join(dir, 'template.json');
    const htmlPath = join(dir, 'template.html');
    refuseUnescapedOutput(source, htmlPath);
    const template: LoadedTemplate = {
      id: basename(dir),
      dir,
      manifest,
      version,
      render: this.#compile(source, htmlPath),
      renderAlt: manifest.alt ? this.#compile(manifest.alt, `${manifestPath} alt`) : undefined,
      size: (name) => sizeOf(manifest, name, manifestPath),
    };
    this.#loaded.set(dir, template);
    return template;
  }

  /**
   * A template's files as written, found like get() finds them but neither compiled nor refused
   * for `{{{ }}}`: `mergeshot check` reports such a template with its line instead.
   */
  async source(idOrPath: string): Promise<TemplateFiles> {
    return readSource(await this.#locate(idOrPath));
  }

  /** A template's folder, found like get() finds it, none of its files read: `check` lists its links. */
  folder(idOrPath: string): Promise<string> {
    return this.#locate(idOrPath);
  }

  /** Forgets loaded templates so the next get() re-reads them from disk (after an edit). */
  invalidate(): void {
    this.#loaded.clear();
    this.#located.clear();
  }

  #compile(source: string, where: string): Handlebars.TemplateDelegate {
    try {
      const compiled = this.#env.compile(source, compileOptions);
      // Handlebars compiles lazily; force it now so syntax errors surface at load, not per record.
      compiled({});
      return compiled;
    } catch (error) {
      throw templateSyntaxError(error, source, where);
    }
  }

  async #locate(idOrPath: string): Promise<string> {
    const candidates = templateIdPattern.test(idOrPath) ? [join(this.#options.templatesDir, idOrPath), resolve(idOrPath)] : [resolve(idOrPath)];
    for (const dir of candidates) {
      if (!(await exists(join(dir, 'template.json')))) continue;
      // A folder under templatesDir (found by id) that is a link must stay inside it: a link to
      // a folder elsewhere would serve that folder's files as a template's.
      const inside = relative(this.#options.templatesDir, dir);
      if (inside && !inside.startsWith('..') && !isAbsolute(inside)) await confinedPath(this.#options.templatesDir, inside);
      return dir;
    }
    const known = await this.list();
    throw new TemplateError('TEMPLATE_NOT_FOUND', `template "${idOrPath}" not found: no template.json in ${candidates.join(' or ')}. Known templates: ${known.join(', ') || '(none)'}.`, { source: idOrPath });
  }
}

function sizeOf(manifest: Manifest, name: string | undefined, source: string): TemplateSize {
  if (!name || name === 'default') return { name: 'default', width: manifest.width, height: manifest.height };
  // Own properties only: a name from a URL ("constructor", "__proto__") must not select a built-in.
  const size = manifest.sizes && Object.hasOwn(manifest.sizes, name) ? manifest.sizes[name] : undefined;
  if (!size) {
    const names = ['default', ...Object.keys(manifest.sizes ?? {})];
    throw new TemplateError('SIZE_UNKNOWN', `${source}: no size "${name}". Available sizes: ${names.join(', ')}.`, { source });
  }
  return { name, ...size };
}

/**
 * Data is hostile: `{{{field}}}` or `{{& field}}` would put a record value into the page
 * unescaped, so a template that uses them is refused outright.
 */
function refuseUnescapedOutput(source: string, where: string): void {
  const match = /\{\{\{|\{\{~?&/.exec(source);
  if (match) {
    const line = source.slice(0, match.index).split('\n').length;
    throw new TemplateError('TEMPLATE_INVALID', `${where}:${line}: unescaped output ("${match[0]}") is not allowed: record values must stay escaped. Use {{field}}.`, { source: where });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * A template's golden images and their sidecars (`__golden__/`, test/templates/visual.spec.ts)
 * describe its output, they are not part of it: accepting a golden must not change the version.
 */
const goldenFolder = '__golden__';

async function listFiles(dir: string): Promise<TreeEntry[]> {
  return (await listTree(dir)).filter((entry) => entry.path.split('/')[0] !== goldenFolder);
}

/**
 * Hashes names relative to their roots, so the version is the same on every machine. A link
 * counts by what it says, never by what is behind it: its target, when inside, is hashed as
 * a file of its own, and one outside is never read.
 */
async function hashFiles(files: readonly { root: string; entry: TreeEntry; name: string }[]): Promise<string> {
  const hash = createHash('sha256');
  for (const { root, entry, name } of files) {
    const body = entry.kind === 'link' ? `link\0${(await linkInfo(root, entry.path)).text}` : await readConfined(root, entry.path);
    hash.update(name).update('\0').update(body).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** template.json (validated) and template.html of a template folder, read once. */
export interface TemplateFiles {
  readonly id: string;
  readonly dir: string;
  readonly manifest: Manifest;
  readonly manifestText: string;
  readonly html: string;
}

async function readSource(dir: string): Promise<TemplateFiles> {
  const manifestPath = join(dir, 'template.json');
  const manifestText = await readConfined(dir, 'template.json', 'utf8');
  let manifestJson: unknown;
  try {
    manifestJson = JSON.parse(manifestText);
  } catch (error) {
    throw new TemplateError('MANIFEST_INVALID', `${manifestPath}: not valid JSON (${(error as Error).message}). Check for trailing commas and quotes.`, { source: manifestPath });
  }
  const manifest = parseManifest(manifestJson, manifestPath);
  const htmlPath = join(dir, 'template.html');
  const html = await readConfined(dir, 'template.html', 'utf8').catch((error: unknown) => {
    if (error instanceof FileError) throw error;
    throw new TemplateError('TEMPLATE_INVALID', `${htmlPath}: missing. A template folder needs template.html next to template.json.`, { source: htmlPath });
  });
  return { id: basename(dir), dir, manifest, manifestText, html };
}
