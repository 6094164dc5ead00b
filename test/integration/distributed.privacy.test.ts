import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDistributedRender } from '../../src/cli/commands/renderDistributed.js';
import { openBatchSubmitter, openWorkerProcess, type BatchSubmitter, type WorkerProcess } from '../../src/distributed/index.js';
import { targetOf } from '../../src/pipeline/index.js';
import { startDistributedNode, type DistributedNode } from '../support/distributed.js';
import { dumpRedis } from '../support/redis.js';
import { pollUntil } from '../support/server.js';

/**
 * Issue 18 item 5: a distributed batch's row values leave Redis. After each step below, every key
 * of the database is read back by type (dumpRedis) and searched for values planted in a template
 * field (`name`) and in a JSON key that is no field of the template (`secretNote`).
 */
const fieldSecret = 'Zoë-Secret-Ünïque-42';
const extraSecret = 'Ünïque-Extra-Key-Secret-99';
let rig: DistributedNode;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  rig = await startDistributedNode('privacy', 'privacy-api-key-0123456789');
}, 120_000);

afterAll(async () => {
  await worker?.close();
  await rig?.close();
});

const api = (method: 'get' | 'post' | 'delete', path: string) => rig.api(method, path);

/** Hostile, real-looking rows: the secrets next to RTL, CJK, emoji and stray quotes. */
function secretRows(count: number, tag: string) {
  const names = [`${fieldSecret} محمد`, `${fieldSecret} 李"小龍`, `${fieldSecret} 🎉 'Ada'`];
  return Array.from({ length: count }, (_, i) => ({ name: `${names[i % names.length]!} ${tag}${i}`, secretNote: `${extraSecret} ${tag}${i}`, vip: i % 2 ? 'yes' : 'no', color: '#0f766e' }));
}

/** Which of the planted values any Redis key or value still holds. */
async function plantedInRedis(): Promise<string[]> {
  const dump = await dumpRedis(rig.redis.url);
  return [fieldSecret, extraSecret].filter((secret) => dump.includes(secret));
}

/** A batch of the `mini` template submitted straight to the queue, as `render --redis` does (with the record for --name). */
async function submitRows(submitter: BatchSubmitter, batchId: string, rows: readonly Record<string, unknown>[], templateVersion?: string): Promise<void> {
  const template = await rig.workspace.pipeline.registry.getById('mini');
  const { presetName, size } = targetOf(rig.workspace.pipeline, template, {});
  async function* batchRows() {
    for (const [at, values] of rows.entries()) yield { row: at + 1, values };
  }
  await submitter.batches.submit(batchId, { template: template.id, templateVersion: templateVersion ?? template.version, preset: presetName, size: size.name, withRecord: true, fields: template.manifest.fields }, batchRows());
}

async function startWorker(): Promise<void> {
  worker ??= await openWorkerProcess(rig.workspace.config.distributed, rig.workspace.pipeline, { logger: pino({ level: 'silent' }) });
}

async function stopWorker(): Promise<void> {
  await worker?.close();
  worker = undefined;
}

