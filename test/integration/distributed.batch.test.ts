import { access, readFile, writeFile } from 'node:fs/promises';
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkQueueName } from '../../src/distributed/index.js';
import { cliRig, contactsCsv, outputsOf, type CliRig } from '../support/distributed.js';
import { startRedis, waitFor, type TestRedis } from '../support/redis.js';
import { startS3, type TestS3 } from '../support/s3.js';

/**
 * Distributed batches with real processes: redis-server, an S3 server, `mergeshot worker`s and
 * `mergeshot render --redis --store`, compared with the local `mergeshot render` of the same
 * rows: same manifest, same bytes.
 */
let redis: TestRedis;
let s3: TestS3;
let rig: CliRig;
let data: string;
let local: { manifest: string; images: Map<string, Buffer> };
const rows = 500;

beforeAll(async () => {
  redis = await startRedis();
  s3 = await startS3();
  rig = await cliRig(redis, s3, 'batch');
  data = join(rig.dir, 'contacts.csv');
  await writeFile(data, contactsCsv(rows));
  const run = await rig.render(['--data', data, '--out', join(rig.dir, 'local')]).done;
  expect(run.code, run.stderr).toBe(0);
  local = await outputsOf(join(rig.dir, 'local'));
}, 240_000);

afterAll(async () => {
  await rig?.close();
  await s3?.close();
  await redis?.close();
});

