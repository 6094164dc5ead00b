import { cp, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../errors/index.js';
import { readConfined, writeConfined } from '../../files/index.js';
import { templateIdPattern } from '../../template/index.js';

/** What `mergeshot new` copies unless --from names a template: shipped with mergeshot. */
const starterDir = fileURLToPath(new URL('../../../templates/_starter', import.meta.url));

export interface NewTemplateOptions {
  readonly templatesDir: string;
  /** Display name; default from the id ("spring-sale" → "Spring sale"). */
  readonly name?: string | undefined;
  /** An existing template id to copy instead of the starter. */
  readonly from?: string | undefined;
}

/**
 * `mergeshot new <id>`: a new template folder to begin from, the starter (base stylesheet, the
 * `fit` recipe, fallbacks, samples of ugly data) or a copy of an existing template. Golden
 * images are not copied: they belong to the template they were accepted for.
 */
export async function runNew(id: string, options: NewTemplateOptions): Promise<string> {
  if (!templateIdPattern.test(id)) {
    throw new UsageError('USAGE', `template id "${id.slice(0, 100)}": use letters, digits, "-" and "_", starting with a letter or digit (it becomes the folder name and the URL /i/<id>.png).`);
  }
  const source = options.from === undefined ? starterDir : join(options.templatesDir, options.from);
  if (options.from !== undefined && (!templateIdPattern.test(options.from) || !(await isFile(join(source, 'template.json'))))) {
    throw new UsageError('USAGE', `--from ${options.from.slice(0, 100)}: no template of that id in ${options.templatesDir}.`, { hint: 'run `mergeshot new <id>` without --from to start from the starter.' });
  }
  const target = join(options.templatesDir, id);
  if (await exists(target)) throw new UsageError('USAGE', `${target} already exists: pick another id, or remove the folder first.`);
  await cp(source, target, { recursive: true, errorOnExist: true, force: false, filter: (path) => basename(path) !== '__golden__' });
  // The copy keeps the source's links as links: read and rewrite template.json without following one.
  const manifest = JSON.parse(await readConfined(target, 'template.json', 'utf8')) as Record<string, unknown>;
  manifest.name = options.name ?? displayName(id);
  await writeConfined(target, 'template.json', `${JSON.stringify(manifest, null, 2)}\n`);
  return target;
}

function displayName(id: string): string {
  const words = id.replace(/[-_]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}
