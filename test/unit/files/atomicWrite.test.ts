import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../src/files/index.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mergeshot-files-'));
  dirs.push(dir);
  return dir;
}

describe('writeFileAtomic', () => {
  it('replaces the file in one step and leaves no temporary file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'manifest.csv');
    expect(await writeFileAtomic(path, 'first')).toBe(true);
    expect(await writeFileAtomic(path, Buffer.from('second'))).toBe(true);
    expect(await readFile(path, 'utf8')).toBe('second');
    expect(await readdir(dir)).toEqual(['manifest.csv']);
  });

  it('writes its temporary file in tempDir, and a declined commit leaves nothing anywhere', async () => {
    const dir = await tempDir();
    const temps = join(dir, 'tmp');
    await mkdir(temps);
    let asked = 0;
    expect(await writeFileAtomic(join(dir, 'a'), 'x', { tempDir: temps, commit: () => (asked++, false) })).toBe(false);
    expect(asked).toBe(1);
    expect([await readdir(dir), await readdir(temps)]).toEqual([['tmp'], []]);
    expect(await writeFileAtomic(join(dir, 'a'), 'x', { tempDir: temps, commit: () => true })).toBe(true);
    expect(await readFile(join(dir, 'a'), 'utf8')).toBe('x');
  });

  it('fails with the cause and removes its temporary file when the rename cannot happen', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'taken'));
    await mkdir(join(dir, 'taken', 'inside'));
    // A non-empty directory under the final name: the rename fails after the bytes were written.
    await expect(writeFileAtomic(join(dir, 'taken'), 'x')).rejects.toMatchObject({ code: expect.stringMatching(/^(EISDIR|ENOTEMPTY|EEXIST)$/) });
    expect((await readdir(dir)).sort()).toEqual(['taken']);
  });
});
