import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskStore, MemoryLayer, type CacheEntry } from '../../../src/cache/index.js';
import { CacheError } from '../../../src/errors/index.js';

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

/** A file in the store's layout ("MSC2", SHA-256 of the rest, meta length, meta, bytes) with a correct digest. */
function sealed(meta: Record<string, unknown>, bytes: Buffer, magic = 'MSC2'): Buffer {
  const metaBytes = Buffer.from(JSON.stringify(meta));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(metaBytes.length);
  const body = Buffer.concat([length, metaBytes, bytes]);
  return Buffer.concat([Buffer.from(magic), createHash('sha256').update(body).digest(), body]);
}

describe('DiskStore: damaged entries', () => {
  const image = Buffer.from('\x89PNG\r\n\x1a\n pretend image data of some length', 'latin1');

  async function storeWithOne(): Promise<{ dir: string; store: DiskStore; file: string; original: Buffer }> {
    const dir = await tempDir();
    const store = await DiskStore.open({ dir, maxBytes: 1_000_000 });
    await store.put(key(1), { bytes: image, meta: { contentType: 'image/png', template: 'mini', createdAt: 5, width: 4, height: 2, warnings: ['FIELD_FALLBACK:name'] } });
    const file = join(dir, 'objects', 'mini', key(1));
    return { dir, store, file, original: await readFile(file) };
  }

  /** get() is a miss, the file is deleted and the index forgot the entry; a fresh put serves again. */
  async function expectDropped(store: DiskStore, file: string): Promise<void> {
    expect(await store.get(key(1))).toBeUndefined();
    expect(await readFile(file).catch((error: NodeJS.ErrnoException) => error.code)).toBe('ENOENT');
    expect(store.stats()).toEqual({ entries: 0, bytes: 0 });
    await store.put(key(1), { bytes: image, meta: { contentType: 'image/png', template: 'mini', createdAt: 6 } });
    expect((await store.get(key(1)))?.bytes.equals(image)).toBe(true);
  }

  it('reads back an intact entry with its meta, recorded length and checksum', async () => {
    const { store, original } = await storeWithOne();
    expect(original.subarray(0, 4).toString()).toBe('MSC2');
    expect(original.subarray(4, 36).equals(createHash('sha256').update(original.subarray(36)).digest())).toBe(true);
    const metaLength = original.readUInt32BE(36);
    expect(JSON.parse(original.subarray(40, 40 + metaLength).toString())).toMatchObject({ contentType: 'image/png', length: image.length });
    const entry = await store.get(key(1));
    expect(entry?.bytes.equals(image)).toBe(true);
    expect(entry?.meta).toEqual({ contentType: 'image/png', template: 'mini', createdAt: 5, width: 4, height: 2, warnings: ['FIELD_FALLBACK:name'] });
  });

  it('drops an entry with a flipped image byte', async () => {
    const { store, file, original } = await storeWithOne();
    const damaged = Buffer.from(original);
    damaged[damaged.length - 5]! ^= 0x01;
    await writeFile(file, damaged);
    await expectDropped(store, file);
  });

  it('drops an entry with a flipped meta byte', async () => {
    const { store, file, original } = await storeWithOne();
    const damaged = Buffer.from(original);
    const at = damaged.indexOf('"createdAt":5') + '"createdAt":'.length;
    damaged[at] = '7'.charCodeAt(0);
    await writeFile(file, damaged);
    await expectDropped(store, file);
  });

  it('drops a truncated entry', async () => {
    const { store, file, original } = await storeWithOne();
    await writeFile(file, original.subarray(0, original.length - 1));
    await expectDropped(store, file);
  });

  it('drops an entry whose content type was edited', async () => {
    const { store, file, original } = await storeWithOne();
    // Same length, so only the check of the content (not of the layout) can catch it.
    const edited = Buffer.from(original.toString('latin1').replace('image/png', 'text/html'), 'latin1');
    expect(edited.length).toBe(original.length);
    await writeFile(file, edited);
    await expectDropped(store, file);
  });

  it('serves only a known image content type, even when the checksum was made to match', async () => {
    const { store, file } = await storeWithOne();
    await writeFile(file, sealed({ contentType: 'text/html', template: 'mini', createdAt: 5, length: image.length }, image));
    await expectDropped(store, file);
  });

  it('drops an entry whose recorded length disagrees, even when the checksum was made to match', async () => {
    const { store, file } = await storeWithOne();
    await writeFile(file, sealed({ contentType: 'image/png', template: 'mini', createdAt: 5, length: image.length }, image.subarray(0, -3)));
    await expectDropped(store, file);
  });

  it('drops an entry moved under another template, and entries of the old unchecked layout', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'objects', 'other'), { recursive: true });
    await mkdir(join(dir, 'objects', 'mini'), { recursive: true });
    await writeFile(join(dir, 'objects', 'other', key(1)), sealed({ contentType: 'image/png', template: 'mini', createdAt: 5, length: image.length }, image));
    const metaV1 = Buffer.from(JSON.stringify({ contentType: 'image/png', template: 'mini', createdAt: 5 }));
    const lengthV1 = Buffer.alloc(4);
    lengthV1.writeUInt32BE(metaV1.length);
    await writeFile(join(dir, 'objects', 'mini', key(2)), Buffer.concat([Buffer.from('MSC1'), lengthV1, metaV1, image]));
    const store = await DiskStore.open({ dir, maxBytes: 1_000_000 });
    expect(store.stats().entries).toBe(2);
    expect(await store.get(key(1))).toBeUndefined();
    expect(await store.get(key(2))).toBeUndefined();
    expect(await readdir(join(dir, 'objects', 'other'))).toEqual([]);
    expect(await readdir(join(dir, 'objects', 'mini'))).toEqual([]);
    expect(store.stats().entries).toBe(0);
  });

  it('refuses to store a content type it would not serve', async () => {
    const dir = await tempDir();
    const store = await DiskStore.open({ dir, maxBytes: 1_000_000 });
    const html: CacheEntry = { bytes: Buffer.from('<script>'), meta: { contentType: 'text/html', template: 'mini', createdAt: 1 } };
    await expect(store.put(key(1), html)).rejects.toThrow(CacheError);
    await expect(store.put(key(1), html)).rejects.toThrow('cache entry content type "text/html" is not one the cache serves: image/png, image/jpeg, image/webp.');
    expect(store.stats().entries).toBe(0);
  });
});

