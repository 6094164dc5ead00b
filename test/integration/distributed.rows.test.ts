import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheKey, type CacheEntry } from '../../src/cache/index.js';
import { redisKeys, type RowResult } from '../../src/distributed/chunkJobs.js';
import { RenderLocks, S3Store } from '../../src/distributed/index.js';
import { RowRecorder } from '../../src/distributed/rowRecorder.js';
import { startOwnRedis, type TestRedis } from '../support/redis.js';
import { startS3, type TestS3 } from '../support/s3.js';

/**
 * A worker's rows, stored and recorded in groups (distributed/rowRecorder.ts) through the render
 * locks' writeMany (distributed/renderLocks.ts), against a real Redis and a real S3 server.
 */
/** Its own redis-server: this file counts the commands Redis ran (INFO commandstats is per server). */
let redis: TestRedis;
let s3: TestS3;
let client: Redis;
let store: S3Store;
let locks: RenderLocks;
const prefix = 'rows';
const keys = redisKeys(prefix);
const logger = pino({ level: 'silent' });

const key = (name: string) => cacheKey({ kind: 'image', template: 'mini', templateVersion: 'v1', preset: 'original', presetSpec: {}, size: 'default', record: { name } });
const entry = (text: string, createdAt = 1): CacheEntry => ({ bytes: Buffer.from(text), meta: { contentType: 'image/png', template: 'mini', createdAt, width: 10, height: 10 } });
const result = (row: number, status: RowResult['status'] = 'ok'): RowResult => ({ row, status, ...(status === 'failed' ? {} : { key: key(`row ${row}`) }), bytes: 4, width: 10, height: 10, warnings: [], alt: '', worker: 'test:1' });
/** EVAL calls Redis has executed so far (INFO commandstats). */
const evalCalls = async () => Number(/^cmdstat_eval:calls=(\d+)/m.exec(await client.info('commandstats'))?.[1] ?? 0);

beforeAll(async () => {
  [redis, s3] = await Promise.all([startOwnRedis(), startS3()]);
  Object.assign(process.env, s3.env);
  client = new Redis(redis.url);
  store = new S3Store({ location: { bucket: s3.bucket, prefix: 'rows' }, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, timeoutMs: 2_000, retryMs: 300 });
  locks = new RenderLocks({ redis: client, store, prefix, ttlMs: 5_000, logger });
});

afterAll(async () => {
  client?.disconnect();
  await store?.close();
  await Promise.all([s3?.close(), redis?.close()]);
});

describe('RenderLocks.writeMany', () => {
  it('writes the free keys in one go, leaves a key another writer holds to that writer, and releases its own locks', async () => {
    const [free1, free2, held] = [key('free 1'), key('free 2'), key('held')];
    // Another worker holds `held`: it has stored its entry and lets go of the lock 300 ms later.
    await client.set(`${prefix}:lock:${held}`, 'another-writer', 'PX', 5_000);
    await store.put(held, entry('theirs', 2));
    const other = new Promise((resolve) => setTimeout(resolve, 300)).then(() => client.del(`${prefix}:lock:${held}`));
    await locks.writeMany([
      { key: free1, entry: entry('ours 1') },
      { key: free2, entry: entry('ours 2') },
      { key: held, entry: entry('ours, held') },
    ]);
    await other;
    expect((await store.get(free1))?.bytes.toString()).toBe('ours 1');
    expect((await store.get(free2))?.bytes.toString()).toBe('ours 2');
    // One writer per key: ours waited for theirs and did not write over it.
    expect((await store.get(held))?.meta.createdAt).toBe(2);
    expect(await client.exists(`${prefix}:lock:${free1}`, `${prefix}:lock:${free2}`, `${prefix}:lock:${held}`)).toBe(0);
  }, 20_000);
});

describe('RowRecorder', () => {
  it('stores and records a chunk\'s rows a group at a time: 3 Redis calls per group of 10, not 3 per row', async () => {
    const batchId = 'grouped';
    const recorder = new RowRecorder({ redis: client, keys, batchId, writes: locks });
    const before = await evalCalls();
    for (let row = 1; row <= 25; row++) {
      const outcome = result(row, row === 7 ? 'failed' : 'ok');
      await recorder.add(outcome, outcome.key ? { key: outcome.key, entry: entry(`image ${row}`) } : undefined);
    }
    await recorder.finish();
    // Groups of 10, 10 and 5: take the locks, release them, record the outcomes.
    expect((await evalCalls()) - before).toBe(9);
    const recorded = await client.hgetall(keys.results(batchId));
    expect(Object.keys(recorded).map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(await client.hgetall(keys.batch(batchId))).toEqual({ ok: '24', failed: '1' });
    // Recorded ⇒ stored, for every row with an image.
    expect((await store.get(key('row 25')))?.bytes.toString()).toBe('image 25');
  }, 20_000);

  it('keeps the first outcome of a row and counts it once', async () => {
    const batchId = 'first-wins';
    const first = new RowRecorder({ redis: client, keys, batchId, writes: locks });
    await first.add(result(1), undefined);
    await first.finish();
    const seen: number[] = [];
    const again = new RowRecorder({ redis: client, keys, batchId, writes: locks, onRow: (row) => seen.push(row.row) });
    await again.add({ ...result(1), worker: 'other:2' }, undefined);
    await again.add(result(2), undefined);
    await again.finish();
    expect(seen).toEqual([2]);
    expect(JSON.parse((await client.hget(keys.results(batchId), '1'))!).worker).toBe('test:1');
    expect(await client.hgetall(keys.batch(batchId))).toEqual({ ok: '2' });
  });

  it('records nothing for a deleted batch and says so', async () => {
    const batchId = 'deleted';
    await client.set(keys.cancelled(batchId), '1', 'EX', 60);
    const recorder = new RowRecorder({ redis: client, keys, batchId, writes: locks });
    for (let row = 1; row <= 12; row++) await recorder.add(result(row), undefined);
    await recorder.finish();
    expect(recorder.cancelled).toBe(true);
    expect(await client.exists(keys.results(batchId), keys.batch(batchId))).toBe(0);
  });

  it('records no row whose image could not be stored, and fails the chunk', async () => {
    const batchId = 'store-down';
    const dead = new S3Store({ location: { bucket: s3.bucket, prefix: 'rows' }, region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, timeoutMs: 1_000, retryMs: 300 });
    try {
      const recorder = new RowRecorder({ redis: client, keys, batchId, writes: new RenderLocks({ redis: client, store: dead, prefix, ttlMs: 5_000, logger }) });
      const outcome = result(1);
      await recorder.add(outcome, { key: outcome.key!, entry: entry('lost') });
      await expect(recorder.finish()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect(await client.exists(keys.results(batchId))).toBe(0);
    } finally {
      await dead.close();
    }
  });
});
