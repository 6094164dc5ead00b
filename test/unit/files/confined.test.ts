import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { confinedPath, linkInfo, listTree, readConfined, readConfinedSync, refuseLinkedFolder, writeConfined, writeFileAtomic } from '../../../src/files/index.js';

/**
 * Real folders in a temp dir: a template folder `card/` beside a folder `outside/` holding a
 * secret, and links between them of every kind a commit can carry.
 */
let base: string;
let card: string;
let outside: string;
const secret = 'MERGESHOT_STUDIO_PASSWORD=hunter2-😀-«quoted»';

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'mergeshot-confined-'));
  card = join(base, 'templates', 'card');
  outside = join(base, 'outside');
  await mkdir(join(card, 'assets'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(card, 'template.html'), '<p dir="rtl">مرحبا {{name}}</p>');
  await writeFile(join(card, 'assets', 'logo.svg'), '<svg/>');
  await writeFile(join(outside, 'secret.env'), secret);
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string; detail: { field?: string } }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'expected a refusal').toBeDefined();
  return error as { code: string; message: string; detail: { field?: string } };
}

describe('readConfined', () => {
  it('reads a file, and a link that stays inside the folder', async () => {
    await symlink('assets/logo.svg', join(card, 'logo.svg'));
    await symlink('../template.html', join(card, 'assets', 'copy.html'));
    expect(await readConfined(card, 'template.html', 'utf8')).toContain('مرحبا');
    expect((await readConfined(card, 'logo.svg')).toString()).toBe('<svg/>');
    expect(await readConfined(card, 'assets/copy.html', 'utf8')).toContain('{{name}}');
  });

  it('refuses a link to a file outside, naming the file (relative) and never its target or content', async () => {
    await symlink(join(outside, 'secret.env'), join(card, 'template.json'));
    await symlink('../../../outside/secret.env', join(card, 'assets', 'x.png'));
    for (const name of ['template.json', 'assets/x.png']) {
      const error = await refusal(readConfined(card, name));
      expect(error).toMatchObject({ code: 'FILE_OUTSIDE_ROOT', detail: { field: name } });
      expect(error.message).toBe(`${name} is a link that leads outside its folder (card/): refused, files are read only inside their folder. Replace the link with a copy of the file.`);
      expect(error.message).not.toContain('outside/');
      expect(error.message).not.toContain('hunter2');
    }
  });

  it('refuses /proc/self/environ and /etc/passwd behind a link', async () => {
    await symlink('/proc/self/environ', join(card, 'env.html'));
    await symlink('/etc/passwd', join(card, 'passwd.css'));
    expect((await refusal(readConfined(card, 'env.html'))).code).toBe('FILE_OUTSIDE_ROOT');
    expect((await refusal(readConfined(card, 'passwd.css'))).code).toBe('FILE_OUTSIDE_ROOT');
    expect(() => readConfinedSync(card, 'env.html')).toThrow(expect.objectContaining({ code: 'FILE_OUTSIDE_ROOT' }));
  });

  it('refuses a file reached through a linked folder that leads outside', async () => {
    await symlink(outside, join(card, 'shared'));
    expect((await refusal(readConfined(card, 'shared/secret.env'))).code).toBe('FILE_OUTSIDE_ROOT');
  });

  it('refuses a path that climbs out, and keeps ENOENT for a missing file or a dangling link', async () => {
    expect((await refusal(readConfined(card, '../../outside/secret.env'))).code).toBe('FILE_OUTSIDE_ROOT');
    expect((await refusal(readConfined(card, 'template.html\0.png'))).code).toBe('FILE_OUTSIDE_ROOT');
    await symlink(join(outside, 'nothing-here'), join(card, 'gone.png'));
    expect((await refusal(readConfined(card, 'missing.png'))).code).toBe('ENOENT');
    expect((await refusal(readConfined(card, 'gone.png'))).code).toBe('ENOENT');
  });

  it('accepts a root that is itself a link (a deployment symlinks its templates folder)', async () => {
    await symlink(join(base, 'templates'), join(base, 'current'));
    expect(await confinedPath(join(base, 'current', 'card'), 'template.html')).toBe(join(card, 'template.html'));
    expect(readConfinedSync(join(base, 'current', 'card'), 'template.html')).toContain('{{name}}');
  });
});