/** The workers that ran the completed chunks (the results themselves leave Redis once collected). */
async function chunkWorkers(prefix: string): Promise<string[]> {
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(chunkQueueName, { connection, prefix });
  try {
    return (await queue.getCompleted(0, -1)).map((job) => job.processedBy ?? '');
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

describe('distributed batches', () => {
  it('a 500-row batch across 3 worker processes gives exactly the single-machine manifest and images', async () => {
    expect(local.manifest.trim().split('\n')).toHaveLength(rows + 1);
    expect(local.manifest).toMatch(/,warning,/);
    const workers = await Promise.all([rig.startWorker(), rig.startWorker(), rig.startWorker()]);
    const run = await rig.render(['--data', data, '--out', join(rig.dir, 'spread')], { distributed: true }).done;
    expect(run.code, run.stderr).toBe(0);
    const spread = await outputsOf(join(rig.dir, 'spread'));
    expect(spread.manifest).toBe(local.manifest);
    expect([...spread.images.keys()].sort()).toEqual([...local.images.keys()].sort());
    for (const [name, bytes] of local.images) expect(spread.images.get(name)?.equals(bytes), name).toBe(true);
    // Every worker took part: the rows were really spread, not rendered by one.
    expect(new Set(await chunkWorkers('batch')).size).toBe(3);
    await Promise.all(workers.map((worker) => worker.stop()));
  }, 240_000);

  it('a worker SIGKILLed mid-batch loses and duplicates no row: the manifest is still exactly the local one', async () => {
    const prefix = 'killed';
    const killRig = await cliRig(redis, s3, prefix);
    try {
      await writeFile(join(killRig.dir, 'contacts.csv'), contactsCsv(rows));
      const workers = await Promise.all([killRig.startWorker(), killRig.startWorker(), killRig.startWorker()]);
      const render = killRig.render(['--data', join(killRig.dir, 'contacts.csv'), '--out', join(killRig.dir, 'out')], { distributed: true });
      const client = new Redis(redis.url);
      try {
        // Mid-batch: some rows recorded, most not; the victim has rows of its own in flight.
        await waitFor(async () => {
          const [key] = await client.keys(`${prefix}:batch:*:results`);
          return key !== undefined && (await client.hlen(key)) >= 100;
        }, 120_000, '100 rows recorded');
        workers[0]!.kill();
        const [key] = await client.keys(`${prefix}:batch:*:results`);
        expect(await client.hlen(key!)).toBeLessThan(rows);
      } finally {
        client.disconnect();
      }
      const run = await render.done;
      expect(run.code, run.stderr).toBe(0);
      const out = await outputsOf(join(killRig.dir, 'out'));
      const lines = out.manifest.trim().split('\n').slice(1);
      const rowNumbers = lines.map((line) => Number(line.split(',')[0]));
      expect(new Set(rowNumbers).size).toBe(rows);
      expect(out.manifest).toBe(local.manifest);
      for (const [name, bytes] of local.images) expect(out.images.get(name)?.equals(bytes), name).toBe(true);
      await Promise.all(workers.slice(1).map((worker) => worker.stop()));
    } finally {
      await killRig.close();
    }
  }, 300_000);

  it('render --cancel stops a distributed batch for good: its queued chunks go, nothing of it stays in Redis, and a render following it stops', async () => {
    const prefix = 'cancelled';
    const cancelRig = await cliRig(redis, s3, prefix);
    const client = new Redis(redis.url);
    try {
      const csv = join(cancelRig.dir, 'contacts.csv');
      await writeFile(csv, contactsCsv(60));
      const out = join(cancelRig.dir, 'out');
      const batchFile = join(out, '.mergeshot-batch.json');
      const queued = async () => {
        const [key] = (await client.keys(`${prefix}:batch:*`)).filter((name) => !name.includes(':results'));
        return key !== undefined && (await client.hget(key, 'chunks')) === '3';
      };
      // No worker: the chunks stay queued, as on a farm busy with another campaign.
      const following = cancelRig.render(['--data', csv, '--out', out], { distributed: true });
      await waitFor(queued, 60_000, 'the 3 chunks to be queued');
      const { batchId } = JSON.parse(await readFile(batchFile, 'utf8')) as { batchId: string };
      expect(await client.keys(`${prefix}:chunks:${batchId}-*`)).toHaveLength(3);

      // From another terminal, while the first render still follows the batch, and with the store
      // down (it may be why one stops a batch): cancelling needs Redis only.
      await s3.stop();
      const cancel = await cancelRig.render(['--data', csv, '--out', out, '--cancel'], { distributed: true }).done.finally(() => s3.start());
      expect(cancel.code, cancel.stderr).toBe(0);
      expect(cancel.stderr).toContain(`cancelled batch ${batchId}: 3 queued chunk(s) removed`);
      expect(await client.keys(`${prefix}:chunks:${batchId}-*`)).toEqual([]);
      expect(await client.exists(`${prefix}:batch:${batchId}`, `${prefix}:batch:${batchId}:results`)).toBe(0);
      await expect(access(batchFile)).rejects.toThrow();
      const stopped = await following.done;
      expect(stopped.code).toBe(130);
      expect(stopped.stderr).toContain(`batch ${batchId} was cancelled`);

      // Nothing left to cancel: a clear usage error naming the folder.
      const again = await cancelRig.render(['--data', csv, '--out', out, '--cancel'], { distributed: true }).done;
      expect(again.code).toBe(2);
      expect(again.stderr).toContain('no distributed batch to cancel');
      await client.del(...(await client.keys(`${prefix}:batch:*`)));

      // Ctrl-C leaves the batch to the workers and says how to collect or stop it.
      const interrupted = cancelRig.render(['--data', csv, '--out', out], { distributed: true });
      await waitFor(queued, 60_000, 'the 3 chunks of the next batch to be queued');
      interrupted.child.kill('SIGINT');
      const run = await interrupted.done;
      expect(run.code).toBe(130);
      expect(run.stderr).toMatch(/--resume, or stop it with the same command and --cancel/);
    } finally {
      client.disconnect();
      await cancelRig.close();
    }
  }, 120_000);

  it('a row whose image left the store before it was collected fails alone (as on a server): the rest is collected, exit 1, the manifest says why', async () => {
    const prefix = 'purged';
    const purgeRig = await cliRig(redis, s3, prefix);
    const client = new Redis(redis.url);
    const objects = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: s3.env.AWS_ACCESS_KEY_ID!, secretAccessKey: s3.env.AWS_SECRET_ACCESS_KEY! } });
    try {
      const csv = join(purgeRig.dir, 'contacts.csv');
      await writeFile(csv, contactsCsv(6));
      const out = join(purgeRig.dir, 'out');
      const batchKey = async () => (await client.keys(`${prefix}:batch:*`)).find((name) => !name.endsWith(':results') && !name.endsWith(':cancelled'));
      // Queued with no worker, then Ctrl-C: the batch is left to the workers.
      const first = purgeRig.render(['--data', csv, '--out', out], { distributed: true });
      await waitFor(async () => (await batchKey()) !== undefined && (await client.hget((await batchKey())!, 'chunks')) === '1', 60_000, 'the chunk to be queued');
      first.child.kill('SIGINT');
      expect((await first.done).code).toBe(130);
      const { batchId } = JSON.parse(await readFile(join(out, '.mergeshot-batch.json'), 'utf8')) as { batchId: string };
      const worker = await purgeRig.startWorker();
      await waitFor(async () => (await client.hlen(`${prefix}:batch:${batchId}:results`)) === 6, 90_000, 'the worker to record the 6 rows');
      await worker.stop();
      // Row 2's image goes (a purge, an expiry) before anyone collected it.
      const row2 = JSON.parse((await client.hget(`${prefix}:batch:${batchId}:results`, '2'))!) as { key: string };
      await objects.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/cache/${row2.key}` }));

      const run = await purgeRig.render(['--data', csv, '--out', out, '--resume'], { distributed: true }).done;
      expect(run.code, run.stderr).toBe(1);
      const manifest = parse(await readFile(join(out, 'manifest.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
      expect(manifest.map((line) => line.status === 'failed')).toEqual([false, true, false, false, false, false]);
      expect(manifest[1]!.error).toContain('not in the shared store any more');
      for (const line of manifest.filter((entry) => entry.status !== 'failed')) await access(join(out, line.file!));
    } finally {
      objects.destroy();
      client.disconnect();
      await purgeRig.close();
    }
  }, 180_000);
});