describe('MemoryLayer', () => {
  it('never holds an entry the store would refuse', async () => {
    const dir = await tempDir();
    const layer = new MemoryLayer(await DiskStore.open({ dir, maxBytes: 1_000_000 }), { maxBytes: 100_000 });
    const html: CacheEntry = { bytes: Buffer.from('<script>'), meta: { contentType: 'text/html', template: 'mini', createdAt: 1 } };
    await expect(layer.put(key(1), html)).rejects.toMatchObject({ code: 'CACHE_FAILED' });
    expect(layer.peek(key(1))).toBeUndefined();
    expect(layer.memoryStats().entries).toBe(0);
  });

  it('does not serve or remember an entry whose content type the store below got wrong', async () => {
    // A store below that is not the disk (a shared store later) and returns text.
    const foreign: CacheEntry = { bytes: Buffer.from('<b>'), meta: { contentType: 'text/html', template: 'mini', createdAt: 1 } };
    const store = {
      get: async () => foreign,
      put: async () => undefined,
      delete: async () => false,
      purge: async () => 0,
      stats: () => ({ entries: 1, bytes: 3 }),
      close: async () => undefined,
    };
    const layer = new MemoryLayer(store, { maxBytes: 100_000 });
    expect(await layer.get(key(1))).toBeUndefined();
    expect(layer.memoryStats().entries).toBe(0);
  });

  it('forgets a damaged disk entry: the next get() is a miss, not the bad bytes', async () => {
    const dir = await tempDir();
    const disk = await DiskStore.open({ dir, maxBytes: 1_000_000 });
    await disk.put(key(1), entry(100));
    const file = join(dir, 'objects', 'mini', key(1));
    const damaged = await readFile(file);
    damaged[damaged.length - 1]! ^= 0xff;
    await writeFile(file, damaged);
    const layer = new MemoryLayer(disk, { maxBytes: 100_000 });
    expect(await layer.get(key(1))).toBeUndefined();
    expect(layer.peek(key(1))).toBeUndefined();
  });

  it('purges every entry of a template from memory, not only the first one met', async () => {
    const dir = await tempDir();
    const disk = await DiskStore.open({ dir, maxBytes: 1_000_000 });
    const layer = new MemoryLayer(disk, { maxBytes: 100_000 });
    for (let n = 1; n <= 4; n++) await layer.put(key(n), entry(100, n === 2 ? 'other' : 'mini'));
    expect(await layer.purge({ template: 'mini' })).toBe(3);
    expect([1, 2, 3, 4].map((n) => layer.peek(key(n)) !== undefined)).toEqual([false, true, false, false]);
    expect(await layer.purge()).toBe(1);
    expect(layer.memoryStats().entries).toBe(0);
  });

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
