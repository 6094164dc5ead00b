import { parse } from 'csv-parse/sync';
import { Redis } from 'ioredis';
import pino from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBatchSubmitter, openWorkerProcess, type WorkerProcess } from '../../src/distributed/index.js';
import { targetOf } from '../../src/pipeline/index.js';
import { startDistributedNode, type DistributedNode } from '../support/distributed.js';
import { binaryParser, metricValue, pollUntil } from '../support/server.js';
import { zipEntry, zipNames } from '../support/zip.js';

/**
 * `POST /api/batches` on a server node in distributed mode: the rows go to the queue as chunk
 * jobs (no worker, no progress: the node renders nothing itself), a real worker renders them,
 * and the node's status, zip and manifest are the same API as for a local batch.
 */
let rig: DistributedNode;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  rig = await startDistributedNode('api', 'test-api-key-0123456789');
}, 120_000);

afterAll(async () => {
  await worker?.close();
  await rig?.close();
});

const api = (method: 'get' | 'post' | 'delete', path: string) => rig.api(method, path);

describe('POST /api/batches in distributed mode', () => {
  it('queues the rows for the workers, follows their results, and serves the zip and manifest', async () => {
    // No photo in any row (each warns missing:photo); row 10 also falls back for its empty name.
    const rows = Array.from({ length: 10 }, (_, i) => ({ name: i === 9 ? '' : `Guest ${i + 1}`, vip: i % 3 === 0 ? 'yes' : 'no', color: '#0f766e' }));
    const created = await api('post', '/api/batches').send({ template: 'mini', rows }).expect(202);
    const id = created.body.id as string;

    // No worker yet: the node has queued 3 chunks (4 + 4 + 2 rows) and renders none of them itself.
    await pollUntil('the chunks to be queued', async () => metricValue(await rig.node.server.metrics.registry.metrics(), 'mergeshot_distributed_jobs', { state: 'waiting' }), (waiting) => waiting === 3);
    expect((await api('get', `/api/batches/${id}`).expect(200)).body).toMatchObject({ status: 'running', done: 0 });

    worker = await openWorkerProcess(rig.workspace.config.distributed, rig.workspace.pipeline, { logger: pino({ level: 'silent' }) });
    const status = await pollUntil('the batch to finish', async () => (await api('get', `/api/batches/${id}`).expect(200)).body as Record<string, unknown>, (body) => body.status === 'done');
    expect(status).toMatchObject({ done: 10, failed: 0, warning: 10 });
    // The workers rendered every row: this node's own render counter never moved.
    expect(metricValue(await rig.node.server.metrics.registry.metrics(), 'mergeshot_renders_total')).toBe(0);

    const zip = (await api('get', `/api/batches/${id}/download`).buffer(true).parse(binaryParser as never).expect(200)).body as Buffer;
    const manifest = parse(zipEntry(zip, 'manifest.csv'), { columns: true }) as Record<string, string>[];
    expect(manifest.map((line) => [line.row, line.file, line.status])).toEqual(rows.map((_, i) => [String(i + 1), `${String(i + 1).padStart(5, '0')}.png`, 'warning']));
    expect(manifest.map((line) => line.warnings)).toEqual(rows.map((_, i) => (i === 9 ? 'fallback:name;missing:photo' : 'missing:photo')));
    expect(zipNames(zip).filter((name) => name.endsWith('.png'))).toHaveLength(10);
    for (const line of manifest) {
      const image = zipEntry(zip, line.file!);
      expect(image.subarray(1, 4).toString()).toBe('PNG');
      expect(image.length).toBe(Number(line.bytes));
    }
    // The image a worker stored is the one a server looks up for the same request: one cache
    // key derivation (pipeline/target.ts imageCacheKey), or servers would miss what workers wrote.
    const same = await api('post', '/api/render').send({ template: 'mini', data: rows[0] }).buffer(true).parse(binaryParser as never).expect(200);
    expect(same.headers['x-mergeshot-cache']).toBe('hit');
    expect((same.body as Buffer).equals(zipEntry(zip, manifest[0]!.file!))).toBe(true);
    expect(metricValue(await rig.node.server.metrics.registry.metrics(), 'mergeshot_renders_total')).toBe(0);
  }, 120_000);

  it('serves the queue dashboard (bull-board) behind the API key, read-only', async () => {
    await request(rig.node.url).get('/api/queues').expect(401);
    const page = await api('get', '/api/queues').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('mergeshot');
    const board = (await api('get', '/api/queues/api/queues').expect(200)).body as { queues: { name: string; readOnlyMode: boolean; counts: Record<string, number> }[] };
    expect(board.queues.map((queue) => [queue.name, queue.readOnlyMode])).toEqual([['chunks', true]]);
    expect(board.queues[0]!.counts.completed).toBeGreaterThanOrEqual(3);
    // A chunk shows which rows it holds, never their values (the recipients' data).
    const completed = await api('get', '/api/queues/api/queues?activeQueue=chunks&status=completed&page=1').expect(200);
    const jobs = (completed.body as { queues: { name: string; jobs: { data: Record<string, unknown> }[] }[] }).queues.find((q) => q.name === 'chunks')!.jobs;
    expect(jobs.length).toBeGreaterThanOrEqual(3);
    expect(jobs.map((job) => job.data.rows)).toContain('4 rows, 1–4 (values not shown)');
    expect(completed.text).not.toContain('Guest 1');
    // Its static files load from the same place (the page's scripts).
    const script = /src="([^"]*static\/js\/main[^"]*)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    await api('get', new URL(script!, `${rig.node.url}/api/queues/`).pathname).expect(200).expect('content-type', /javascript/);
  });

  it('a node restarted mid-batch resubmits it: the workers render no row twice and the new node collects every row', async () => {
    const rows = Array.from({ length: 9 }, (_, i) => ({ name: `Restart ${i + 1}`, vip: 'no', color: '#0f766e' }));
    const created = await api('post', '/api/batches').send({ template: 'mini', rows }).expect(202);
    const id = created.body.id as string;
    const waiting = async () => metricValue(await rig.node.server.metrics.registry.metrics(), 'mergeshot_distributed_jobs', { state: 'waiting' });
    // The running worker takes chunks at once; stop it first so the batch is caught half-way.
    await worker?.close();
    worker = undefined;
    await pollUntil('the chunks to be queued', waiting, (count) => count === 3);
    await rig.restart();
    worker = await openWorkerProcess(rig.workspace.config.distributed, rig.workspace.pipeline, { logger: pino({ level: 'silent' }) });
    const status = await pollUntil('the batch to finish on the new node', async () => (await api('get', `/api/batches/${id}`).expect(200)).body as Record<string, unknown>, (body) => body.status === 'done');
    expect(status).toMatchObject({ done: 9, failed: 0 });
    const zip = (await api('get', `/api/batches/${id}/download`).buffer(true).parse(binaryParser as never).expect(200)).body as Buffer;
    const manifest = parse(zipEntry(zip, 'manifest.csv'), { columns: true }) as Record<string, string>[];
    expect(manifest.map((line) => line.row)).toEqual(rows.map((_, i) => String(i + 1)));
    // Resubmitting added no chunk twice (job ids dedupe): 3 chunks of this batch completed, no more.
    const completed = metricValue(await rig.node.server.metrics.registry.metrics(), 'mergeshot_distributed_jobs', { state: 'completed' });
    expect(completed).toBe(3 + 3);
  }, 120_000);

  it('deleting a batch removes its queued chunks, and leaves nothing of it in Redis', async () => {
    await worker?.close();
    worker = undefined;
    const rows = Array.from({ length: 10 }, (_, i) => ({ name: `Deleted ${i + 1}`, vip: 'no', color: '#0f766e' }));
    const id = (await api('post', '/api/batches').send({ template: 'mini', rows }).expect(202)).body.id as string;
    const redisClient = new Redis(rig.redis.url);
    try {
      const chunkJobs = () => redisClient.keys(`api:chunks:${id}-*`);
      await pollUntil('the chunks to be queued', chunkJobs, (keys) => keys.length === 3);
      await api('delete', `/api/batches/${id}`).expect(204);
      expect(await chunkJobs()).toEqual([]);
      expect(await redisClient.lrange('api:chunks:wait', 0, -1)).not.toContain(`${id}-0`);
      expect(await redisClient.exists(`api:batch:${id}`, `api:batch:${id}:results`)).toBe(0);
      await api('get', `/api/batches/${id}`).expect(404);
    } finally {
      redisClient.disconnect();
    }
  }, 60_000);

  it('a batch deleted while a worker renders one of its chunks: the worker stops within a few rows and records nothing more', async () => {
    worker = await openWorkerProcess(rig.workspace.config.distributed, rig.workspace.pipeline, { logger: pino({ level: 'silent' }) });
    const submitter = await openBatchSubmitter({ ...rig.workspace.config.distributed, chunkRows: 60 });
    const redisClient = new Redis(rig.redis.url);
    try {
      const template = await rig.workspace.pipeline.registry.getById('mini');
      const { presetName, size } = targetOf(rig.workspace.pipeline, template, {});
      async function* rows() {
        for (let row = 1; row <= 60; row++) yield { row, values: { name: `Stopped ${row}`, vip: 'no', color: '#0f766e' } };
      }
      const batchId = 'cancel-mid-chunk';
      await submitter.batches.submit(batchId, { template: template.id, templateVersion: template.version, preset: presetName, size: size.name, withRecord: false, fields: template.manifest.fields }, rows());
      await pollUntil('the first row of the chunk', () => redisClient.hlen(`api:batch:${batchId}:results`), (count) => count > 0);
      expect(await submitter.batches.cancel(batchId)).toBe(0); // the worker holds the only chunk
      const job = await pollUntil('the chunk to end', async () => submitter.batches.queue.getJob(`${batchId}-0`), (found) => found?.finishedOn !== undefined, { timeoutMs: 30_000 });
      expect(job?.returnvalue).toMatchObject({ cancelled: true });
      expect(job!.returnvalue.rendered).toBeLessThan(40);
      // The rows rendered after the deletion were recorded nowhere: the deleted state stays deleted.
      expect(await redisClient.exists(`api:batch:${batchId}`, `api:batch:${batchId}:results`)).toBe(0);
    } finally {
      redisClient.disconnect();
      await submitter.close();
    }
  }, 60_000);
});
