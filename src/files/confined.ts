import { constants, readFileSync, realpathSync } from 'node:fs';
import { lstat, mkdir, open, readdir, readlink, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { MergeshotError } from '../errors/index.js';
import { writeFileAtomic } from './atomicWrite.js';

/**
 * Threat: the folders mergeshot reads for a template (the template itself, the shared styles,
 * the goldens) are usually a git checkout that anyone with commit rights fills. A symbolic link
 * committed there (`template.html -> /proc/self/environ`, `logo.png -> /etc/passwd`) would make
 * the server read, render, serve or excerpt a file outside the folder: its environment, its
 * secrets. Every read here resolves the real path and refuses one that leaves the real root, as
 * Grafana does since CVE-2021-43798; a link that stays inside is fine. Writes never follow a
 * link: folders on the way are checked with lstat, and the file is replaced by a rename, which
 * replaces a link itself, never its target.
 */
export class FileError extends MergeshotError {}

/** 0 where the platform has no O_NOFOLLOW (Windows): the real-path check still holds there. */
const noFollow = constants.O_NOFOLLOW ?? 0;

/** `root/relativePath`, lexically: refused when `..` or an absolute path climbs out of the root. */
function lexicalPath(root: string, relativePath: string): string {
  const full = resolve(root, relativePath);
  if (!isWithin(resolve(root), full) || relativePath.includes('\0')) throw outside(root, relativePath, false);
  return full;
}

function isWithin(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

/** The path as a template author writes it: relative to its folder, with forward slashes. */
function shown(relativePath: string): string {
  return relativePath.split(sep).join('/');
}

function outside(root: string, relativePath: string, link: boolean): FileError {
  const name = shown(relativePath);
  // Names the file, never where the link points nor what is there.
  const what = link ? 'is a link that leads outside its folder' : 'is outside its folder';
  const fix = link ? ' Replace the link with a copy of the file.' : '';
  return new FileError('FILE_OUTSIDE_ROOT', `${name} ${what} (${basename(root)}/): refused, files are read only inside their folder.${fix}`, {
    field: name,
    source: join(root, relativePath),
  });
}

/**
 * The real path of `root/relativePath`, which must stay under the real path of `root`. A file
 * that does not exist (or a link that leads nowhere) rejects with the usual ENOENT, so callers
 * keep their handling of missing files; one that leaves the root rejects with FILE_OUTSIDE_ROOT.
 */
export async function confinedPath(root: string, relativePath: string): Promise<string> {
  const full = lexicalPath(root, relativePath);
  const [realRoot, real] = await Promise.all([realpath(root), realpath(full)]);
  if (!isWithin(realRoot, real)) throw outside(root, relativePath, true);
  return real;
}

/** Reads `root/relativePath` only when its real path stays under the root (confinedPath). */
export async function readConfined(root: string, relativePath: string): Promise<Buffer>;
export async function readConfined(root: string, relativePath: string, encoding: 'utf8'): Promise<string>;
export async function readConfined(root: string, relativePath: string, encoding?: 'utf8'): Promise<Buffer | string> {
  const real = await confinedPath(root, relativePath);
  // The real path has no link in it; O_NOFOLLOW refuses one swapped in since.
  const handle = await open(real, constants.O_RDONLY | noFollow);
  try {
    return encoding ? await handle.readFile(encoding) : await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** readConfined for the one synchronous reader (Playwright declares its tests while loading the spec). */
export function readConfinedSync(root: string, relativePath: string): string {
  const full = lexicalPath(root, relativePath);
  const real = realpathSync(full);
  if (!isWithin(realpathSync(root), real)) throw outside(root, relativePath, true);
  return readFileSync(real, 'utf8');
}

/** One entry of a folder listed without following links. */
export interface TreeEntry {
  /** Relative to the listed root, with forward slashes. */
  readonly path: string;
  readonly kind: 'file' | 'link';
}

/**
 * Regular files and links under `root`, recursively, sorted by path. Links are listed, never
 * followed (neither a linked file nor a linked folder is entered): a caller decides what a link
 * means, with linkInfo.
 */
export async function listTree(root: string): Promise<TreeEntry[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() || entry.isSymbolicLink())
    .map((entry): TreeEntry => ({ path: shown(relative(root, join(entry.parentPath, entry.name))), kind: entry.isFile() ? 'file' : 'link' }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A link as a folder's own files see it: its text, and the path inside the root it leads to. */
export interface LinkInfo {
  /** What the link says (`../shared/logo.png`, `/etc/passwd`). */
  readonly text: string;
  /** Where it leads, relative to the root; undefined when that is outside the root. */
  readonly inside: string | undefined;
}

/**
 * Where the link `root/relativePath` leads. A link that leads nowhere is judged by its text, so
 * one that would leave the root once its target exists is already outside.
 */
export async function linkInfo(root: string, relativePath: string): Promise<LinkInfo> {
  const full = lexicalPath(root, relativePath);
  const text = await readlink(full);
  const real = await realpath(full).catch(() => undefined);
  if (real !== undefined) {
    const realRoot = await realpath(root);
    return { text, inside: isWithin(realRoot, real) ? shown(relative(realRoot, real)) : undefined };
  }
  const target = resolve(dirname(full), text);
  return { text, inside: !isAbsolute(text) && isWithin(resolve(root), target) ? shown(relative(resolve(root), target)) : undefined };
}

/**
 * Writes `root/relativePath` atomically without following a link: every folder between the root
 * and the file must be a real folder (missing ones are created), or FILE_IS_LINK; a link at the
 * file's own name is replaced by the new file (the rename replaces the link itself), so its
 * target is never written, wherever it points.
 */
export async function writeConfined(root: string, relativePath: string, data: Buffer | string): Promise<void> {
  const parts = relative(resolve(root), lexicalPath(root, relativePath)).split(sep);
  const dir = await realFolder(root, parts.slice(0, -1), true);
  await writeFileAtomic(join(dir, parts[parts.length - 1]!), data);
}

/**
 * Refuses (FILE_IS_LINK) when `root/relativeFolder` or a folder on the way is a link or not a
 * folder: a writer checks before it writes anything. A folder that does not exist yet passes.
 */
export async function refuseLinkedFolder(root: string, relativeFolder: string): Promise<void> {
  await realFolder(root, relative(resolve(root), lexicalPath(root, relativeFolder)).split(sep).filter(Boolean), false);
}

/** The real path of the folder `parts` under root, each checked with lstat; created when `create`. */
async function realFolder(root: string, parts: readonly string[], create: boolean): Promise<string> {
  let dir = await realpath(root);
  for (const [index, part] of parts.entries()) {
    const next = join(dir, part);
    let info = await lstat(next).catch(() => undefined);
    if (!info) {
      if (!create) return join(dir, ...parts.slice(index));
      await mkdir(next).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      info = await lstat(next);
    }
    if (info.isSymbolicLink() || !info.isDirectory()) {
      const name = parts.slice(0, index + 1).join('/');
      throw new FileError('FILE_IS_LINK', `${name} ${info.isSymbolicLink() ? 'is a link' : 'is not a folder'} (${basename(root)}/): refused, files are never written through links. Make ${name} a real folder.`, { field: name, source: next });
    }
    dir = next;
  }
  return dir;
}
