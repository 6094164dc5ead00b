import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheKey, type CacheEntry } from '../../src/cache/index.js';
import { S3Store } from '../../src/distributed/index.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { pollUntil } from '../support/server.js';

/** The shared cache tier against a real S3-protocol server, through the official AWS SDK. */
let s3: TestS3;
let store: S3Store;

const entry = (template: string, text: string): CacheEntry => ({ bytes: Buffer.from(text), meta: { contentType: 'image/png', template, createdAt: Date.now(), width: 10, height: 10, warnings: ['fallback:name'] } });
const key = (name: string) => cacheKey({ kind: 'image', template: 'mini', templateVersion: 'v1', preset: 'original', presetSpec: {}, size: 'default', record: { name } });

beforeAll(async () => {
  s3 = await startS3();
  Object.assign(process.env, s3.env);
  store = new S3Store({ location: { bucket: s3.bucket, prefix: 'unit' }, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, timeoutMs: 2_000, retryMs: 300 });
});

afterAll(async () => {
  await store?.close();
  await s3?.close();
});

describe('S3Store', () => {
  it('stores and returns entries under their cache key, verified', async () => {
    await store.put(key('Ada'), entry('mini', 'png bytes'));
    const back = await store.get(key('Ada'));
    expect(back?.bytes.toString()).toBe('png bytes');
    expect(back?.meta).toMatchObject({ contentType: 'image/png', template: 'mini', warnings: ['fallback:name'] });
    expect(await store.get(key('nobody'))).toBeUndefined();
  });

  it('answers a damaged object as a miss, never as the image', async () => {
    await store.put(key('Grace'), entry('mini', 'good'));
    const client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true });
    const good = (await store.getObject(store.objectKey(key('Grace'))))!;
    const flipped = Buffer.from(good);
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 1) ^ 0xff, flipped.length - 1);
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: store.objectKey(key('Grace')), Body: flipped }));
    client.destroy();
    expect(await store.get(key('Grace'))).toBeUndefined();
  });

  it('reads a recorded object again while it shows half-written, and gives up on one that stays missing', async () => {
    const client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true });
    const name = store.objectKey(key('Katherine'));
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: name, Body: Buffer.from('half an objec') }));
    // The whole object lands 300 ms later, as a slow or non-atomic PUT of a duplicate render would.
    const landing = new Promise((resolve) => setTimeout(resolve, 300)).then(() => store.put(key('Katherine'), entry('mini', 'whole')));
    const read = await store.getWritten(key('Katherine'));
    await landing;
    client.destroy();
    expect(read?.bytes.toString()).toBe('whole');
    expect(await store.getWritten(key('never written'))).toBeUndefined();
  }, 20_000);

  it('purges many objects at once: the parallel deletes ride over the store\'s transient 500s', async () => {
    // s3rver answers 500 when two deletes empty the same folder at once, as real stores do now and then.
    const own = new S3Store({ location: { bucket: s3.bucket, prefix: 'many' }, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, timeoutMs: 5_000, retryMs: 300 });
    try {
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 40; i++) await own.put(cacheKey({ kind: 'image', template: 'mini', templateVersion: 'v1', preset: 'original', presetSpec: {}, size: 'default', record: { i, round } }), entry('mini', `image ${i}`));
        expect(await own.purge({})).toBe(40);
      }
    } finally {
      await own.close();
    }
  }, 60_000);

  it('refuses a content type the cache would not serve', async () => {
    await expect(store.put(key('html'), { bytes: Buffer.from('<script>'), meta: { contentType: 'text/html', template: 'mini', createdAt: 0 } })).rejects.toThrowError(/content type/);
  });

  it('purges one template or everything', async () => {
    await store.put(key('a1'), entry('alpha', 'a'));
    await store.put(key('b1'), entry('beta', 'b'));
    expect(await store.purge({ template: 'alpha' })).toBe(1);
    expect(await store.get(key('a1'))).toBeUndefined();
    expect(await store.get(key('b1'))).toBeDefined();
    expect(await store.purge({ template: 'beta', scope: 'local' })).toBe(0);
    expect(await store.purge()).toBeGreaterThanOrEqual(3);
    expect(await store.get(key('b1'))).toBeUndefined();
  });

  it('fails fast with STORE_UNAVAILABLE while the store is down, and recovers by itself', async () => {
    await store.put(key('outage'), entry('mini', 'kept'));
    await s3.stop();
    try {
      await expect(store.get(key('outage'))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect(store.isAvailable()).toBe(false);
      // The breaker is open: the next request fails at once instead of waiting for a timeout.
      const started = Date.now();
      await expect(store.get(key('outage'))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect(Date.now() - started).toBeLessThan(50);
    } finally {
      await s3.start();
    }
    const back = await pollUntil('the store to answer again', () => store.get(key('outage')).catch(() => undefined), (found) => found !== undefined, { timeoutMs: 10_000, intervalMs: 100 });
    expect(back?.bytes.toString()).toBe('kept');
  });
});
