import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRig, contactsCsv, outputsOf, type CliRig, type WorkerChild } from '../support/distributed.js';
import { startOwnRedis, waitFor, type OwnRedis } from '../support/redis.js';
import { startS3, type TestS3 } from '../support/s3.js';

/**
 * A distributed batch survives its infrastructure going away under it: Redis stopped and
 * started again mid-batch (workers and the submitter reconnect, chunks whose locks lapsed go
 * to a worker again), and the store down mid-batch (chunks fail, BullMQ retries them with
 * backoff). Each ends with the same manifest and bytes as a local render.
 */
/** Its own redis-server: this file stops and starts it. */
let redis: OwnRedis;
let s3: TestS3;
let rig: CliRig;
let data: string;
let local: { manifest: string; images: Map<string, Buffer> };
let workers: WorkerChild[] = [];
const rows = 200;

beforeAll(async () => {
  redis = await startOwnRedis();
  s3 = await startS3();
  rig = await cliRig(redis, s3, 'recovery');
  data = join(rig.dir, 'contacts.csv');
  await writeFile(data, contactsCsv(rows));
  const run = await rig.render(['--data', data, '--out', join(rig.dir, 'local')]).done;
  expect(run.code, run.stderr).toBe(0);
  local = await outputsOf(join(rig.dir, 'local'));
  workers = await Promise.all([rig.startWorker(), rig.startWorker()]);
}, 240_000);

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await rig?.close();
  await s3?.close();
  await redis?.close();
});

async function recordedRows(): Promise<number> {
  const client = new Redis(redis.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const keys = await client.keys('recovery:batch:*:results');
    const counts = await Promise.all(keys.map((key) => client.hlen(key)));
    return Math.max(0, ...counts);
  } catch {
    return 0;
  } finally {
    client.disconnect();
  }
}

async function expectSameAsLocal(out: string): Promise<void> {
  const outputs = await outputsOf(out);
  expect(outputs.manifest).toBe(local.manifest);
  for (const [name, bytes] of local.images) expect(outputs.images.get(name)?.equals(bytes), name).toBe(true);
}

describe('distributed batches under failures', () => {
  it('completes when Redis is stopped and started again mid-batch', async () => {
    const render = rig.render(['--data', data, '--out', join(rig.dir, 'redis-restart')], { distributed: true });
    await waitFor(async () => (await recordedRows()) >= 30, 120_000, '30 rows recorded');
    const before = workers.map((worker) => worker.output().length);
    await redis.stop();
    // Down until both workers have noticed (their connections report the loss), then back.
    await waitFor(() => workers.every((worker, at) => worker.output().slice(before[at]).includes('connection')), 30_000, 'the workers to notice Redis is gone');
    await redis.start();
    const run = await render.done;
    expect(run.code, run.stderr).toBe(0);
    await expectSameAsLocal(join(rig.dir, 'redis-restart'));
  }, 300_000);

  it('completes when the store is down mid-batch: chunks are retried with backoff', async () => {
    await redis.start().catch(() => undefined);
    const render = rig.render(['--data', data, '--out', join(rig.dir, 'store-outage')], { distributed: true });
    await waitFor(async () => (await recordedRows()) >= 30, 120_000, '30 rows recorded');
    await s3.stop();
    await waitFor(() => workers.some((worker) => worker.output().includes('BullMQ retries it with backoff')), 60_000, 'a chunk to fail and be scheduled for a retry');
    await s3.start();
    const run = await render.done;
    expect(run.code, run.stderr).toBe(0);
    await expectSameAsLocal(join(rig.dir, 'store-outage'));
  }, 300_000);
});