describe('row values in Redis (distributed batches)', () => {
  it('queues only the template fields, and a deleted batch leaves none of its values in any key', async () => {
    await stopWorker();
    const id = (await api('post', '/api/batches').send({ template: 'mini', rows: secretRows(6, 'queued') }).expect(202)).body.id as string;
    const client = new Redis(rig.redis.url);
    try {
      await pollUntil('the chunks to be queued', () => client.keys(`privacy:chunks:${id}-*`), (keys) => keys.length === 2);
    } finally {
      client.disconnect();
    }
    // Waiting chunks hold the field they need (the scan does see job data), never the other key.
    expect(await plantedInRedis()).toEqual([fieldSecret]);
    await api('delete', `/api/batches/${id}`).expect(204);
    expect(await plantedInRedis()).toEqual([]);
  }, 60_000);

  it('a completed batch leaves no row value in Redis: its chunks are listed with their row numbers only', async () => {
    await startWorker();
    const id = (await api('post', '/api/batches').send({ template: 'mini', rows: secretRows(10, 'done') }).expect(202)).body.id as string;
    const status = await pollUntil('the batch to finish', async () => (await api('get', `/api/batches/${id}`).expect(200)).body as Record<string, unknown>, (body) => body.status === 'done', { timeoutMs: 90_000 });
    expect(status).toMatchObject({ done: 10, failed: 0 });
    expect(await plantedInRedis()).toEqual([]);
    const submitter = await openBatchSubmitter(rig.workspace.config.distributed);
    try {
      const chunk = await submitter.batches.queue.getJob(`${id}-0`);
      expect(chunk?.finishedOn).toBeDefined();
      expect(chunk!.data.rows.map((row) => [row.row, row.values])).toEqual([1, 2, 3, 4].map((row) => [row, {}]));
    } finally {
      await submitter.close();
    }
    // The node's own copy (its batch folder) is what the download serves; deleting it leaves Redis as clean.
    await api('delete', `/api/batches/${id}`).expect(204);
    expect(await plantedInRedis()).toEqual([]);
  }, 120_000);

  it('a batch deleted while a worker holds its chunk: the held chunk loses its values at once', async () => {
    await startWorker();
    const submitter = await openBatchSubmitter({ ...rig.workspace.config.distributed, chunkRows: 60 });
    const client = new Redis(rig.redis.url);
    try {
      const batchId = 'privacy-held';
      await submitRows(submitter, batchId, secretRows(60, 'held'));
      await pollUntil('the first row of the chunk', () => client.hlen(`privacy:batch:${batchId}:results`), (count) => count > 0);
      expect(await submitter.batches.cancel(batchId)).toBe(0); // the worker holds the only chunk
      expect(await plantedInRedis()).toEqual([]);
      await pollUntil('the chunk to end', async () => submitter.batches.queue.getJob(`${batchId}-0`), (found) => found?.finishedOn !== undefined, { timeoutMs: 60_000 });
      expect(await plantedInRedis()).toEqual([]);
    } finally {
      client.disconnect();
      await submitter.close();
    }
  }, 120_000);

  it('a chunk given up (its template version is not the workers\'): its rows end failed and its values leave Redis', async () => {
    await startWorker();
    const submitter = await openBatchSubmitter(rig.workspace.config.distributed);
    try {
      const batchId = 'privacy-given-up';
      await submitRows(submitter, batchId, secretRows(3, 'failed'), 'another-version-of-mini');
      await pollUntil('every row to end failed', async () => submitter.batches.results(batchId), (results) => results.length === 3);
      expect((await submitter.batches.results(batchId)).map((result) => [result.row, result.status, result.error?.code])).toEqual([1, 2, 3].map((row) => [row, 'failed', 'TEMPLATE_INVALID']));
      // The failed job stays listed for the operator (its reason, its row numbers), without values.
      await pollUntil('the failed chunk to lose its values', plantedInRedis, (found) => found.length === 0, { timeoutMs: 10_000 });
      const job = await submitter.batches.queue.getJob(`${batchId}-0`);
      expect(await job?.getState()).toBe('failed');
      expect(job!.data.rows.map((row) => row.row)).toEqual([1, 2, 3]);
      // A submitter that never comes back to collect them: the results expire on their own.
      const client = new Redis(rig.redis.url);
      try {
        for (const key of [`privacy:batch:${batchId}:results`, `privacy:batch:${batchId}`]) expect(await client.ttl(key)).toBeGreaterThan(6 * 24 * 3600);
      } finally {
        client.disconnect();
      }
      await submitter.batches.forget(batchId);
    } finally {
      await submitter.close();
    }
  }, 120_000);

  it('mergeshot render --redis with a --name over a field: once collected, no row value stays in Redis', async () => {
    await startWorker();
    const csv = join(rig.workspace.root, 'secrets.csv');
    const lines = secretRows(5, 'cli').map((row) => [row.name, row.secretNote, row.vip, row.color].map((cell) => `"${cell.replaceAll('"', '""')}"`).join(','));
    await writeFile(csv, `Name,Secret Note,VIP,Color\n${lines.join('\n')}\n`);
    const render = (resume: boolean) => runDistributedRender(rig.workspace.pipeline, rig.workspace.config.distributed, 'mini', { data: csv, out: join(rig.workspace.root, 'cli-out'), name: '{{row}}-{{vip}}', map: {}, resume, signal: AbortSignal.timeout(60_000) });
    expect(await render(false)).toMatchObject({ ok: 0, warning: 5, failed: 0, interrupted: false });
    expect(await plantedInRedis()).toEqual([]);
    // --resume after a collected batch renders it anew: it never follows the batch Redis forgot.
    expect(await render(true)).toMatchObject({ warning: 5, interrupted: false });
    expect(await plantedInRedis()).toEqual([]);
  }, 120_000);
});