describe('listTree and linkInfo', () => {
  it('lists files and links without entering a linked folder, and says where each link leads', async () => {
    await symlink(outside, join(card, 'shared'));
    await symlink('assets/logo.svg', join(card, 'logo.svg'));
    await symlink('/etc/passwd', join(card, 'passwd.css'));
    await symlink('../../outside/later.png', join(card, 'later.png'));
    expect(await listTree(card)).toEqual([
      { path: 'assets/logo.svg', kind: 'file' },
      { path: 'later.png', kind: 'link' },
      { path: 'logo.svg', kind: 'link' },
      { path: 'passwd.css', kind: 'link' },
      { path: 'shared', kind: 'link' },
      { path: 'template.html', kind: 'file' },
    ]);
    expect(await linkInfo(card, 'logo.svg')).toEqual({ text: 'assets/logo.svg', inside: 'assets/logo.svg' });
    expect(await linkInfo(card, 'passwd.css')).toEqual({ text: '/etc/passwd', inside: undefined });
    expect(await linkInfo(card, 'shared')).toEqual({ text: outside, inside: undefined });
    // Dangling: judged by its text, so it is outside before its target exists.
    expect(await linkInfo(card, 'later.png')).toEqual({ text: '../../outside/later.png', inside: undefined });
  });
});

describe('writeConfined', () => {
  it('replaces a link to another file of the folder by a file of its own; the target keeps its bytes', async () => {
    const before = await readFile(join(card, 'template.html'));
    await mkdir(join(card, '__golden__'));
    await symlink('../template.html', join(card, '__golden__', 'x.json'));
    await writeConfined(card, '__golden__/x.json', '{"image":"abc"}\n');
    expect(await readFile(join(card, 'template.html'))).toEqual(before);
    expect((await lstat(join(card, '__golden__', 'x.json'))).isFile()).toBe(true);
    expect(await readFile(join(card, '__golden__', 'x.json'), 'utf8')).toBe('{"image":"abc"}\n');
    expect(await readdir(join(card, '__golden__'))).toEqual(['x.json']);
  });

  it('never creates a file where an absolute link points', async () => {
    await mkdir(join(card, '__golden__'));
    await symlink(join(outside, 'created.png'), join(card, '__golden__', 'x.png'));
    await writeConfined(card, '__golden__/x.png', Buffer.from('png'));
    expect(await readdir(outside)).toEqual(['secret.env']);
    expect((await lstat(join(card, '__golden__', 'x.png'))).isFile()).toBe(true);
  });

  it('refuses a folder on the way that is a link, writing nothing, and says which', async () => {
    await symlink(outside, join(card, '__golden__'));
    const error = await refusal(writeConfined(card, '__golden__/x.png', Buffer.from('png')));
    expect(error).toMatchObject({ code: 'FILE_IS_LINK', detail: { field: '__golden__' } });
    expect(error.message).toBe('__golden__ is a link (card/): refused, files are never written through links. Make __golden__ a real folder.');
    expect((await refusal(refuseLinkedFolder(card, '__golden__'))).code).toBe('FILE_IS_LINK');
    expect(await readdir(outside)).toEqual(['secret.env']);
    // Even a link to a folder inside is refused: golden folders are real folders.
    await rm(join(card, '__golden__'));
    await symlink('assets', join(card, '__golden__'));
    expect((await refusal(writeConfined(card, '__golden__/x.png', 'x'))).code).toBe('FILE_IS_LINK');
    expect(await readdir(join(card, 'assets'))).toEqual(['logo.svg']);
  });

  it('creates missing folders, refuses a path that climbs out, and passes a folder that does not exist yet', async () => {
    await refuseLinkedFolder(card, '__golden__');
    await writeConfined(card, '__golden__/deep/x.json', '{}');
    expect(await readFile(join(card, '__golden__', 'deep', 'x.json'), 'utf8')).toBe('{}');
    expect((await refusal(writeConfined(card, '../../outside/x.json', '{}'))).code).toBe('FILE_OUTSIDE_ROOT');
    expect(await readdir(outside)).toEqual(['secret.env']);
  });
});

describe('writeFileAtomic and links', () => {
  it('replaces a link under the final name, never writing its target', async () => {
    await symlink(join(outside, 'secret.env'), join(card, 'out.csv'));
    await writeFileAtomic(join(card, 'out.csv'), 'a,b\n');
    expect(await readFile(join(outside, 'secret.env'), 'utf8')).toBe(secret);
    expect((await lstat(join(card, 'out.csv'))).isSymbolicLink()).toBe(false);
    await expect(readlink(join(card, 'out.csv'))).rejects.toMatchObject({ code: 'EINVAL' });
  });
});
