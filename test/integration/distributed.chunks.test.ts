import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchQueue } from '../../src/distributed/index.js';
import type { BatchRow } from '../../src/pipeline/index.js';
import { parseManifest } from '../../src/template/index.js';
import { startRedis, type TestRedis } from '../support/redis.js';

/** How a distributed batch is cut into chunk jobs (distributed/batchQueue.ts), on a real Redis. */
let redis: TestRedis;
let connection: Redis;
let batches: BatchQueue;
const fields = parseManifest({ name: 'Chunks', width: 100, height: 100, fields: { name: { type: 'text' } } }, 'test').fields;
const target = { template: 'mini', templateVersion: 'v1', preset: 'original', size: 'default', withRecord: false, fields };

async function* rows(count: number): AsyncGenerator<BatchRow> {
  for (let row = 1; row <= count; row++) yield { row, values: { name: `Row ${row}` } };
}

/** The row numbers of each chunk job, in chunk order. */
async function chunksOf(batchId: string, chunks: number): Promise<number[][]> {
  const jobs = await Promise.all(Array.from({ length: chunks }, (_, chunk) => batches.queue.getJob(`${batchId}-${chunk}`)));
  return jobs.map((job) => job!.data.rows.map((row) => row.row));
}

beforeAll(async () => {
  redis = await startRedis();
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  batches = new BatchQueue({ connection, prefix: 'chunks-test', chunkRows: 50, attempts: 1, backoffMs: 100 });
});

afterAll(async () => {
  await batches?.close();
  connection?.disconnect();
  await redis?.close();
});

describe('BatchQueue.submit', () => {
  it('cuts the end of a big batch finer, so no worker waits long for the last one', async () => {
    const submitted = await batches.submit('big', target, rows(1_000));
    // 900 rows in chunks of 50, the last 100 in chunks of 13.
    expect(submitted).toEqual({ total: 1_000, chunks: 18 + 8 });
    const chunks = await chunksOf('big', submitted.chunks);
    expect(chunks.map((chunk) => chunk.length)).toEqual([...Array<number>(18).fill(50), 13, 13, 13, 13, 13, 13, 13, 9]);
    // Every row once, in order.
    expect(chunks.flat()).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
  });

  it('keeps whole chunks for a batch of a few chunks', async () => {
    const submitted = await batches.submit('small', target, rows(120));
    expect(submitted).toEqual({ total: 120, chunks: 3 });
    expect((await chunksOf('small', 3)).map((chunk) => chunk.length)).toEqual([50, 50, 20]);
  });

  it('cuts the same chunks when the same rows are submitted again (a restarted submitter adds none twice)', async () => {
    const first = await batches.submit('again', target, rows(333));
    const second = await batches.submit('again', target, rows(333));
    expect(second).toEqual(first);
    expect(await batches.queue.getJobCountByTypes('waiting')).toBe(26 + 3 + first.chunks);
  });
});
