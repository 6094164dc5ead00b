import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskStore, MemoryLayer, type CacheEntry } from '../../../src/cache/index.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mergeshot-cache-'));
  dirs.push(dir);
  return dir;
}

function entry(size: number, template = 'mini'): CacheEntry {
  return { bytes: Buffer.alloc(size, 7), meta: { contentType: 'image/png', template, createdAt: 1 } };
}

const key = (n: number) => n.toString(16).padStart(40, '0');

describe('DiskStore', () => {
  it('stores, reads back and survives a restart', async () => {
    const dir = await tempDir();
    const store = await DiskStore.open({ dir, maxBytes: 1_000_000 });
    await store.put(key(1), { bytes: Buffer.from('png bytes'), meta: { contentType: 'image/png', template: 'mini', createdAt: 5, warnings: ['fallback:name'] } });
    expect((await store.get(key(1)))?.bytes.toString()).toBe('png bytes');
    await store.close();
    const reopened = await DiskStore.open({ dir, maxBytes: 1_000_000 });
    const again = await reopened.get(key(1));
    expect(again?.bytes.toString()).toBe('png bytes');
    expect(again?.meta).toEqual({ contentType: 'image/png', template: 'mini', createdAt: 5, warnings: ['fallback:name'] });
    expect(reopened.stats().entries).toBe(1);
  });

  it('evicts the least recently used entries past its size cap', async () => {
    const dir = await tempDir();
    const store = await DiskStore.open({ dir, maxBytes: 3_500, touchIntervalMs: 0 });
    await store.put(key(1), entry(1000));
    await store.put(key(2), entry(1000));
    await store.put(key(3), entry(1000));
    await store.get(key(1)); // 2 is now the least recently used
    await store.put(key(4), entry(1000));
    expect(await store.get(key(2))).toBeUndefined();
    for (const n of [1, 3, 4]) expect(await store.get(key(n))).toBeDefined();
    expect(store.stats().bytes).toBeLessThanOrEqual(3_500);
  });

  it('drops temp files of interrupted writes and ignores damaged entries at start', async () => {
    const dir = await tempDir();
    const store = await DiskStore.open({ dir, maxBytes: 1_000_000 });
    await store.put(key(1), entry(10));
    await writeFile(join(dir, 'tmp', 'half-written'), 'MSC1');
    await utimes(join(dir, 'tmp', 'half-written'), new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    await writeFile(join(dir, 'tmp', 'another-process-writing'), 'MSC1');
    await mkdir(join(dir, 'objects', 'mini'), { recursive: true });
    await writeFile(join(dir, 'objects', 'mini', key(2)), 'not an entry');
    const reopened = await DiskStore.open({ dir, maxBytes: 1_000_000 });
    expect(await readdir(join(dir, 'tmp'))).toEqual(['another-process-writing']);
    expect(await reopened.get(key(2))).toBeUndefined();
    expect(await reopened.get(key(1))).toBeDefined();
    expect(await readdir(join(dir, 'objects', 'mini'))).toEqual([key(1)]);
  });

  it('purges one template or everything', async () => {
    const dir = await tempDir();
    const store = new MemoryLayer(await DiskStore.open({ dir, maxBytes: 1_000_000 }), { maxBytes: 1_000_000 });
    await store.put(key(1), entry(10, 'mini'));
    await store.put(key(2), entry(10, 'other'));
    expect(await store.purge({ template: 'mini' })).toBe(1);
    expect(await store.get(key(1))).toBeUndefined();
    expect(await store.get(key(2))).toBeDefined();
    expect(await store.purge()).toBe(1);
    expect(store.stats().entries).toBe(0);
  });

  it('drops a write that was in flight when a purge came', async () => {
    const dir = await tempDir();
    const store = await DiskStore.open({ dir, maxBytes: 1_000_000 });
    const writing = store.put(key(1), entry(10));
    await store.purge();
    await writing;
    expect(await store.get(key(1))).toBeUndefined();
    expect(await readdir(join(dir, 'objects', 'mini')).catch(() => [])).toEqual([]);
  });

  it('names the folder when it cannot be used', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'file'), '');
    await expect(DiskStore.open({ dir: join(dir, 'file'), maxBytes: 1_000 })).rejects.toThrow(/cache folder .*file cannot be used .* MERGESHOT_CACHE_DIR/);
  });
});

describe('MemoryLayer', () => {
  it('answers hot entries from memory', async () => {
    const dir = await tempDir();
    const disk = await DiskStore.open({ dir, maxBytes: 1_000_000 });
    const layer = new MemoryLayer(disk, { maxBytes: 100_000 });
    await layer.put(key(1), entry(100));
    expect(layer.peek(key(1))).toBeDefined();
    await disk.delete(key(1));
    expect(await layer.get(key(1))).toBeDefined(); // still in memory
    const cold = new MemoryLayer(disk, { maxBytes: 0 });
    expect(cold.peek(key(1))).toBeUndefined();
  });
});
