import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

// The real rename, held until the test lets it go: a purge can then land in the one window
// a timing test would hit only by luck (the rename of a finished write).
const gate = vi.hoisted(() => ({ hold: undefined as undefined | { reached: () => void; release: Promise<void> } }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const rename: typeof real.rename = async (from, to) => {
    const held = gate.hold;
    await real.rename(from, to);
    if (held) {
      held.reached();
      await held.release;
    }
  };
  return { ...real, default: { ...real, rename }, rename };
});

const { DiskStore } = await import('../../../src/cache/index.js');

const dirs: string[] = [];
afterEach(async () => {
  gate.hold = undefined;
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('DiskStore and a purge during the rename of a write', () => {
  it('the purge wins: the entry is neither indexed nor left on disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mergeshot-cache-'));
    dirs.push(dir);
    const store = await DiskStore.open({ dir, maxBytes: 1_000_000 });
    let reached!: () => void;
    let release!: () => void;
    const atRename = new Promise<void>((resolve) => (reached = resolve));
    gate.hold = { reached, release: new Promise<void>((resolve) => (release = resolve)) };
    const key = 'a'.repeat(40);
    const writing = store.put(key, { bytes: Buffer.alloc(10, 7), meta: { contentType: 'image/png', template: 'mini', createdAt: 1 } });
    await atRename;
    await store.purge({ template: 'mini' });
    release();
    await writing;
    expect(await store.get(key)).toBeUndefined();
    expect(store.stats().entries).toBe(0);
    expect(await readdir(join(dir, 'objects', 'mini'))).toEqual([]);
  });
});
