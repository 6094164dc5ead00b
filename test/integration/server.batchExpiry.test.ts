import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, pollUntil, startServer, type TestServer, type TestWorkspace } from '../support/server.js';

/**
 * API batches expire (issue 18, item 6): a batch sent to POST /api/batches holds its rows and
 * images (personal data) under server.batchesDir; it is deleted server.batchTtlMs after it
 * finished, by the sweeper that expires studio uploads, and a batch still running or queued is
 * never deleted, however old.
 */

const key = 'batch-expiry-key-0123456789abcdef';
const ttlMs = 1_500;
const hostile = ['Zoë "Ω" O\'Brien-Castellanos de la Fuente y Montenegro', 'محمد بن موسى الخوارزمي', '山田 太郎 🎉', '', ' Ω ', 'שרה 🇮🇱 "quoted"'];
const rowsOf = (count: number, tag: string) => Array.from({ length: count }, (_, i) => ({ name: `${hostile[i % hostile.length]} ${tag}${i}`, vip: i % 2 === 0, color: '#1d4ed8' }));
const exists = (path: string) => stat(path).then(() => true, () => false);

describe('API batch expiry', () => {
  let workspace: TestWorkspace;
  let server: TestServer;
  const api = (method: 'get' | 'post', path: string) => request(server.url)[method](path).set('Authorization', `Bearer ${key}`);
  const batchDir = (id: string) => join(workspace.config.server.batchesDir, id);
  const status = async (id: string) => (await api('get', `/api/batches/${id}`).expect(200)).body as { status: string; createdAt: string; finishedAt?: string; done: number; total: number };

  beforeAll(async () => {
    workspace = await createWorkspace({ server: { apiKeys: [{ name: 'a', key, scopes: ['render'] }], watchTemplates: false, batchTtlMs: ttlMs }, studio: { sweepIntervalMs: 100 } });
    server = await startServer(workspace.pipeline, workspace.config);
  });

  afterAll(async () => {
    await server?.close();
    await workspace?.close();
  });

  it('deletes a finished batch server.batchTtlMs after it finished, from disk and from the status route, logging its id and age only', async () => {
    const rows = rowsOf(3, 'done-');
    const created = await api('post', '/api/batches').send({ template: 'mini', rows }).expect(202);
    const id = created.body.id as string;
    const finished = await pollUntil('the batch to finish', () => status(id), (body) => body.status === 'done', { timeoutMs: 30_000 });
    expect(finished.done).toBe(3);
    // Served while it is young: the zip of its images.
    const zip = await api('get', `/api/batches/${id}/download`).buffer(true).expect(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    expect(await exists(join(batchDir(id), 'rows.ndjson'))).toBe(true);

    await pollUntil('the expired batch to be deleted', () => exists(batchDir(id)), (present) => !present, { timeoutMs: 15_000 });
    // Not before its time: counted from when it finished.
    expect(Date.now() - Date.parse(finished.finishedAt ?? '')).toBeGreaterThanOrEqual(ttlMs);
    expect((await api('get', `/api/batches/${id}`).expect(404)).body.error.code).toBe('BATCH_NOT_FOUND');
    await api('get', `/api/batches/${id}/download`).expect(404);

    const expired = server.logs.filter((line) => line.includes('batch expired')).map((line) => JSON.parse(line) as { batchId?: string; ageMs?: number; ttlMs?: number });
    expect(expired).toHaveLength(1);
    expect(expired[0]).toMatchObject({ batchId: id, ttlMs });
    expect(expired[0]?.ageMs).toBeGreaterThanOrEqual(ttlMs);
    // Through the function DELETE /api/batches/<id> uses (which, in distributed mode, cancels the batch's Redis state too).
    const deleted = server.logs.map((line) => JSON.parse(line) as { msg: string; batchId?: string }).filter((entry) => entry.msg === 'batch deleted');
    expect(deleted.map((entry) => entry.batchId)).toEqual([id]);
    // No row value in any log line.
    for (const line of server.logs) for (const row of rows) if (row.name.trim()) expect(line).not.toContain(row.name);
  });

  it('never deletes a batch still running or queued, however old; it expires once finished', async () => {
    // One job runs at a time: the long one runs while the short one waits, both older than the TTL.
    const long = (await api('post', '/api/batches').send({ template: 'mini', rows: rowsOf(300, 'long-') }).expect(202)).body.id as string;
    const queued = (await api('post', '/api/batches').send({ template: 'mini', rows: rowsOf(2, 'queued-') }).expect(202)).body.id as string;
    const created = Date.parse((await status(queued)).createdAt);
    // Past the TTL and several sweeps since both were made.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, created + ttlMs + 600 - Date.now())));
    const running = await status(long);
    const waiting = await status(queued);
    // The premise: both are still unfinished (otherwise this test proves nothing; give the long one more rows).
    expect(running.status).toBe('running');
    expect(running.done).toBeLessThan(running.total);
    expect(waiting.status).toBe('queued');
    expect(await exists(join(batchDir(long), 'rows.ndjson'))).toBe(true);
    expect(await exists(join(batchDir(queued), 'rows.ndjson'))).toBe(true);

    // Once finished, each goes server.batchTtlMs later.
    await pollUntil('the long batch to finish', () => status(long), (body) => body.status === 'done', { timeoutMs: 240_000, intervalMs: 250 });
    await pollUntil('both batches to expire', async () => [await exists(batchDir(long)), await exists(batchDir(queued))], (present) => present.every((p) => !p), { timeoutMs: 20_000 });
    expect((await api('get', `/api/batches/${long}`).expect(404)).body.error.code).toBe('BATCH_NOT_FOUND');
  }, 300_000);
});
